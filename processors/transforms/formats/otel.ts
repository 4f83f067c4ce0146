/**
 * OpenTelemetry log records (OTLP/JSON `LogRecord`, as the Collector's exporters write them, or the
 * simplified form with a plain-string `body`) → `LogEvent`.
 * Data model: https://opentelemetry.io/docs/specs/otel/logs/data-model/ ; JSON encoding:
 * https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding (64-bit ints as strings,
 * `traceId` as hex, enums as numbers).
 */
import { type LogEvent, RejectCode, type RejectCodeName } from '../../schema.ts';
import type { CompiledFieldMapping } from './fieldMapping.ts';
import {
  eventFromFields,
  findLevel,
  findString,
  findTimeMs,
  type ParseContext,
  setRejectDetail,
} from './fields.ts';
import { levelFromOtelSeverity, levelFromWord } from './level.ts';
import { toEpochMs } from './timestamp.ts';

/**
 * OTLP/JSON `AnyValue` → plain JS value.
 * @example anyValueToJs({ intValue: '5' }) // 5
 */
export function anyValueToJs(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  const a = v as Record<string, unknown>;
  if (a.stringValue !== undefined) return a.stringValue;
  if (a.intValue !== undefined) return typeof a.intValue === 'string' ? Number(a.intValue) : a.intValue;
  if (a.doubleValue !== undefined) return a.doubleValue;
  if (a.boolValue !== undefined) return a.boolValue;
  if (a.kvlistValue !== undefined) return keyValuesToObject((a.kvlistValue as { values?: unknown }).values);
  if (a.arrayValue !== undefined) {
    const values = (a.arrayValue as { values?: unknown }).values;
    return Array.isArray(values) ? values.map(anyValueToJs) : [];
  }
  if (a.bytesValue !== undefined) return a.bytesValue;
  return undefined;
}

/**
 * OTLP/JSON `KeyValue[]` → object keyed by attribute name (dotted names stay literal).
 * @example keyValuesToObject([{ key: 'http.route', value: { stringValue: '/a' } }]) // { 'http.route': '/a' }
 */
export function keyValuesToObject(kvs: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!Array.isArray(kvs))
    return kvs !== null && typeof kvs === 'object' ? (kvs as Record<string, unknown>) : out;
  for (let i = 0; i < kvs.length; i++) {
    const kv = kvs[i] as { key?: unknown; value?: unknown } | null;
    if (kv !== null && typeof kv === 'object' && typeof kv.key === 'string')
      out[kv.key] = anyValueToJs(kv.value);
  }
  return out;
}

/**
 * True when `o` looks like one OTel log record rather than an ad-hoc JSON line.
 * @example isOtelLogRecord({ timeUnixNano: '1', body: { stringValue: 'x' } }) // true
 */
export function isOtelLogRecord(o: Record<string, unknown>): boolean {
  return (o.timeUnixNano !== undefined || o.severityNumber !== undefined) && o.body !== undefined;
}

function otelTimeMs(rec: Record<string, unknown>): number {
  // timeUnixNano 0 means "unknown"; observedTimeUnixNano is when the collector saw it.
  const t = rec.timeUnixNano;
  if (t !== undefined && t !== 0 && t !== '0' && t !== '') return toEpochMs(t, 'ns');
  const o = rec.observedTimeUnixNano;
  if (o !== undefined && o !== 0 && o !== '0' && o !== '') return toEpochMs(o, 'ns');
  return -1;
}

/**
 * One OTel log record → event. `resourceService` is the resource's `service.name`, if any.
 * Record attributes become `attributes`; a structured (kvlist) body is merged into them.
 * @example
 * logEventFromOtelRecord({ timeUnixNano: '1700000000000000000', severityNumber: 17,
 *   body: { stringValue: 'boom' } }, 'checkout', ctx, defaultFieldMapping);
 */
export function logEventFromOtelRecord(
  rec: Record<string, unknown>,
  resourceService: string | undefined,
  ctx: ParseContext,
  m: CompiledFieldMapping,
): LogEvent | RejectCodeName {
  const attrs = keyValuesToObject(rec.attributes);
  const body = anyValueToJs(rec.body);
  let message: string | undefined;
  if (typeof body === 'string') message = body;
  else if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
    for (const k in body) if (attrs[k] === undefined) attrs[k] = (body as Record<string, unknown>)[k];
    message = findString(attrs, m.message);
  } else if (body !== undefined) message = JSON.stringify(body);

  // Custom mapped times (and ad-hoc ones) may sit in the attributes; OTel's own fields win.
  let timeMs = otelTimeMs(rec);
  if (timeMs === -1) timeMs = findTimeMs(attrs, m.time);
  if (timeMs < 0) {
    timeMs = ctx.fallbackTimeMs;
    if (Number.isNaN(timeMs)) {
      setRejectDetail('OTel log record without timeUnixNano or observedTimeUnixNano');
      return RejectCode.missingTimestamp;
    }
  } else if (Number.isNaN(timeMs)) {
    setRejectDetail(`timeUnixNano: ${String(rec.timeUnixNano ?? rec.observedTimeUnixNano).slice(0, 64)}`);
    return RejectCode.invalidTimestamp;
  }
  const severity = rec.severityNumber;
  const text = rec.severityText;
  const level =
    (typeof severity === 'number' ? levelFromOtelSeverity(severity) : undefined) ??
    (typeof text === 'string' ? levelFromWord(text, m.levelWords) : undefined) ??
    findLevel(attrs, m) ??
    'info';
  const traceId = typeof rec.traceId === 'string' && rec.traceId.length > 0 ? rec.traceId : undefined;
  return eventFromFields(
    timeMs,
    resourceService ?? findString(attrs, m.service) ?? ctx.fallbackService,
    level,
    message ?? '',
    attrs,
    m,
    traceId,
  );
}
