/**
 * Stack configuration: the defaults (mirrored in `Pulumi.yaml`, a test keeps the two equal), the
 * typed view the components take, and the validation that turns a bad value into a message naming
 * the key and the accepted range before AWS would reject it halfway through `pulumi up`.
 *
 * Pure: reads only the `ConfigSource` it is given (a `pulumi.Config` in the program, a map in tests).
 */
import { Names, WindowDefaults } from '../processors/schema.ts';
import { InfraConfigError } from './errors.ts';

/** Kinesis capacity modes (`StreamModeDetails.StreamMode`). */
export const StreamMode = {
  onDemand: 'ON_DEMAND',
  provisioned: 'PROVISIONED',
} as const;
export type StreamModeName = (typeof StreamMode)[keyof typeof StreamMode];

/** Lambda runtimes we deploy on; nodejs20.x is deprecated from 2026-04-30 (DESIGN.md §4). */
export const LambdaRuntime = {
  nodejs22: 'nodejs22.x',
  nodejs24: 'nodejs24.x',
} as const;
export type LambdaRuntimeName = (typeof LambdaRuntime)[keyof typeof LambdaRuntime];

/**
 * Retention values CloudWatch Logs accepts for `retentionInDays`
 * (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html).
 */
export const LogRetentionDays = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/**
 * Every config key of the project and its default. `Pulumi.yaml` declares the same keys with the same
 * defaults (so `pulumi up` on a new stack needs no config); `test/infra/config.test.ts` fails if they
 * drift. Window settings default to `WindowDefaults` from `processors/schema.ts`.
 */
export const ConfigDefaults = {
  /** Appended to every resource name (`tidewatch-logs-<suffix>`) so several stacks share an account. */
  nameSuffix: '',
  streamMode: StreamMode.onDemand,
  /** Shards of the logs stream in PROVISIONED mode (1 MiB/s and 1,000 records/s each). */
  logsShardCount: 2,
  metricsShardCount: 1,
  /** Kinesis retention; also the time left to replay a batch named by an on-failure record. */
  streamRetentionHours: 24,
  lambdaRuntime: LambdaRuntime.nodejs22,
  ingestMemoryMb: 1024,
  detectMemoryMb: 1024,
  ingestTimeoutSeconds: 60,
  detectTimeoutSeconds: 60,
  logRetentionDays: 30,
  ingestBatchSize: 1000,
  ingestBatchingWindowSeconds: 1,
  ingestParallelizationFactor: 1,
  detectBatchSize: 1000,
  detectBatchingWindowSeconds: 1,
  detectParallelizationFactor: 1,
  /** Bounded: with -1 (the AWS default) a poison record blocks its shard until it expires. */
  maxRetryAttempts: 5,
  maxRecordAgeSeconds: 3600,
  windowMs: WindowDefaults.windowMs,
  allowedLatenessMs: WindowDefaults.allowedLatenessMs,
  idleSourceTimeoutMs: WindowDefaults.idleSourceTimeoutMs,
  /** JSON handed to the handlers as `TW_CONFIG` (dimensions, rules, detectors); `{}` = built-in defaults. */
  processorConfig: '{}',
  dashboardUrlTemplate: '',
  timestreamMemoryRetentionHours: 24,
  timestreamMagneticRetentionDays: 365,
  archiveBufferingSizeMb: 64,
  archiveBufferingIntervalSeconds: 60,
  /** Days before archived objects move to S3 Standard-IA; 0 = never. */
  archiveTransitionDays: 30,
  archiveExpirationDays: 365,
  alertEmails: [] as readonly string[],
  alertHttpsEndpoints: [] as readonly string[],
  alarmIteratorAgeMs: 60_000,
  'grafana.enabled': false,
  /** `workspace` (Amazon Managed Grafana), `existing` (your Grafana at `grafana.url`) or `json` (outputs only). */
  'grafana.mode': 'workspace',
  /**
   * Base URL of an existing Grafana (mode `existing`). Its token is the secret `grafana.auth`, read
   * by index.ts with `requireSecret` and deliberately absent here: a secret has no plain-text default.
   */
  'grafana.url': '',
} as const;
export type ConfigKey = keyof typeof ConfigDefaults;

