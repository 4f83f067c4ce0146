/**
 * Lambda Kinesis batch → log events. Per record: base64 → KPL deaggregation (MD5 verified) → per
 * user record: gzip (by magic bytes) → UTF-8 check → CloudWatch Logs envelope | OTLP/JSON export |
 * JSON array | NDJSON (one or many lines) | logfmt | plain text → `LogEvent` via the field mapping.
 *
 * Outcomes, not exceptions (DESIGN.md §3): every record ends as events, rejects with a
 * `RejectCode` and the raw bytes, or intentional skips; nothing throws for any input data.
 *
 * Hot path: base64 straight into the batch's byte arena (the events' raw lines stay views of those
 * bytes: nothing is re-encoded for the archive), zero-copy user-record offsets, JSON.parse once per
 * line, no closures or try/catch in the loops (JSON.parse and gunzip are wrapped in small hoisted
 * functions), columnar output.
 */
import { Buffer, isUtf8 } from 'node:buffer';
import { KplScan, MAX_KINESIS_RECORD_BYTES, scanAggregate } from '../../sdk/kpl.ts';
import { RejectCode } from '../schema.ts';
import {
  type CompiledFieldMapping,
  compileFieldMapping,
  type FieldMapping,
  isCompiledFieldMapping,
} from '../transforms/formats/fieldMapping.ts';
import type { ParseContext } from '../transforms/formats/fields.ts';
import { logEventFromObject } from '../transforms/formats/json.ts';
import { isOtelLogRecord, logEventFromOtelRecord } from '../transforms/formats/otel.ts';
import { logEventFromText } from '../transforms/formats/text.ts';
import { decodeCloudWatchLogs, isCloudWatchLogsEnvelope } from './cloudWatchLogs.ts';
import { type DecodeCursor, emit, emitLine, reject, rejectText } from './decodeCursor.ts';
import { DecodedBatch } from './decodedBatch.ts';
import type { KinesisEventRecord } from './kinesisEvent.ts';
import { decodeOtlpLogs, isOtlpLogsExport } from './otlpLogs.ts';
import { lastGunzipError, tryGunzip } from './tryGunzip.ts';
import { JSON_INVALID, lastJsonError, tryParseJson } from './tryParseJson.ts';

/**
 * Largest line kept as an event: a Firehose record holds at most 1,000 KiB, so a longer line could
 * not be archived as one record (Amazon Data Firehose quotas). Longer lines are `oversized`.
 */
export const DEFAULT_MAX_LINE_BYTES = 1_000 * 1024 - 1;
/**
 * Ceiling on one gunzipped payload. CloudWatch Logs batches are at most 1 MiB uncompressed
 * (PutLogEvents quota); 16 MiB leaves room for other gzip producers and stops gzip bombs.
 */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 16 * 1024 * 1024;

/** How to decode; every field optional. Pass the same object for every batch. */
export interface DecodeOptions {
  /** Custom field names (configuration). Pass a `compileFieldMapping` result to compile once. */
  fieldMapping?: FieldMapping | CompiledFieldMapping;
  /**
   * A structured (JSON/OTel) line without a time field: `reject` as `missing_timestamp` (default)
   * or take the record's `arrival` time. Plain text and logfmt always fall back to arrival time;
   * CloudWatch events to their own `timestamp`.
   */
  missingTimestamp?: 'reject' | 'arrival';
  /** Service for lines that name none, instead of the log group / partition key. */
  defaultService?: string;
  /** Lines longer than this (UTF-8 bytes) are rejected `oversized`. */
  maxLineBytes?: number;
  /** Gzip payloads inflating beyond this are rejected `oversized`. */
  maxDecompressedBytes?: number;
  /** Clock reading (ms) used as arrival time for records that lack `approximateArrivalTimestamp`. */
  nowMs?: number;
  /**
   * Verify the MD5 trailer of KPL aggregates (default true). Off saves the MD5 pass (about a third
   * of decode time, see docs/decoding.md); aggregates are still parsed defensively.
   */
  verifyChecksums?: boolean;
  /**
   * Keep each event's `attributes` (default true). The ingest handler turns it off when no rule
   * reads an attribute, so the parsed lines need not outlive their parse.
   */
  keepAttributes?: boolean;
}

/** Exact decoded length of well-formed base64 text (RFC 4648 §4, with or without padding). */
function base64Bytes(s: string): number {
  let n = s.length;
  if (n > 0 && s.charCodeAt(n - 1) === 61) n--;
  if (n > 0 && s.charCodeAt(n - 1) === 61) n--;
  return Math.floor((n * 3) / 4);
}

