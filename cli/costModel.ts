/**
 * Monthly AWS cost model for a tidewatch deployment, from a daily log volume. Pure arithmetic: every
 * price is an input (defaults below, us-east-1 list prices as published on the AWS pricing pages),
 * and the Lambda compute comes from the throughput `npm run bench` measured, so the estimate moves
 * when the code gets faster.
 */

/** Prices in USD. Override any of them with `tidewatch cost --price key=value`. */
export const DefaultPrices = {
  /** Kinesis Data Streams on-demand: per stream-hour. */
  kinesisOnDemandStreamHour: 0.04,
  /** Kinesis on-demand: per GB written (data in). */
  kinesisOnDemandGbIn: 0.08,
  /** Kinesis on-demand: per GB read by a standard (non-EFO) consumer. */
  kinesisOnDemandGbOut: 0.04,
  /** Kinesis provisioned: per shard-hour. */
  kinesisShardHour: 0.015,
  /** Kinesis provisioned: per million PUT payload units (25 KB each). */
  kinesisPutUnitsPerMillion: 0.014,
  /** Lambda arm64: per GB-second. */
  lambdaArmGbSecond: 0.0000133334,
  /** Lambda: per million requests. */
  lambdaRequestsPerMillion: 0.2,
  /** Firehose Direct PUT: per GB ingested, each record rounded up to 5 KB. */
  firehoseGb: 0.029,
  /** S3 Standard: per GB-month stored. */
  s3GbMonth: 0.023,
  /** S3: per thousand PUT requests. */
  s3PutPerThousand: 0.005,
  /** Timestream for LiveAnalytics: per million 1 KB writes. */
  timestreamWritesPerMillion: 0.5,
  /** Timestream memory store: per GB-hour. */
  timestreamMemoryGbHour: 0.036,
  /** Timestream magnetic store: per GB-month. */
  timestreamMagneticGbMonth: 0.03,
  /** DynamoDB on-demand: per million write request units. */
  dynamodbWritesPerMillion: 0.625,
  /** DynamoDB on-demand: per million read request units. */
  dynamodbReadsPerMillion: 0.125,
  /** SNS: per million publishes. */
  snsPublishesPerMillion: 0.5,
} as const;
export type PriceKey = keyof typeof DefaultPrices;
export type Prices = Record<PriceKey, number>;

export interface CostInputs {
  gbPerDay: number;
  services: number;
  windowMs: number;
  /** Average log line size in bytes (sets record counts). */
  avgLineBytes: number;
  /** Ingest throughput of one vCPU in MB/s (from `npm run bench`, case `ingest`). */
  ingestMbPerSecPerVcpu: number;
  /** Detect cost per series·window in microseconds (from `npm run bench`, case `detect`). */
  detectUsPerSeriesWindow: number;
  /** Lambda memory in MB; 1,769 MB buys one full vCPU (Lambda docs, "Memory and computing power"). */
  lambdaMemoryMb: number;
  /** Lambda batch size in records. */
  batchRecords: number;
  kinesisMode: 'on-demand' | 'provisioned';
  /** Days raw logs stay in S3 (bucket lifecycle). */
  archiveRetentionDays: number;
  /** gzip ratio of NDJSON logs (compressed / raw). */
  gzipRatio: number;
  /** Hours metrics stay in the Timestream memory store. */
  memoryRetentionHours: number;
  /** Alerts per day (SNS). */
  alertsPerDay: number;
  prices: Prices;
}

export interface CostLine {
  component: string;
  monthlyUsd: number;
  basis: string;
}

const DAYS_PER_MONTH = 30;
const SECONDS_PER_DAY = 86_400;
const BYTES_PER_GB = 1e9;
/** Firehose rounds each record up to the next 5 KB for billing (Firehose pricing page). */
const FIREHOSE_BILLING_STEP_BYTES = 5 * 1024;
/** Our archiver packs NDJSON into records of up to ~1,000 KiB (Firehose per-record limit). */
const ARCHIVE_RECORD_BYTES = 1000 * 1024;
/** Kinesis provisioned shard write limit: 1 MiB/s (Kinesis quotas). Keep 30 % headroom. */
const SHARD_WRITE_BYTES_PER_SEC = 1024 * 1024 * 0.7;
/** KPL aggregates are ~1 MiB at high volume; PUT payload units are 25 KB. */
const PUT_PAYLOAD_UNIT_BYTES = 25 * 1024;
/** A multi-measure series·window record is well under 1 KB, so one Timestream write unit. */
const TIMESTREAM_RECORD_BYTES = 600;
/** Lambda's 6 MB synchronous payload holds ~4.5 MB of record data once base64-encoded. */
const LAMBDA_PAYLOAD_DATA_BYTES = 4.5e6;

