/**
 * Which source field feeds which `LogEvent` field: configuration, not code. Custom paths are tried
 * before the built-in candidates, which cover pino, Bunyan, ECS, OpenTelemetry, Fluent Bit,
 * pino-http, Python logging, zap, and the usual `timestamp`/`ts`/`status`/`duration_ms`/`trace_id`.
 */
import { Level, type LevelName } from '../../schema.ts';
import { FieldMappingError } from './errors.ts';
import { TimeUnit, type TimeUnitName } from './timestamp.ts';

/** Units a duration field can be declared in. */
export const DurationUnit = { s: 's', ms: 'ms', us: 'us', ns: 'ns' } as const;
export type DurationUnitName = (typeof DurationUnit)[keyof typeof DurationUnit];

/**
 * A custom field mapping, typically from the `fieldMapping` section of `TW_CONFIG`. Each field is a
 * path or a list of paths tried in order; a path `a.b.c` matches a literal key `"a.b.c"` or nested
 * objects `{a:{b:{c}}}`.
 *
 * @example
 * const mapping: FieldMapping = {
 *   time: 'eventTime', timeUnit: 's',
 *   service: ['app', 'meta.component'],
 *   level: 'sev', levelWords: { W: 'warn', E: 'error' },
 *   duration: 'upstream_time', durationUnit: 's',
 *   status: 'resp.code', route: 'endpoint', traceId: 'xray',
 * };
 */
export interface FieldMapping {
  time?: string | readonly string[];
  /** Unit of the custom `time` fields; `auto` (default) infers epoch units from the magnitude. */
  timeUnit?: TimeUnitName;
  service?: string | readonly string[];
  level?: string | readonly string[];
  /** Extra level words, e.g. `{ W: 'warn' }`; matched exactly, then lower-cased. */
  levelWords?: Readonly<Record<string, LevelName>>;
  message?: string | readonly string[];
  status?: string | readonly string[];
  duration?: string | readonly string[];
  /** Unit of the custom `duration` fields; default `ms`. */
  durationUnit?: DurationUnitName;
  route?: string | readonly string[];
  traceId?: string | readonly string[];
  /** Try the built-in candidates after the custom paths (default true). */
  builtins?: boolean;
}

/** A path into a parsed log object, precompiled. */
export interface FieldPath {
  /** The path as written; also tried as one literal key (ECS dotted fields). */
  readonly key: string;
  /** The path split on dots when it has any, for nested objects. */
  readonly parts: readonly string[] | undefined;
  /** time: epoch unit; duration: ms per unit; level: scale of numeric values. */
  readonly unit: TimeUnitName;
  readonly scaleToMs: number;
  readonly levelScale: 'pino' | 'otel';
}

/** A {@link FieldMapping} compiled once into candidate lists; reuse it across batches. */
export interface CompiledFieldMapping {
  readonly time: readonly FieldPath[];
  readonly service: readonly FieldPath[];
  readonly level: readonly FieldPath[];
  readonly message: readonly FieldPath[];
  readonly status: readonly FieldPath[];
  readonly duration: readonly FieldPath[];
  readonly route: readonly FieldPath[];
  readonly traceId: readonly FieldPath[];
  readonly levelWords: ReadonlyMap<string, LevelName> | undefined;
}

const DURATION_TO_MS: Readonly<Record<DurationUnitName, number>> = {
  s: 1000,
  ms: 1,
  us: 0.001,
  ns: 0.000_001,
};

function path(
  key: string,
  opts: { unit?: TimeUnitName; scaleToMs?: number; levelScale?: 'pino' | 'otel' } = {},
): FieldPath {
  return {
    key,
    parts: key.includes('.') ? key.split('.') : undefined,
    unit: opts.unit ?? 'auto',
    scaleToMs: opts.scaleToMs ?? 1,
    levelScale: opts.levelScale ?? 'pino',
  };
}

