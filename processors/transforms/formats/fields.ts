/**
 * Field extraction shared by every structured format (JSON, logfmt, OTel): each function walks a
 * candidate list and returns the first usable value. No allocation except the values returned.
 */
import type { LevelName, LogEvent } from '../../schema.ts';
import { type CompiledFieldMapping, type FieldPath, lookup } from './fieldMapping.ts';
import { levelFromOtelSeverity, levelFromValue } from './level.ts';
import { toEpochMs } from './timestamp.ts';

/** What a parser falls back on when the line does not say: set by the source per record. */
export interface ParseContext {
  /** Service when the line names none: log group's last segment, or the partition key. */
  fallbackService: string;
  /** Event time for structured lines without one; NaN → reject `missing_timestamp`. */
  fallbackTimeMs: number;
  /** Event time for plain-text and logfmt lines without one (CloudWatch event time or arrival). */
  textTimeMs: number;
}

/** Detail of the last reject a parser returned (read right after a reject; not retained). */
let detail = '';
export function rejectDetail(): string {
  return detail;
}
export function setRejectDetail(d: string): void {
  detail = d;
}

/**
 * The time of the line: epoch ms; NaN if a time field exists but is unusable; -1 if none exists.
 * @example findTimeMs({ ts: 1_700_000_000 }, defaultFieldMapping.time) // 1700000000000
 */
export function findTimeMs(o: Record<string, unknown>, paths: readonly FieldPath[]): number {
  for (let i = 0; i < paths.length; i++) {
    const p = paths[i]!;
    const v = lookup(o, p);
    // 0 / "0" mean "unknown" in OTel (timeUnixNano) and are never a real log time.
    if (v === undefined || v === null || v === '' || v === 0 || v === '0') continue;
    const ms = toEpochMs(v, p.unit);
    if (Number.isNaN(ms)) detail = `${p.key}: ${String(v).slice(0, 64)}`;
    return ms;
  }
  return -1;
}

/** @example findString({ name: 'api' }, defaultFieldMapping.service) // 'api' */
export function findString(o: Record<string, unknown>, paths: readonly FieldPath[]): string | undefined {
  for (let i = 0; i < paths.length; i++) {
    const v = lookup(o, paths[i]!);
    if (typeof v === 'string') {
      if (v.length > 0) return v;
    } else if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  }
  return undefined;
}

/** @example findLevel({ level: 50 }, defaultFieldMapping) // 'error' */
export function findLevel(o: Record<string, unknown>, m: CompiledFieldMapping): LevelName | undefined {
  const paths = m.level;
  for (let i = 0; i < paths.length; i++) {
    const p = paths[i]!;
    const v = lookup(o, p);
    if (v === undefined || v === null) continue;
    const level =
      p.levelScale === 'otel' && typeof v === 'number'
        ? levelFromOtelSeverity(v)
        : levelFromValue(v, m.levelWords);
    if (level !== undefined) return level;
  }
  return undefined;
}

/**
 * An HTTP status: an integer 100–599, as number or numeric string.
 * @example findStatus({ res: { statusCode: 503 } }, defaultFieldMapping.status) // 503
 */
export function findStatus(o: Record<string, unknown>, paths: readonly FieldPath[]): number | undefined {
  for (let i = 0; i < paths.length; i++) {
    const v = lookup(o, paths[i]!);
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.length === 3 ? Number(v) : Number.NaN;
    if (n >= 100 && n <= 599 && Number.isInteger(n)) return n;
  }
  return undefined;
}

const DURATION_SUFFIX_MS: Readonly<Record<string, number>> = {
  ns: 0.000_001,
  us: 0.001,
  µs: 0.001,
  μs: 0.001,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * "12.5ms", "0.123s", "1.5µs" (Go, GCP) → ms; NaN otherwise.
 * @example parseDurationString('1.5s') // 1500
 */
export function parseDurationString(s: string): number {
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if ((c >= 48 && c <= 57) || c === 46 || (i === 0 && c === 45)) i++;
    else break;
  }
  if (i === 0) return Number.NaN;
  const n = Number(s.slice(0, i));
  if (i === s.length) return n;
  const scale = DURATION_SUFFIX_MS[s.slice(i).trim()];
  return scale === undefined ? Number.NaN : n * scale;
}

/**
 * A duration in ms, non-negative and finite.
 * @example findDurationMs({ 'event.duration': 2_000_000 }, defaultFieldMapping.duration) // 2
 */
export function findDurationMs(o: Record<string, unknown>, paths: readonly FieldPath[]): number | undefined {
  for (let i = 0; i < paths.length; i++) {
    const p = paths[i]!;
    const v = lookup(o, p);
    let ms: number;
    if (typeof v === 'number') ms = v * p.scaleToMs;
    else if (typeof v === 'string' && v.length > 0) {
      const n = Number(v);
      ms = !Number.isNaN(n) ? n * p.scaleToMs : parseDurationString(v);
    } else continue;
    if (ms >= 0 && ms < Number.POSITIVE_INFINITY) return ms;
  }
  return undefined;
}

/**
 * A route: the path without query string or fragment (routes become a dimension; keep them few).
 * @example findRoute({ path: '/a?b=1' }, defaultFieldMapping.route) // '/a'
 */
export function findRoute(o: Record<string, unknown>, paths: readonly FieldPath[]): string | undefined {
  const v = findString(o, paths);
  if (v === undefined) return undefined;
  let end = v.length;
  const q = v.indexOf('?');
  if (q >= 0) end = q;
  const h = v.indexOf('#');
  if (h >= 0 && h < end) end = h;
  return end === v.length ? v : v.slice(0, end);
}

/**
 * Builds a `LogEvent` with every field present — absent optional ones hold `undefined` — so all
 * events share one hidden class (monomorphic consumers, one allocation, no property transitions).
 * `JSON.stringify` and `toEqual` treat such fields as absent.
 * @example makeEvent(t, 'api', 'info', 'hi', undefined, undefined, undefined, undefined, undefined)
 */
export function makeEvent(
  timeMs: number,
  service: string,
  level: LevelName,
  message: string,
  status: number | undefined,
  durationMs: number | undefined,
  route: string | undefined,
  traceId: string | undefined,
  attributes: Record<string, unknown> | undefined,
): LogEvent {
  return { timeMs, service, level, message, status, durationMs, route, traceId, attributes } as LogEvent;
}

/**
 * Event from a structured object: optional fields looked up in `o` through the mapping.
 * @example eventFromFields(timeMs, 'api', 'info', 'hi', parsed, defaultFieldMapping, undefined)
 */
export function eventFromFields(
  timeMs: number,
  service: string,
  level: LevelName,
  message: string,
  o: Record<string, unknown>,
  m: CompiledFieldMapping,
  traceId: string | undefined,
): LogEvent {
  return makeEvent(
    timeMs,
    service,
    level,
    message,
    findStatus(o, m.status),
    findDurationMs(o, m.duration),
    findRoute(o, m.route),
    traceId ?? findString(o, m.traceId),
    o,
  );
}