/**
 * Estimates the monthly cost per component.
 *
 * @example
 * const lines = estimateMonthlyCost({ ...defaultCostInputs(), gbPerDay: 1000, services: 200 });
 * const total = lines.reduce((s, l) => s + l.monthlyUsd, 0);
 */
export function estimateMonthlyCost(inputs: CostInputs): CostLine[] {
  const p = inputs.prices;
  const bytesPerDay = inputs.gbPerDay * BYTES_PER_GB;
  const gbPerMonth = inputs.gbPerDay * DAYS_PER_MONTH;
  const linesPerDay = bytesPerDay / inputs.avgLineBytes;
  const avgBytesPerSec = bytesPerDay / SECONDS_PER_DAY;
  const hoursPerMonth = DAYS_PER_MONTH * 24;
  const lines: CostLine[] = [];

  if (inputs.kinesisMode === 'on-demand') {
    // Two streams (logs, metrics); the metrics stream's bytes are negligible next to the logs.
    const monthly =
      2 * hoursPerMonth * p.kinesisOnDemandStreamHour +
      gbPerMonth * p.kinesisOnDemandGbIn +
      gbPerMonth * p.kinesisOnDemandGbOut;
    lines.push({
      component: 'Kinesis Data Streams (on-demand)',
      monthlyUsd: monthly,
      basis: `${fmt(gbPerMonth)} GB in and out, 2 streams`,
    });
  } else {
    // Peak ≈ 2 × average for daily-cycle traffic; size shards for the peak.
    const shards = Math.max(1, Math.ceil((2 * avgBytesPerSec) / SHARD_WRITE_BYTES_PER_SEC)) + 1;
    const putUnits = (bytesPerDay / PUT_PAYLOAD_UNIT_BYTES) * DAYS_PER_MONTH;
    lines.push({
      component: 'Kinesis Data Streams (provisioned)',
      monthlyUsd:
        shards * hoursPerMonth * p.kinesisShardHour + (putUnits / 1e6) * p.kinesisPutUnitsPerMillion,
      basis: `${shards} shards (logs sized for 2× average, +1 metrics), ${fmt(putUnits / 1e6)} M PUT units`,
    });
  }

  const vcpuFraction = Math.min(1, inputs.lambdaMemoryMb / 1769);
  const ingestSecondsPerDay = bytesPerDay / 1e6 / (inputs.ingestMbPerSecPerVcpu * vcpuFraction);
  const windowsPerDay = (SECONDS_PER_DAY * 1000) / inputs.windowMs;
  const detectSecondsPerDay =
    (inputs.services * windowsPerDay * inputs.detectUsPerSeriesWindow) / 1e6 / vcpuFraction;
  const gbSeconds =
    (ingestSecondsPerDay + detectSecondsPerDay) * (inputs.lambdaMemoryMb / 1024) * DAYS_PER_MONTH;
  // Ingest invocations are bounded by the batch size and by Lambda's 6 MB event payload (base64
  // inflates by 4/3, so ~4.5 MB of record data per invocation); detect runs about once per window per shard.
  const ingestInvocationsPerDay = Math.max(
    linesPerDay / inputs.batchRecords,
    bytesPerDay / LAMBDA_PAYLOAD_DATA_BYTES,
  );
  const invocations = (ingestInvocationsPerDay + windowsPerDay * 2) * DAYS_PER_MONTH;
  lines.push({
    component: 'Lambda (ingest + detect, arm64)',
    monthlyUsd: gbSeconds * p.lambdaArmGbSecond + (invocations / 1e6) * p.lambdaRequestsPerMillion,
    basis: `${fmt(gbSeconds)} GB-s at ${inputs.ingestMbPerSecPerVcpu} MB/s per vCPU, ${fmt(invocations / 1e6)} M invocations`,
  });

  const archiveRecordsPerMonth = Math.ceil(bytesPerDay / ARCHIVE_RECORD_BYTES) * DAYS_PER_MONTH;
  const billedBytes =
    Math.ceil(ARCHIVE_RECORD_BYTES / FIREHOSE_BILLING_STEP_BYTES) *
    FIREHOSE_BILLING_STEP_BYTES *
    archiveRecordsPerMonth;
  lines.push({
    component: 'Kinesis Data Firehose (archive)',
    monthlyUsd: (billedBytes / BYTES_PER_GB) * p.firehoseGb,
    basis: `${fmt(archiveRecordsPerMonth / 1e6)} M packed records, billed ${fmt(billedBytes / BYTES_PER_GB)} GB after 5 KB rounding`,
  });

  const storedGb = inputs.gbPerDay * inputs.gzipRatio * inputs.archiveRetentionDays;
  // Firehose writes one object per buffer flush; 128 MiB buffers at high volume.
  const objectsPerMonth = Math.ceil((bytesPerDay * inputs.gzipRatio) / (128 * 1024 * 1024)) * DAYS_PER_MONTH;
  lines.push({
    component: 'S3 (archive storage)',
    monthlyUsd: storedGb * p.s3GbMonth + (objectsPerMonth / 1000) * p.s3PutPerThousand,
    basis: `${fmt(storedGb)} GB stored (${inputs.archiveRetentionDays} d, gzip ×${inputs.gzipRatio})`,
  });

  const writesPerMonth = inputs.services * windowsPerDay * DAYS_PER_MONTH * 1.05; // +5 % corrections
  const memoryGb =
    (inputs.services * windowsPerDay * TIMESTREAM_RECORD_BYTES * inputs.memoryRetentionHours) /
    24 /
    BYTES_PER_GB;
  const magneticGb = (inputs.services * windowsPerDay * TIMESTREAM_RECORD_BYTES * 365) / BYTES_PER_GB;
  lines.push({
    component: 'Timestream for LiveAnalytics',
    monthlyUsd:
      (writesPerMonth / 1e6) * p.timestreamWritesPerMillion +
      memoryGb * hoursPerMonth * p.timestreamMemoryGbHour +
      magneticGb * p.timestreamMagneticGbMonth,
    basis: `${fmt(writesPerMonth / 1e6)} M writes, ${fmt(memoryGb)} GB memory store, ${fmt(magneticGb)} GB magnetic (1 y)`,
  });

  // Detect checkpoints state once per invocation per metrics shard, in ≤ 1 KB items per series batch.
  const stateWrites = windowsPerDay * DAYS_PER_MONTH * Math.max(1, Math.ceil(inputs.services / 25));
  lines.push({
    component: 'DynamoDB (state)',
    monthlyUsd: (stateWrites / 1e6) * (p.dynamodbWritesPerMillion + p.dynamodbReadsPerMillion),
    basis: `${fmt(stateWrites / 1e6)} M writes and reads`,
  });

  const publishes = inputs.alertsPerDay * DAYS_PER_MONTH;
  lines.push({
    component: 'SNS (alerts)',
    monthlyUsd: (publishes / 1e6) * p.snsPublishesPerMillion,
    basis: `${fmt(publishes)} publishes`,
  });
  return lines;
}

/** Defaults for everything but the volume; the CLI fills throughput from the last benchmark. */
export function defaultCostInputs(): CostInputs {
  return {
    gbPerDay: 1000,
    services: 100,
    windowMs: 10_000,
    avgLineBytes: 1024,
    ingestMbPerSecPerVcpu: 50,
    detectUsPerSeriesWindow: 20,
    lambdaMemoryMb: 1769,
    batchRecords: 1000,
    kinesisMode: 'on-demand',
    archiveRetentionDays: 30,
    gzipRatio: 0.12,
    memoryRetentionHours: 24,
    alertsPerDay: 50,
    prices: { ...DefaultPrices },
  };
}

function fmt(n: number): string {
  if (n >= 100) return Math.round(n).toLocaleString('en-US');
  return n.toFixed(n >= 10 ? 1 : 2);
}