function copy(b: Uint8Array): Buffer {
  return Buffer.from(b);
}

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

/** A parsed top-level JSON value → events; `raw` is its text. */
function decodeJsonValue(v: unknown, raw: string, cur: DecodeCursor): void {
  if (v === null || typeof v !== 'object') {
    rejectText(
      cur,
      RejectCode.invalidJson,
      `expected a JSON object, got ${v === null ? 'null' : typeof v}`,
      raw,
    );
    return;
  }
  if (Array.isArray(v)) {
    if (v.length === 0) {
      rejectText(cur, RejectCode.empty, 'empty JSON array', raw);
      return;
    }
    for (let i = 0; i < v.length; i++) {
      const el: unknown = v[i];
      const line = JSON.stringify(el);
      if (el === null || typeof el !== 'object' || Array.isArray(el)) {
        rejectText(
          cur,
          RejectCode.invalidJson,
          `array element ${i} is not a JSON object`,
          line ?? 'undefined',
        );
      } else decodeJsonObject(el as Record<string, unknown>, line, false, cur);
    }
    return;
  }
  decodeJsonObject(v as Record<string, unknown>, raw, true, cur);
}

/** `isLine`: `raw` is the line at `cur.lineStart` (not a re-serialized array element). */
function decodeJsonObject(o: Record<string, unknown>, raw: string, isLine: boolean, cur: DecodeCursor): void {
  if (o.messageType !== undefined && isCloudWatchLogsEnvelope(o)) decodeCloudWatchLogs(o, raw, cur);
  else if (o.resourceLogs !== undefined && isOtlpLogsExport(o)) decodeOtlpLogs(o, raw, cur);
  else {
    const result = isOtelLogRecord(o)
      ? logEventFromOtelRecord(o, undefined, cur.ctx, cur.mapping)
      : logEventFromObject(o, cur.ctx, cur.mapping);
    if (isLine) emitLine(cur, result, raw);
    else emit(cur, result, raw);
  }
}

/** One line (already trimmed, non-empty) → event(s). */
function decodeLine(line: string, cur: DecodeCursor): void {
  if (line.length * 3 > cur.maxLineBytes && Buffer.byteLength(line, 'utf8') > cur.maxLineBytes) {
    rejectText(cur, RejectCode.oversized, `line of ${Buffer.byteLength(line, 'utf8')} bytes`, line);
    return;
  }
  const c = line.charCodeAt(0);
  if (c === 123 /* { */ || c === 91 /* [ */) {
    const v = tryParseJson(line);
    if (v === JSON_INVALID) rejectText(cur, RejectCode.invalidJson, lastJsonError(), line);
    else decodeJsonValue(v, line, cur);
  } else emitLine(cur, logEventFromText(line, cur.ctx, cur.mapping), line);
}

/**
 * A user record's text → lines → events. Sets `cur.lineStart` for each line; the caller set
 * `cur.rawBuf` / `cur.rawBase` for the bytes `text` was decoded from.
 */
function decodeText(text: string, cur: DecodeCursor): void {
  let start = 0;
  let end = text.length;
  if (text.charCodeAt(0) === 0xfeff) start = 1; // UTF-8 BOM
  while (start < end && isSpace(text.charCodeAt(start))) start++;
  while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
  if (start === end) {
    rejectText(cur, RejectCode.empty, 'only whitespace', text);
    return;
  }
  let nl = text.indexOf('\n', start);
  if (nl < 0 || nl >= end) {
    cur.lineStart = start;
    decodeLine(start === 0 && end === text.length ? text : text.slice(start, end), cur);
    return;
  }
  // Several lines: NDJSON or text lines. A pretty-printed JSON document also has several lines;
  // it shows as a first line that is not JSON on its own while the whole text is.
  const first = text.charCodeAt(start);
  if (first === 123 || first === 91) {
    const firstLine = text.slice(start, nl).trimEnd();
    if (tryParseJson(firstLine) === JSON_INVALID) {
      const whole = text.slice(start, end);
      const v = tryParseJson(whole);
      if (v !== JSON_INVALID) {
        cur.lineStart = start;
        decodeJsonValue(v, whole, cur);
        return;
      }
    }
  }
  let lineStart = start;
  while (lineStart < end) {
    if (nl < 0 || nl > end) nl = end;
    let lineEnd = nl;
    while (lineEnd > lineStart && isSpace(text.charCodeAt(lineEnd - 1))) lineEnd--;
    let s = lineStart;
    while (s < lineEnd && isSpace(text.charCodeAt(s))) s++;
    if (s === lineEnd) cur.out.stats.blankLines++;
    else {
      cur.lineStart = s;
      decodeLine(text.slice(s, lineEnd), cur);
    }
    lineStart = nl + 1;
    nl = text.indexOf('\n', lineStart);
  }
}

