/**
 * Parses one log line, in any supported format, into a `LogEvent`: pino, Bunyan, ECS, OpenTelemetry
 * log records, Lambda JSON logs and other JSON lines; logfmt; plain text. For whole Kinesis records
 * (KPL, gzip, CloudWatch Logs, OTLP exports, NDJSON) use `sources/decodeKinesisBatch.ts`, which
 * calls the same format parsers.
 */
import type { LogEvent, Outcome } from '../schema.ts';
import { RejectCode } from '../schema.ts';
import { type CompiledFieldMapping, defaultFieldMapping } from './formats/fieldMapping.ts';
import { type ParseContext, rejectDetail } from './formats/fields.ts';
import { logEventFromObject } from './formats/json.ts';
import { isOtelLogRecord, logEventFromOtelRecord } from './formats/otel.ts';
import { logEventFromText } from './formats/text.ts';

export interface ParseLogLineOptions {
  /** From `compileFieldMapping`; default: built-in fields only. */
  mapping?: CompiledFieldMapping;
  /** Service when the line names none. Default `unknown`. */
  service?: string;
  /** Time for plain-text/logfmt lines without one, and for JSON lines when `missingTimestamp` allows. */
  nowMs?: number;
  /** A JSON line without a time: `reject` (default) or use `nowMs`. */
  missingTimestamp?: 'reject' | 'arrival';
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

/**
 * @example
 * parseLogLine('{"level":50,"time":1700000000000,"msg":"boom","name":"api"}')
 * // { kind: 'ok', value: { timeMs: 1700000000000, service: 'api', level: 'error', message: 'boom', ... } }
 * parseLogLine('ts=2024-01-15T10:00:00Z level=warn msg="slow" duration=1.5s')
 * // { kind: 'ok', value: { ..., level: 'warn', durationMs: 1500 } }
 */
export function parseLogLine(line: string, options: ParseLogLineOptions = {}): Outcome<LogEvent> {
  const mapping = options.mapping ?? defaultFieldMapping;
  const nowMs = options.nowMs ?? Number.NaN;
  const ctx: ParseContext = {
    fallbackService: options.service ?? 'unknown',
    fallbackTimeMs: options.missingTimestamp === 'arrival' ? nowMs : Number.NaN,
    textTimeMs: nowMs,
  };
  const trimmed = line.trim();
  if (trimmed.length === 0) return { kind: 'reject', code: RejectCode.empty, detail: 'empty line' };
  let result: LogEvent | (typeof RejectCode)[keyof typeof RejectCode];
  if (trimmed.charCodeAt(0) === 123) {
    const v = parseJson(trimmed);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      return { kind: 'reject', code: RejectCode.invalidJson, detail: 'not a JSON object' };
    }
    const o = v as Record<string, unknown>;
    result = isOtelLogRecord(o)
      ? logEventFromOtelRecord(o, undefined, ctx, mapping)
      : logEventFromObject(o, ctx, mapping);
  } else result = logEventFromText(trimmed, ctx, mapping);
  if (typeof result === 'string') return { kind: 'reject', code: result, detail: rejectDetail() };
  return { kind: 'ok', value: result };
}
