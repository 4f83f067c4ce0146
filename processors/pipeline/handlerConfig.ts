/**
 * The handlers' configuration, read once per container from the environment (`EnvVar` in schema.ts,
 * set by infra/handlerEnvironment.ts on AWS and by local/embedded.ts locally). Every problem is
 * reported at once, with the variable, what was wrong and what is accepted; a handler with a broken
 * configuration fails its first invocation loudly instead of half-working.
 *
 * `TW_CONFIG` (JSON object, `{}` = defaults):
 * ```json
 * { "window":       { "dimensions": ["route"], "rules": [], "slideMs": 5000, ... },
 *   "fieldMapping": { "time": "eventTime", "service": "app" },
 *   "missingTimestamp": "reject",
 *   "defaultService": "unknown",
 *   "detector": "default",
 *   "alerts":       { "metrics": ["error_rate"], "rule": { "scoreThreshold": 0.7 }, "overrides": [] },
 *   "alertCooldownMs": 900000,
 *   "maxSilentWindows": 60 }
 * ```
 * `dimensions` and `rules` are also accepted at the top level. `TW_WINDOW_MS`,
 * `TW_ALLOWED_LATENESS_MS` and `TW_IDLE_SOURCE_TIMEOUT_MS` override the same keys of `window`.
 */
import { EnvVar, Names } from '../schema.ts';
import { type AlertConfig, parseAlertConfig } from '../transforms/detect/alertRules.ts';
import { DETECTOR_NAMES, isDetectorName } from '../transforms/detect/createDetector.ts';
import type { DetectorKindName } from '../transforms/detect/detector.ts';
import { type CompiledFieldMapping, compileFieldMapping } from '../transforms/formats/fieldMapping.ts';
import { parseWindowConfig, type WindowConfig } from '../transforms/window/windowConfig.ts';
import { HandlerConfigError } from './errors.ts';

/** Environment as `process.env` has it. */
export type HandlerEnv = Readonly<Record<string, string | undefined>>;

/** Service endpoints from the SDK's own `AWS_ENDPOINT_URL[_<SERVICE>]` variables (local mode). */
export interface HandlerEndpoints {
  kinesis?: string;
  firehose?: string;
  sns?: string;
  dynamodb?: string;
  /** Passed to the Timestream client explicitly: only an explicit endpoint skips discovery. */
  timestreamWrite?: string;
}

/** Everything both handlers need, resolved and validated. */
export interface HandlerConfig {
  logsStream: string;
  metricsStream: string;
  archiveDeliveryStream: string;
  archiveErrorDeliveryStream: string;
  /** Empty: alerts are decided and stored but not published. */
  alertTopicArn: string;
  stateTable: string;
  timestreamDatabase: string;
  windowsTable: string;
  pipelineTable: string;
  window: WindowConfig;
  fieldMapping: CompiledFieldMapping;
  missingTimestamp: 'reject' | 'arrival';
  defaultService?: string;
  detector: DetectorKindName;
  alerts: AlertConfig;
  /** SNS dedupe cooldown between notifications of one open series (event time). */
  alertCooldownMs?: number;
  /** A series silent this many windows stops being zero-filled (its event rate scored as 0). */
  maxSilentWindows: number;
  dashboardUrlTemplate: string;
  region?: string;
  endpoints: HandlerEndpoints;
}

const WINDOW_KEYS_AT_TOP = ['dimensions', 'rules'] as const;
const CONFIG_KEYS = new Set([
  'window',
  ...WINDOW_KEYS_AT_TOP,
  'fieldMapping',
  'missingTimestamp',
  'defaultService',
  'detector',
  'alerts',
  'alertCooldownMs',
  'maxSilentWindows',
]);

/** Default for `maxSilentWindows`: 60 windows (10 min at the 10 s default). */
export const DEFAULT_MAX_SILENT_WINDOWS = 60;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function endpointFor(env: HandlerEnv, service: string): string | undefined {
  return nonEmpty(env[`AWS_ENDPOINT_URL_${service}`]) ?? nonEmpty(env.AWS_ENDPOINT_URL);
}

function intVar(env: HandlerEnv, name: string, problems: string[]): number | undefined {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) {
    problems.push(`${name}: must be a non-negative integer of milliseconds, got ${JSON.stringify(raw)}`);
    return undefined;
  }
  return n;
}

/**
 * Reads and validates the handler configuration.
 *
 * @throws HandlerConfigError listing every problem.
 * @example
 * const config = readHandlerConfig(process.env);
 * config.window.windowMs; // 10000 unless TW_WINDOW_MS says otherwise
 */