/**
 * One user record, `buf[start, end)` (bytes the batch keeps) → events. Works on offsets so the
 * common path creates no view per user record.
 */
function decodePayload(buf: Buffer, start: number, end: number, cur: DecodeCursor): void {
  if (start === end) {
    reject(cur, RejectCode.empty, 'no data', new Uint8Array(0));
    return;
  }
  if (buf[start] === 0x1f && buf[start + 1] === 0x8b && end - start >= 2) {
    decodeGzipPayload(buf.subarray(start, end), cur);
    return;
  }
  const text = buf.toString('utf8', start, end);
  // Invalid UTF-8 decodes to U+FFFD; only then is the (slower) exact check needed, since the text
  // may also carry a genuine U+FFFD.
  if (text.indexOf('\ufffd') !== -1 && !isUtf8(buf.subarray(start, end))) {
    reject(
      cur,
      RejectCode.notUtf8,
      'payload is neither gzip nor valid UTF-8',
      copy(buf.subarray(start, end)),
    );
    return;
  }
  // Only ASCII text has as many characters as bytes (valid UTF-8 beyond ASCII takes 2-4 bytes per
  // 1-2 UTF-16 units), and only then are line offsets in the text byte offsets in `buf`.
  cur.rawBuf = text.length === end - start ? buf : undefined;
  cur.rawBase = start;
  decodeText(text, cur);
}

function decodeGzipPayload(b: Buffer, cur: DecodeCursor): void {
  const inflated = tryGunzip(b, cur.maxDecompressedBytes);
  if (typeof inflated === 'string') {
    reject(cur, inflated, lastGunzipError(), copy(b));
    return;
  }
  if (inflated.byteLength === 0) {
    reject(cur, RejectCode.empty, 'gzip of nothing', copy(b));
    return;
  }
  if (!isUtf8(inflated)) {
    reject(cur, RejectCode.notUtf8, 'gzip payload is not valid UTF-8', inflated);
    return;
  }
  const text = inflated.toString('utf8');
  cur.rawBuf = text.length === inflated.length ? inflated : undefined;
  cur.rawBase = 0;
  decodeText(text, cur);
}

const scan = new KplScan();

function decodeRecord(rec: KinesisEventRecord, cur: DecodeCursor): void {
  const out = cur.out;
  const k = rec?.kinesis as Partial<KinesisEventRecord['kinesis']> | undefined;
  cur.sequenceNumber = typeof k?.sequenceNumber === 'string' ? k.sequenceNumber : '';
  cur.subSequence = 0;
  const arrivalS = k?.approximateArrivalTimestamp;
  const arrivalMs =
    typeof arrivalS === 'number' && arrivalS > 0 ? Math.round(arrivalS * 1000) : cur.arrivalMs;
  cur.arrivalMs = arrivalMs;
  if (!(arrivalMs >= out.stats.oldestArrivalMs)) out.stats.oldestArrivalMs = arrivalMs;
  if (!(arrivalMs <= out.stats.newestArrivalMs)) out.stats.newestArrivalMs = arrivalMs;
  const data = k?.data;
  const partitionKey = typeof k?.partitionKey === 'string' ? k.partitionKey : '';
  const ctx = cur.ctx;
  ctx.textTimeMs = arrivalMs;
  const fallbackTimeMs = cur.missingTimestamp === 'arrival' ? arrivalMs : Number.NaN;
  if (typeof data !== 'string' || data.length === 0) {
    reject(cur, RejectCode.empty, 'record has no kinesis.data', new Uint8Array(0));
    return;
  }
  const expected = base64Bytes(data);
  // The decoded record goes into the batch's arena: its events' raw lines are views of it.
  const arena = out.arena;
  arena.reserve(expected + 3);
  const base = arena.used;
  const n = arena.buf.write(data, base, 'base64');
  out.stats.bytes += n;
  if (n !== expected) {
    reject(
      cur,
      RejectCode.invalidBase64,
      `kinesis.data is not base64 (${n} of ${expected} bytes)`,
      Buffer.from(data),
    );
    return;
  }
  const bytes = arena.buf.subarray(base, base + n);
  arena.used = base + n;
  const status = scanAggregate(bytes, scan, cur.verifyChecksums);
  if (status === 'not_aggregated') {
    out.stats.userRecords++;
    ctx.fallbackService = cur.defaultService ?? partitionKey;
    ctx.fallbackTimeMs = fallbackTimeMs;
    decodePayload(bytes, 0, n, cur);
    return;
  }
  out.stats.aggregatedRecords++;
  if (status !== 'ok') {
    reject(cur, status, scan.detail, copy(bytes));
    return;
  }
  const count = scan.count;
  if (count === 0) {
    reject(cur, RejectCode.empty, 'KPL aggregate with no user records', copy(bytes));
    return;
  }
  out.stats.userRecords += count;
  const starts = scan.starts;
  const ends = scan.ends;
  const keys = scan.partitionKeys;
  const keyIndex = scan.partitionKeyIndex;
  for (let j = 0; j < count; j++) {
    cur.subSequence = j;
    ctx.fallbackService = cur.defaultService ?? keys[keyIndex[j]!]!;
    ctx.fallbackTimeMs = fallbackTimeMs;
    ctx.textTimeMs = arrivalMs;
    decodePayload(bytes, starts[j]!, ends[j]!, cur);
  }
}

