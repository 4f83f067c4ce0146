/**
 * The one place tidewatch spells its names: the normalized log event, reject codes, stream, table,
 * measure, dimension and metric names. Processors, infra (Pulumi), dashboards and the local DuckDB
 * store all import from here, so a rename is one edit and a typo is a type error.
 *
 * This module is pure data and types: it imports nothing and reads no environment.
 */

/** Severity levels, numbered as pino and Bunyan number them (the de-facto scale for JSON logs). */
export const Level = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
} as const;
export type LevelName = keyof typeof Level;
export type LevelNumber = (typeof Level)[LevelName];

/**
 * A log line after decoding and parsing, whatever format it arrived in.
 *
 * @example
 * const e: LogEvent = { timeMs: 1_700_000_000_000, service: 'checkout', level: 'error',
 *   message: 'payment declined', status: 502, durationMs: 812, route: '/pay' };
 */
export interface LogEvent {
  /** Event time in milliseconds since the Unix epoch, taken from the log line. */
  timeMs: number;
  service: string;
  level: LevelName;
  message: string;
  /** HTTP response status, when the line is an access log or carries one. */
  status?: number;
  /** Request or operation duration in milliseconds. */
  durationMs?: number;
  route?: string;
  traceId?: string;
  /** Everything else the line carried, kept for rules and for the archive. */
  attributes?: Record<string, unknown>;
}

/**
 * Low-cardinality reasons a record or event is not turned into metrics. Every reject is counted
 * under one of these codes and its raw bytes are written to the archive's error prefix
 * (DESIGN.md §3). Adding a code is fine; reusing one for a different meaning is not.
 */
export const RejectCode = {
  invalidJson: 'invalid_json',
  notUtf8: 'not_utf8',
  kplChecksumMismatch: 'kpl_checksum_mismatch',
  kplMalformed: 'kpl_malformed',
  gzipCorrupt: 'gzip_corrupt',
  cloudwatchMalformed: 'cloudwatch_malformed',
  /** A Kinesis event record whose `data` is not valid base64 (never from Lambda; local runners, replays). */
  invalidBase64: 'invalid_base64',
  /** An OTLP/JSON logs export whose `resourceLogs` / `scopeLogs` / `logRecords` are not what the spec says. */
  otlpMalformed: 'otlp_malformed',
  missingTimestamp: 'missing_timestamp',
  invalidTimestamp: 'invalid_timestamp',
  oversized: 'oversized',
  empty: 'empty',
  late: 'late',
  timestreamRejected: 'timestream_rejected',
  archiveRejected: 'archive_rejected',
  /** SNS refused an alert for a reason retrying cannot fix (topic missing, no permission, invalid parameter). */
  alertRejected: 'alert_rejected',
  partialMalformed: 'partial_malformed',
} as const;
export type RejectCodeName = (typeof RejectCode)[keyof typeof RejectCode];

/**
 * Per-record outcome of a stage (DESIGN.md §3). Only `retry` parents are reported to Lambda in
 * `batchItemFailures`; a `reject` is permanent, archived and counted.
 */
export type Outcome<T> =
  | { readonly kind: 'ok'; readonly value: T }
  | { readonly kind: 'retry'; readonly reason: string }
  | { readonly kind: 'reject'; readonly code: RejectCodeName; readonly detail?: string };

/** Default resource names; infra and the embedded mode prefix or override them from config. */
export const Names = {
  logsStream: 'tidewatch-logs',
  metricsStream: 'tidewatch-metrics',
  archiveDeliveryStream: 'tidewatch-archive',
  /**
   * Firehose delivery stream for rejected input (raw bytes + reject code envelopes). Its S3 prefix is
   * `ArchivePrefix.errors`; a second stream keeps routing out of Firehose dynamic partitioning.
   */
  archiveErrorDeliveryStream: 'tidewatch-archive-errors',
  alertTopic: 'tidewatch-alerts',
  stateTable: 'tidewatch-state',
  timestreamDatabase: 'tidewatch',
  /** One multi-measure record per series·window. */
  windowsTable: 'windows',
  /** One multi-measure record per processor invocation: the pipeline's own health. */
  pipelineTable: 'pipeline',
  /** Lambda function of the ingest stage (logs stream → partials + archive). */
  ingestFunction: 'tidewatch-ingest',
  /** Lambda function of the detect stage (metrics stream → Timestream, state, alerts). */
  detectFunction: 'tidewatch-detect',
} as const;

/** S3 / archive-directory prefixes the Firehose delivery stream writes under. */
export const ArchivePrefix = {
  logs: 'logs/',
  errors: 'errors/',
  /** Firehose's own `ErrorOutputPrefix`: records Firehose itself failed to deliver (not our rejects). */
  deliveryFailures: 'delivery-failures/',
  /** Timestream magnetic-store rejected-data reports (asynchronous rejects, AWS writes them). */
  timestreamRejected: 'timestream-rejected/',
} as const;

/** Dimension names of the windows table. `service` is always present; the others when configured. */
export const Dimension = {
  service: 'service',
  route: 'route',
  statusClass: 'status_class',
  windowMs: 'window_ms',
  /** pipeline table */
  stage: 'stage',
  shard: 'shard',
} as const;
export type DimensionName = (typeof Dimension)[keyof typeof Dimension];

/** The measure name of the multi-measure records in the windows table. */
export const WindowMeasureName = 'window';
/** The measure name of the multi-measure records in the pipeline table. */
export const PipelineMeasureName = 'health';

/** Timestream measure value types we use. */
export type MeasureType = 'DOUBLE' | 'BIGINT';