/** Built-in candidates, most specific first. Order matters when a line carries several. */
const BUILTIN = {
  time: [
    path('time'), // pino (ms), Bunyan (ISO)
    path('timestamp'), // common, Lambda JSON logs, winston
    path('@timestamp'), // ECS, Logstash
    path('ts'), // zap (s), structlog
    path('timeUnixNano', { unit: 'ns' }), // OpenTelemetry
    path('observedTimeUnixNano', { unit: 'ns' }),
    path('date'),
    path('datetime'),
    path('eventTime'),
    path('asctime'), // Python logging
  ],
  service: [
    path('service'), // common; skipped when it is an object (ECS nested)
    path('service.name'), // ECS, OTel resource attribute
    path('serviceName'),
    path('service_name'),
    path('app'),
    path('application'),
    path('kubernetes.labels.app'), // Fluent Bit kubernetes filter
    path('kubernetes.container_name'),
    path('name'), // Bunyan (required app name), pino logger name
  ],
  level: [
    path('level'), // pino/Bunyan numbers, or words
    path('log.level'), // ECS
    path('severityNumber', { levelScale: 'otel' }),
    path('severityText'),
    path('severity'), // GCP, others
    path('lvl'),
    path('loglevel'),
    path('log_level'),
    path('levelname'), // Python logging
  ],
  message: [path('msg'), path('message'), path('body'), path('log'), path('text')],
  status: [
    path('status'),
    path('statusCode'),
    path('status_code'),
    path('http.response.status_code'), // ECS, OTel semantic conventions
    path('http.status_code'), // OTel (old)
    path('res.statusCode'), // pino-http
    path('response.status'),
    path('httpRequest.status'), // GCP
    path('http.status'),
  ],
  duration: [
    path('duration_ms'),
    path('durationMs'),
    path('latency_ms'),
    path('latencyMs'),
    path('elapsed_ms'),
    path('response_time_ms'),
    path('responseTime'), // pino-http (ms)
    path('response_time'),
    path('took_ms'),
    path('event.duration', { scaleToMs: 0.000_001 }), // ECS: nanoseconds
    path('duration_ns', { scaleToMs: 0.000_001 }),
    path('duration_us', { scaleToMs: 0.001 }),
    path('duration_s', { scaleToMs: 1000 }),
    path('duration'), // unitless: read as ms (strings with a unit, "1.5s", are honoured)
    path('latency'),
    path('httpRequest.latency'), // GCP: "0.123s"
  ],
  route: [
    path('route'),
    path('http.route'), // OTel
    path('path'),
    path('url.path'), // ECS
    path('req.url'), // pino-http
    path('request.path'),
    path('http.target'),
    path('request_uri'),
    path('uri'),
    path('url'),
  ],
  traceId: [
    path('trace_id'),
    path('traceId'), // OTel
    path('trace.id'), // ECS
    path('traceid'),
    path('dd.trace_id'),
    path('otelTraceID'),
    path('xray_trace_id'),
  ],
} as const satisfies Record<string, readonly FieldPath[]>;

/** Mappings made by {@link compileFieldMapping}, told apart from raw `FieldMapping` objects. */
const compiled = new WeakSet<object>();

/**
 * True for the result of {@link compileFieldMapping} (and {@link defaultFieldMapping}).
 * @example const m = isCompiledFieldMapping(x) ? x : compileFieldMapping(x);
 */
export function isCompiledFieldMapping(m: unknown): m is CompiledFieldMapping {
  return typeof m === 'object' && m !== null && compiled.has(m);
}

/** The built-in mapping alone (what an empty `FieldMapping` compiles to). */
export const defaultFieldMapping: CompiledFieldMapping = {
  ...BUILTIN,
  levelWords: undefined,
};
compiled.add(defaultFieldMapping);

function list(value: string | readonly string[] | undefined, what: string): string[] {
  if (value === undefined) return [];
  const xs = typeof value === 'string' ? [value] : [...value];
  for (const x of xs) {
    if (typeof x !== 'string' || x.length === 0 || x.startsWith('.') || x.endsWith('.') || x.includes('..')) {
      throw new FieldMappingError(
        `fieldMapping.${what}: ${JSON.stringify(x)} is not a field path; write names joined by dots, e.g. "http.status"`,
      );
    }
  }
  return xs;
}