/** Options resolved once; {@link decodeKinesisBatch} resolves them itself when given plain options. */
function resolveMapping(m: FieldMapping | CompiledFieldMapping | undefined): CompiledFieldMapping {
  if (m === undefined) return compileFieldMapping({});
  return isCompiledFieldMapping(m) ? m : compileFieldMapping(m as FieldMapping);
}

/**
 * Decodes a Lambda Kinesis batch into log events, columnar. Never throws for any record content;
 * configuration errors (a bad `fieldMapping`) throw `FieldMappingError` before any record is read.
 *
 * Guarantees: every input record ends up in `recordEvents`, `recordRejects` or `recordSkipped`;
 * events and rejects keep the index of their parent record (the acknowledgement unit) and their
 * KPL sub-sequence number; arrival time is copied from the parent record.
 *
 * @param records `event.Records` of a Kinesis-triggered Lambda (or the local runner's equivalent)
 * @example
 * import { compileFieldMapping } from '../transforms/formats/fieldMapping.ts';
 * const options = { fieldMapping: compileFieldMapping(config.fieldMapping), nowMs: Date.now() };
 * export const handler = async (event: KinesisEvent) => {
 *   const batch = decodeKinesisBatch(event.Records, options);
 *   for (let i = 0; i < batch.eventCount; i++) {
 *     const e = batch.events[i]!;          // LogEvent
 *     const raw = batch.eventRawView(i);   // the line's bytes as they arrived, for the archive
 *     const parent = batch.eventRecord[i]!; // index into event.Records
 *   }
 *   for (let j = 0; j < batch.rejectCount; j++) archiveError(batch.rejectCode[j]!, batch.rejectRaw[j]!);
 * };
 */
export function decodeKinesisBatch(
  records: readonly KinesisEventRecord[],
  options: DecodeOptions = {},
): DecodedBatch {
  const out = new DecodedBatch(records.length);
  const ctx: ParseContext = { fallbackService: '', fallbackTimeMs: Number.NaN, textTimeMs: Number.NaN };
  const nowMs = options.nowMs ?? Number.NaN;
  const cur: DecodeCursor = {
    out,
    mapping: resolveMapping(options.fieldMapping),
    ctx,
    maxLineBytes: Math.min(options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES, MAX_KINESIS_RECORD_BYTES * 16),
    maxDecompressedBytes: options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES,
    missingTimestamp: options.missingTimestamp ?? 'reject',
    defaultService: options.defaultService,
    verifyChecksums: options.verifyChecksums !== false,
    keepAttributes: options.keepAttributes !== false,
    record: 0,
    sequenceNumber: '',
    subSequence: 0,
    arrivalMs: nowMs,
    rawBuf: undefined,
    rawBase: 0,
    lineStart: 0,
  };
  for (let i = 0; i < records.length; i++) {
    cur.record = i;
    cur.arrivalMs = nowMs;
    decodeRecord(records[i]!, cur);
    // Safety net for the accounting guarantee: a record that produced nothing is an `empty` reject.
    if (out.recordEvents[i] === 0 && out.recordRejects[i] === 0 && out.recordSkipped[i] === 0) {
      reject(cur, RejectCode.empty, 'record produced no events', new Uint8Array(0));
    }
  }
  return out;
}