/** Where the dashboards go when `grafana.enabled` (infra/Dashboards.ts `DashboardsMode`). */
export const GrafanaMode = { workspace: 'workspace', existing: 'existing', json: 'json' } as const;
export type GrafanaModeName = (typeof GrafanaMode)[keyof typeof GrafanaMode];

/** What `readStackConfig` needs from a config bag; `pulumi.Config` satisfies it. */
export interface ConfigSource {
  get(key: string): string | undefined;
  getNumber(key: string): number | undefined;
  getBoolean(key: string): boolean | undefined;
  getObject<T>(key: string): T | undefined;
}

/** Physical names of the stack's resources: `processors/schema.ts` `Names` plus the name suffix. */
export interface ResourceNames {
  logsStream: string;
  metricsStream: string;
  archiveDeliveryStream: string;
  archiveErrorDeliveryStream: string;
  alertTopic: string;
  stateTable: string;
  timestreamDatabase: string;
  windowsTable: string;
  pipelineTable: string;
  ingestFunction: string;
  detectFunction: string;
  /** Infra-only names, derived here so they are spelled once. */
  ingestFailureQueue: string;
  detectFailureQueue: string;
  keyAlias: string;
  producerPolicy: string;
  /** Amazon Managed Grafana workspace (config `grafana.enabled`). */
  grafanaWorkspace: string;
}

/** Settings of one Lambda function and its Kinesis event source mapping. */
export interface ProcessorSettings {
  memoryMb: number;
  timeoutSeconds: number;
  batchSize: number;
  batchingWindowSeconds: number;
  parallelizationFactor: number;
}

/** The validated, typed stack configuration the components are built from. */
export interface StackConfig {
  names: ResourceNames;
  streams: {
    mode: StreamModeName;
    logsShardCount: number;
    metricsShardCount: number;
    retentionHours: number;
  };
  lambda: { runtime: LambdaRuntimeName; logRetentionDays: number };
  ingest: ProcessorSettings;
  detect: ProcessorSettings;
  failureHandling: { maxRetryAttempts: number; maxRecordAgeSeconds: number };
  processing: {
    windowMs: number;
    allowedLatenessMs: number;
    idleSourceTimeoutMs: number;
    /** Canonical JSON (re-serialized after parsing). */
    processorConfigJson: string;
    dashboardUrlTemplate: string;
  };
  timestream: { memoryRetentionHours: number; magneticRetentionDays: number };
  archive: {
    bufferingSizeMb: number;
    bufferingIntervalSeconds: number;
    transitionDays: number;
    expirationDays: number;
  };
  alerts: { emails: string[]; httpsEndpoints: string[]; iteratorAgeMs: number };
  grafana: { enabled: boolean; mode: GrafanaModeName; url: string };
}

/** The stem of infra-only names (KMS alias, producer policy); the project name in `Pulumi.yaml`. */
const stem = 'tidewatch';

/**
 * Resource names for a name suffix: `''` gives exactly `Names` from `processors/schema.ts`.
 *
 * @example
 * resourceNames('dev').logsStream; // 'tidewatch-logs-dev'
 */
export function resourceNames(suffix: string): ResourceNames {
  const s = suffix === '' ? '' : `-${suffix}`;
  const ingestFunction = Names.ingestFunction + s;
  const detectFunction = Names.detectFunction + s;
  return {
    logsStream: Names.logsStream + s,
    metricsStream: Names.metricsStream + s,
    archiveDeliveryStream: Names.archiveDeliveryStream + s,
    archiveErrorDeliveryStream: Names.archiveErrorDeliveryStream + s,
    alertTopic: Names.alertTopic + s,
    stateTable: Names.stateTable + s,
    timestreamDatabase: Names.timestreamDatabase + s,
    // Tables live inside the database, so they keep their schema names in every stack.
    windowsTable: Names.windowsTable,
    pipelineTable: Names.pipelineTable,
    ingestFunction,
    detectFunction,
    ingestFailureQueue: `${ingestFunction}-failures`,
    detectFailureQueue: `${detectFunction}-failures`,
    keyAlias: `alias/${stem}${s}`,
    producerPolicy: `${stem}-producer${s}`,
    grafanaWorkspace: `${stem}${s}`,
  };
}

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const HTTPS_URL = /^https:\/\/[^\s]+$/;
// Lowercase so the suffix is also valid in S3 bucket names (the archive bucket's logical name).
const SUFFIX = /^[a-z0-9-]{0,16}$/;