/** Measures of one series·window record (Timestream multi-measure record, `WindowMeasureName`). */
export const Measure = {
  count: { name: 'count', type: 'BIGINT' },
  errors: { name: 'errors', type: 'BIGINT' },
  status4xx: { name: 'status_4xx', type: 'BIGINT' },
  status5xx: { name: 'status_5xx', type: 'BIGINT' },
  bytes: { name: 'bytes', type: 'BIGINT' },
  eventRate: { name: 'event_rate_per_s', type: 'DOUBLE' },
  errorRate: { name: 'error_rate', type: 'DOUBLE' },
  latencyCount: { name: 'latency_count', type: 'BIGINT' },
  latencySumMs: { name: 'latency_sum_ms', type: 'DOUBLE' },
  latencyMinMs: { name: 'latency_min_ms', type: 'DOUBLE' },
  latencyMaxMs: { name: 'latency_max_ms', type: 'DOUBLE' },
  latencyP50Ms: { name: 'latency_p50_ms', type: 'DOUBLE' },
  latencyP90Ms: { name: 'latency_p90_ms', type: 'DOUBLE' },
  latencyP99Ms: { name: 'latency_p99_ms', type: 'DOUBLE' },
  anomalyScore: { name: 'anomaly_score', type: 'DOUBLE' },
  expectedLow: { name: 'expected_low', type: 'DOUBLE' },
  expectedHigh: { name: 'expected_high', type: 'DOUBLE' },
  alerting: { name: 'alerting', type: 'BIGINT' },
} as const satisfies Record<string, { name: string; type: MeasureType }>;
export type MeasureName = (typeof Measure)[keyof typeof Measure]['name'];

/** Measures of the pipeline-health table (`PipelineMeasureName`). */
export const PipelineMeasure = {
  records: { name: 'records', type: 'BIGINT' },
  events: { name: 'events', type: 'BIGINT' },
  bytes: { name: 'bytes', type: 'BIGINT' },
  rejected: { name: 'rejected', type: 'BIGINT' },
  late: { name: 'late', type: 'BIGINT' },
  retried: { name: 'retried', type: 'BIGINT' },
  iteratorAgeMs: { name: 'iterator_age_ms', type: 'DOUBLE' },
  archiveFailed: { name: 'archive_failed', type: 'BIGINT' },
  timestreamRejected: { name: 'timestream_rejected', type: 'BIGINT' },
  durationMs: { name: 'duration_ms', type: 'DOUBLE' },
} as const satisfies Record<string, { name: string; type: MeasureType }>;

/**
 * The series metrics detectors score and alert rules refer to. Each maps to the measure it reads.
 * Default scored set: error rate, event rate and latency p99 per service (issue: anomaly detection).
 */
export const Metric = {
  errorRate: 'error_rate',
  eventRate: 'event_rate',
  latencyP99: 'latency_p99',
} as const;
export type MetricName = (typeof Metric)[keyof typeof Metric];

export const MetricMeasure: Readonly<Record<MetricName, MeasureName>> = {
  error_rate: Measure.errorRate.name,
  event_rate: Measure.eventRate.name,
  latency_p99: Measure.latencyP99Ms.name,
};

/** Window defaults (ms). Bounds from the windows issue: 1 s to 15 min. */
export const WindowDefaults = {
  windowMs: 10_000,
  minWindowMs: 1_000,
  maxWindowMs: 15 * 60_000,
  allowedLatenessMs: 30_000,
  /** A source (shard) silent this long stops holding the watermark back (Flink `withIdleness`). */
  idleSourceTimeoutMs: 60_000,
} as const;

/** Fixed local ports of the embedded mode (`tidewatch start`). */
export const LocalPorts = {
  kinesis: 4567,
  dynamodb: 4568,
  timestream: 4569,
  firehose: 4570,
  sns: 4571,
  dashboard: 4580,
} as const;

/**
 * Environment variables the Lambda handlers read (and infra/ sets). Endpoints for local mode use the
 * AWS SDK's own `AWS_ENDPOINT_URL_<SERVICE>` variables; Timestream's is passed to the client
 * explicitly because only an explicit `endpoint` skips endpoint discovery.
 */
export const EnvVar = {
  logsStream: 'TW_LOGS_STREAM',
  metricsStream: 'TW_METRICS_STREAM',
  archiveDeliveryStream: 'TW_ARCHIVE_DELIVERY_STREAM',
  archiveErrorDeliveryStream: 'TW_ARCHIVE_ERROR_DELIVERY_STREAM',
  alertTopicArn: 'TW_ALERT_TOPIC_ARN',
  stateTable: 'TW_STATE_TABLE',
  timestreamDatabase: 'TW_TIMESTREAM_DATABASE',
  windowsTable: 'TW_WINDOWS_TABLE',
  pipelineTable: 'TW_PIPELINE_TABLE',
  windowMs: 'TW_WINDOW_MS',
  allowedLatenessMs: 'TW_ALLOWED_LATENESS_MS',
  idleSourceTimeoutMs: 'TW_IDLE_SOURCE_TIMEOUT_MS',
  /** JSON: series dimensions, log-to-metric rules, field mappings, detector and alert rules. */
  config: 'TW_CONFIG',
  dashboardUrlTemplate: 'TW_DASHBOARD_URL_TEMPLATE',
  timestreamEndpoint: 'AWS_ENDPOINT_URL_TIMESTREAM_WRITE',
} as const;

/**
 * Key schema of the DynamoDB state table (`Names.stateTable`): one string hash key `pk` holding
 * `<kind>#<key>`, no sort key, on-demand billing; `expiresAt` (epoch seconds) is the TTL attribute.
 * Infra creates the table with exactly these names; `processors/sinks/dynamoDbStateStore.ts` reads them.
 */
export const StateTable = {
  partitionKey: 'pk',
  ttlAttribute: 'expiresAt',
} as const;