export function readHandlerConfig(env: HandlerEnv): HandlerConfig {
  const problems: string[] = [];
  let tw: Record<string, unknown> = {};
  const rawConfig = nonEmpty(env[EnvVar.config]);
  if (rawConfig !== undefined) {
    try {
      const parsed: unknown = JSON.parse(rawConfig);
      if (isRecord(parsed)) tw = parsed;
      else problems.push(`${EnvVar.config}: must be a JSON object like {"window":{"dimensions":["route"]}}`);
    } catch (err) {
      problems.push(`${EnvVar.config}: not valid JSON (${(err as Error).message})`);
    }
  }
  for (const key of Object.keys(tw)) {
    if (!CONFIG_KEYS.has(key)) {
      problems.push(`${EnvVar.config}: unknown key '${key}' (known: ${[...CONFIG_KEYS].join(', ')})`);
    }
  }

  const windowIn: Record<string, unknown> = isRecord(tw.window) ? { ...tw.window } : {};
  if (tw.window !== undefined && !isRecord(tw.window)) {
    problems.push(`${EnvVar.config}: 'window' must be an object`);
  }
  for (const key of WINDOW_KEYS_AT_TOP) if (tw[key] !== undefined) windowIn[key] = tw[key];
  const envWindow: Array<[string, string]> = [
    [EnvVar.windowMs, 'windowMs'],
    [EnvVar.allowedLatenessMs, 'allowedLatenessMs'],
    [EnvVar.idleSourceTimeoutMs, 'idleSourceTimeoutMs'],
  ];
  for (const [name, key] of envWindow) {
    const v = intVar(env, name, problems);
    if (v !== undefined) windowIn[key] = v;
  }
  const windowOutcome = parseWindowConfig(windowIn);
  if (windowOutcome.kind === 'invalid') {
    for (const p of windowOutcome.problems) problems.push(`window config: ${p}`);
  }

  let fieldMapping: CompiledFieldMapping | undefined;
  try {
    fieldMapping = compileFieldMapping((tw.fieldMapping ?? {}) as Parameters<typeof compileFieldMapping>[0]);
  } catch (err) {
    problems.push(`${EnvVar.config}: fieldMapping: ${(err as Error).message}`);
  }

  const missingTimestamp = tw.missingTimestamp ?? 'reject';
  if (missingTimestamp !== 'reject' && missingTimestamp !== 'arrival') {
    problems.push(`${EnvVar.config}: missingTimestamp must be "reject" or "arrival"`);
  }
  if (
    tw.defaultService !== undefined &&
    (typeof tw.defaultService !== 'string' || tw.defaultService === '')
  ) {
    problems.push(`${EnvVar.config}: defaultService must be a non-empty string`);
  }
  const detector = tw.detector ?? 'default';
  if (typeof detector !== 'string' || !isDetectorName(detector)) {
    problems.push(`${EnvVar.config}: detector must be one of ${DETECTOR_NAMES.join(', ')}`);
  }
  const alerts = parseAlertConfig(tw.alerts);
  if (alerts.kind === 'error') problems.push(`${EnvVar.config}: ${alerts.message}`);
  const cooldown = tw.alertCooldownMs;
  if (
    cooldown !== undefined &&
    !(typeof cooldown === 'number' && Number.isSafeInteger(cooldown) && cooldown >= 0)
  ) {
    problems.push(`${EnvVar.config}: alertCooldownMs must be a non-negative integer`);
  }
  const maxSilent = tw.maxSilentWindows ?? DEFAULT_MAX_SILENT_WINDOWS;
  if (
    !(
      typeof maxSilent === 'number' &&
      Number.isSafeInteger(maxSilent) &&
      maxSilent >= 0 &&
      maxSilent <= 10_000
    )
  ) {
    problems.push(`${EnvVar.config}: maxSilentWindows must be an integer from 0 to 10000`);
  }

  if (problems.length > 0) throw new HandlerConfigError(problems);

  const config: HandlerConfig = {
    logsStream: nonEmpty(env[EnvVar.logsStream]) ?? Names.logsStream,
    metricsStream: nonEmpty(env[EnvVar.metricsStream]) ?? Names.metricsStream,
    archiveDeliveryStream: nonEmpty(env[EnvVar.archiveDeliveryStream]) ?? Names.archiveDeliveryStream,
    archiveErrorDeliveryStream:
      nonEmpty(env[EnvVar.archiveErrorDeliveryStream]) ?? Names.archiveErrorDeliveryStream,
    alertTopicArn: nonEmpty(env[EnvVar.alertTopicArn]) ?? '',
    stateTable: nonEmpty(env[EnvVar.stateTable]) ?? Names.stateTable,
    timestreamDatabase: nonEmpty(env[EnvVar.timestreamDatabase]) ?? Names.timestreamDatabase,
    windowsTable: nonEmpty(env[EnvVar.windowsTable]) ?? Names.windowsTable,
    pipelineTable: nonEmpty(env[EnvVar.pipelineTable]) ?? Names.pipelineTable,
    window: (windowOutcome as { kind: 'ok'; value: WindowConfig }).value,
    fieldMapping: fieldMapping!,
    missingTimestamp: missingTimestamp as 'reject' | 'arrival',
    detector: detector as DetectorKindName,
    alerts: (alerts as { kind: 'ok'; config: AlertConfig }).config,
    maxSilentWindows: maxSilent as number,
    dashboardUrlTemplate: nonEmpty(env[EnvVar.dashboardUrlTemplate]) ?? '',
    endpoints: {},
  };
  if (typeof tw.defaultService === 'string') config.defaultService = tw.defaultService;
  if (typeof cooldown === 'number') config.alertCooldownMs = cooldown;
  const region = nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION);
  if (region !== undefined) config.region = region;
  const endpoints: Array<[keyof HandlerEndpoints, string]> = [
    ['kinesis', 'KINESIS'],
    ['firehose', 'FIREHOSE'],
    ['sns', 'SNS'],
    ['dynamodb', 'DYNAMODB'],
    ['timestreamWrite', 'TIMESTREAM_WRITE'],
  ];
  for (const [key, service] of endpoints) {
    const url = endpointFor(env, service);
    if (url !== undefined) config.endpoints[key] = url;
  }
  return config;
}