/**
 * Reads and validates the stack configuration, applying `ConfigDefaults` for unset keys.
 * Throws `InfraConfigError` naming the key and the accepted range.
 *
 * @example
 * const cfg = readStackConfig(new pulumi.Config());
 * cfg.names.logsStream; // 'tidewatch-logs'
 */
export function readStackConfig(source: ConfigSource): StackConfig {
  const int = (key: ConfigKey, min: number, max: number): number => {
    const fallback = ConfigDefaults[key] as number;
    const v = source.getNumber(key) ?? fallback;
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new InfraConfigError(key, v, `an integer from ${min} to ${max}`);
    }
    return v;
  };
  const oneOf = <T extends string>(key: ConfigKey, allowed: readonly T[]): T => {
    const v = source.get(key) ?? (ConfigDefaults[key] as string);
    if (!(allowed as readonly string[]).includes(v)) {
      throw new InfraConfigError(key, v, `one of ${allowed.join(', ')}`);
    }
    return v as T;
  };
  const strings = (key: ConfigKey, pattern: RegExp, what: string): string[] => {
    const v = source.getObject<unknown>(key) ?? [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && pattern.test(x))) {
      throw new InfraConfigError(key, v, `a list of ${what}`);
    }
    return v as string[];
  };

  const nameSuffix = source.get('nameSuffix') ?? ConfigDefaults.nameSuffix;
  if (!SUFFIX.test(nameSuffix)) {
    throw new InfraConfigError('nameSuffix', nameSuffix, 'up to 16 characters of a-z, 0-9 and -');
  }

  const retentionHours = int('streamRetentionHours', 24, 8760);
  // Lambda accepts -1 (forever) up to 10,000 retries and -1 or 60..604,800 s of record age
  // (https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-parameters.html); we refuse the
  // unbounded -1 so one poison record cannot block a shard for the stream's whole retention.
  const maxRetryAttempts = int('maxRetryAttempts', 0, 10_000);
  const maxRecordAgeSeconds = int('maxRecordAgeSeconds', 60, 604_800);
  if (maxRecordAgeSeconds >= retentionHours * 3600) {
    // The on-failure record only names shard and sequence numbers; the data must still be in the
    // stream when someone replays it.
    throw new InfraConfigError(
      'maxRecordAgeSeconds',
      maxRecordAgeSeconds,
      `less than streamRetentionHours × 3600 = ${retentionHours * 3600}, so discarded batches can be replayed`,
    );
  }

  // Lambda accepts a ParallelizationFactor of 1-10, but both stages keep per-shard state: ingest's
  // write-ahead intents and the sequence ranges partials carry, detect's shard checkpoint. Concurrent
  // batches of one shard would overlap ranges and race the checkpoint, breaking exactly-once
  // (docs/windows.md, "Exactly-once effect"); scale out with shards instead.
  const parallelizationFactor = (key: ConfigKey): number => {
    const v = int(key, 1, 10);
    if (v !== 1) {
      throw new InfraConfigError(
        key,
        v,
        '1 (per-shard state needs one batch in flight per shard; add shards to scale out)',
      );
    }
    return v;
  };
  const processor = (stage: 'ingest' | 'detect'): ProcessorSettings => ({
    memoryMb: int(`${stage}MemoryMb`, 128, 10_240),
    timeoutSeconds: int(`${stage}TimeoutSeconds`, 1, 900),
    batchSize: int(`${stage}BatchSize`, 1, 10_000),
    batchingWindowSeconds: int(`${stage}BatchingWindowSeconds`, 0, 300),
    parallelizationFactor: parallelizationFactor(`${stage}ParallelizationFactor`),
  });

  const logRetentionDays = int('logRetentionDays', 1, 3653);
  if (!(LogRetentionDays as readonly number[]).includes(logRetentionDays)) {
    throw new InfraConfigError('logRetentionDays', logRetentionDays, `one of ${LogRetentionDays.join(', ')}`);
  }

  const processorConfigRaw = source.get('processorConfig') ?? ConfigDefaults.processorConfig;
  let processorConfig: unknown;
  try {
    processorConfig = JSON.parse(processorConfigRaw);
  } catch (cause) {
    throw new InfraConfigError('processorConfig', processorConfigRaw, 'a JSON object', { cause });
  }
  if (processorConfig === null || typeof processorConfig !== 'object' || Array.isArray(processorConfig)) {
    throw new InfraConfigError('processorConfig', processorConfigRaw, 'a JSON object');
  }

  const timestreamMemoryRetentionHours = int('timestreamMemoryRetentionHours', 1, 8766);
  const expirationDays = int('archiveExpirationDays', 1, 36_500);
  const transitionDays = int('archiveTransitionDays', 0, 36_500);
  // S3 Standard-IA needs objects at least 30 days old, and expiry must come after the transition.
  if (transitionDays !== 0 && (transitionDays < 30 || transitionDays >= expirationDays)) {
    throw new InfraConfigError(
      'archiveTransitionDays',
      transitionDays,
      `0 (no transition) or 30 to ${expirationDays - 1} (less than archiveExpirationDays)`,
    );
  }

  const grafanaEnabled = source.getBoolean('grafana.enabled') ?? ConfigDefaults['grafana.enabled'];
  const grafanaMode = oneOf('grafana.mode', Object.values(GrafanaMode));
  const grafanaUrl = source.get('grafana.url') ?? ConfigDefaults['grafana.url'];
  if (grafanaEnabled && grafanaMode === GrafanaMode.existing && !/^https?:\/\/[^\s/]+/.test(grafanaUrl)) {
    throw new InfraConfigError(
      'grafana.url',
      grafanaUrl,
      "the http(s) URL of your Grafana when grafana.mode is 'existing' (and its token: pulumi config set --secret grafana.auth ...)",
    );
  }
  const grafana = { enabled: grafanaEnabled, mode: grafanaMode, url: grafanaUrl };
  return {
    names: resourceNames(nameSuffix),
    streams: {
      mode: oneOf('streamMode', Object.values(StreamMode)),
      logsShardCount: int('logsShardCount', 1, 10_000),
      metricsShardCount: int('metricsShardCount', 1, 10_000),
      retentionHours,
    },
    lambda: { runtime: oneOf('lambdaRuntime', Object.values(LambdaRuntime)), logRetentionDays },
    ingest: processor('ingest'),
    detect: processor('detect'),
    failureHandling: { maxRetryAttempts, maxRecordAgeSeconds },
    processing: {
      windowMs: int('windowMs', WindowDefaults.minWindowMs, WindowDefaults.maxWindowMs),
      allowedLatenessMs: int('allowedLatenessMs', 0, timestreamMemoryRetentionHours * 3_600_000),
      idleSourceTimeoutMs: int('idleSourceTimeoutMs', 1_000, 86_400_000),
      processorConfigJson: JSON.stringify(processorConfig),
      dashboardUrlTemplate: source.get('dashboardUrlTemplate') ?? ConfigDefaults.dashboardUrlTemplate,
    },
    timestream: {
      memoryRetentionHours: timestreamMemoryRetentionHours,
      magneticRetentionDays: int('timestreamMagneticRetentionDays', 1, 73_000),
    },
    archive: {
      // Firehose S3 buffering hints: 1–128 MiB and 0–900 s
      // (https://docs.aws.amazon.com/firehose/latest/APIReference/API_BufferingHints.html).
      bufferingSizeMb: int('archiveBufferingSizeMb', 1, 128),
      bufferingIntervalSeconds: int('archiveBufferingIntervalSeconds', 0, 900),
      transitionDays,
      expirationDays,
    },
    alerts: {
      emails: strings('alertEmails', EMAIL, 'email addresses'),
      httpsEndpoints: strings('alertHttpsEndpoints', HTTPS_URL, 'https:// URLs'),
      iteratorAgeMs: int('alarmIteratorAgeMs', 1_000, 604_800_000),
    },
    grafana,
  };
}