/**
 * Validates and compiles a {@link FieldMapping}. Call once at start-up, not per batch.
 * @throws {FieldMappingError} naming the bad entry and what to write instead.
 * @example
 * const mapping = compileFieldMapping({ time: 'eventTime', timeUnit: 's' });
 * decodeKinesisBatch(event.Records, { fieldMapping: mapping });
 */
export function compileFieldMapping(mapping: FieldMapping = {}): CompiledFieldMapping {
  if (mapping === null || typeof mapping !== 'object') {
    throw new FieldMappingError('fieldMapping must be an object like { "time": "eventTime" }');
  }
  const timeUnit = mapping.timeUnit ?? 'auto';
  if (!Object.values(TimeUnit).includes(timeUnit)) {
    throw new FieldMappingError(
      `fieldMapping.timeUnit: ${JSON.stringify(timeUnit)} is not one of ${Object.values(TimeUnit).join(', ')}`,
    );
  }
  const durationUnit = mapping.durationUnit ?? 'ms';
  const scaleToMs = DURATION_TO_MS[durationUnit];
  if (scaleToMs === undefined) {
    throw new FieldMappingError(
      `fieldMapping.durationUnit: ${JSON.stringify(durationUnit)} is not one of ${Object.values(DurationUnit).join(', ')}`,
    );
  }
  let levelWords: Map<string, LevelName> | undefined;
  if (mapping.levelWords !== undefined) {
    levelWords = new Map();
    for (const [word, level] of Object.entries(mapping.levelWords)) {
      if (!(level in Level)) {
        throw new FieldMappingError(
          `fieldMapping.levelWords.${word}: ${JSON.stringify(level)} is not one of ${Object.keys(Level).join(', ')}`,
        );
      }
      levelWords.set(word, level);
      levelWords.set(word.toLowerCase(), level);
    }
  }
  const builtins = mapping.builtins !== false;
  const merge = (custom: FieldPath[], builtin: readonly FieldPath[]): FieldPath[] =>
    builtins ? [...custom, ...builtin] : custom;
  const result: CompiledFieldMapping = {
    time: merge(
      list(mapping.time, 'time').map((k) => path(k, { unit: timeUnit })),
      BUILTIN.time,
    ),
    service: merge(
      list(mapping.service, 'service').map((k) => path(k)),
      BUILTIN.service,
    ),
    level: merge(
      list(mapping.level, 'level').map((k) => path(k)),
      BUILTIN.level,
    ),
    message: merge(
      list(mapping.message, 'message').map((k) => path(k)),
      BUILTIN.message,
    ),
    status: merge(
      list(mapping.status, 'status').map((k) => path(k)),
      BUILTIN.status,
    ),
    duration: merge(
      list(mapping.duration, 'duration').map((k) => path(k, { scaleToMs })),
      BUILTIN.duration,
    ),
    route: merge(
      list(mapping.route, 'route').map((k) => path(k)),
      BUILTIN.route,
    ),
    traceId: merge(
      list(mapping.traceId, 'traceId').map((k) => path(k)),
      BUILTIN.traceId,
    ),
    levelWords,
  };
  compiled.add(result);
  return result;
}

/**
 * Value at `p` in `o`: the literal key first (`"log.level"`), then nested objects (`log.level`).
 * Only own, enumerable data of plain parsed JSON is expected here.
 * @example lookup({ log: { level: 'warn' } }, defaultFieldMapping.level[1]!) // 'warn'
 */
export function lookup(o: Record<string, unknown>, p: FieldPath): unknown {
  const direct = o[p.key];
  if (direct !== undefined || p.parts === undefined) return direct;
  let v: unknown = o;
  const parts = p.parts;
  for (let i = 0; i < parts.length; i++) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[parts[i]!];
  }
  return v;
}
