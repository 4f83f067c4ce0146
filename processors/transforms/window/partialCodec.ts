/**
 * Wire format of partial window summaries on the metrics stream, and chunking under the Kinesis
 * record limit with partition key = series key.
 *
 * Format "TWP1" (little endian, LEB128 varints): magic `TWP` + version, a string table (services,
 * dimension values, shards, rule names), a sequence-number table (packed two decimal digits per
 * byte — 28 bytes for a 56-digit Kinesis sequence number), then per partial
 * its dimensions, window, provenance, counters and DDSketch bins (`QuantileSketch.encodeTo`).
 *
 * Why not Apache Arrow IPC, the expected encoding: a metrics record holds ONE series (its
 * partition key must be the series key so a series always reaches the same merger), typically one
 * or two windows. Arrow IPC repeats its schema in every stream and pads every buffer to 8 bytes,
 * so a one-series record costs ~2.7 KB where this format needs ~300 bytes
 * (`npx tsx bench/windows.bench.ts`, cases `codecTwp1` / `codecArrow`). `encodePartialsArrow` (partialArrow.ts)
 * remains for columnar export and as the measured alternative.
 */

import type { Outcome } from '../../schema.ts';
import { RejectCode } from '../../schema.ts';
import { comparePartials, type RuleAggregate, type WindowPartial } from './aggregateBatch.ts';
import { PartialCodecError } from './errors.ts';
import { isSequenceNumber } from './sequenceNumber.ts';
import { partitionKeyForSeries, seriesKey } from './seriesKey.ts';
import {
  type ByteReader,
  ByteWriter,
  QuantileSketch,
  readBytes,
  readF64,
  readU8,
  readVarint,
  readZigzag,
} from './sketch.ts';
import { WindowConfigDefaults } from './windowConfig.ts';

const MAGIC = [0x54, 0x57, 0x50] as const; // "TWP"
const VERSION = 1;
const KIND_CODE = { count: 0, sum: 1, sketch: 2 } as const;
const KIND_BY_CODE = ['count', 'sum', 'sketch'] as const;
const FLAG_ROUTE = 1;
const FLAG_STATUS = 2;

/** A Kinesis record's data plus partition key may not exceed 1 MiB (Kinesis PutRecords limits). */
export const MAX_KINESIS_RECORD_BYTES = 1_048_576;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 bytes of `s`; short ASCII strings (service names, shard ids) skip TextEncoder's overhead. */
function utf8Bytes(s: string): Uint8Array {
  if (s.length > 256) return encoder.encode(s);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return encoder.encode(s);
    out[i] = c;
  }
  return out;
}

/** Strict UTF-8 decode, with the same ASCII fast path. */
function utf8String(b: Uint8Array): string {
  if (b.length > 256) return decoder.decode(b);
  for (let i = 0; i < b.length; i++) if (b[i]! >= 0x80) return decoder.decode(b);
  return String.fromCharCode.apply(null, b as unknown as number[]);
}

/** Packs a decimal sequence number two digits per byte (BCD): 28 bytes for 56 digits, no BigInt. */
function seqToBytes(seq: string): Uint8Array {
  const n = seq.length;
  const out = new Uint8Array((n + 1) >> 1);
  for (let i = 0; i < n; i += 2) {
    const hi = seq.charCodeAt(i) - 48;
    const lo = i + 1 < n ? seq.charCodeAt(i + 1) - 48 : 15;
    out[i >> 1] = (hi << 4) | lo;
  }
  return out;
}

const DIGIT_PAIRS: string[] = [];
for (let i = 0; i < 256; i++) {
  const hi = i >> 4;
  const lo = i & 15;
  DIGIT_PAIRS.push(hi < 10 && lo < 10 ? `${hi}${lo}` : hi < 10 && lo === 15 ? `${hi}` : '');
}

function bytesToSeq(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) {
    const pair = DIGIT_PAIRS[b[i]!]!;
    // Only the last byte may hold a single digit (high nibble + 0xF padding).
    if (pair.length === 0 || (pair.length === 1 && i !== b.length - 1)) {
      throw new PartialCodecError('malformed packed sequence number');
    }
    s += pair;
  }
  if (!isSequenceNumber(s)) throw new PartialCodecError(`malformed sequence number ${s}`);
  return s;
}

class Table {
  readonly index = new Map<string, number>();
  readonly items: string[] = [];
  id(s: string): number {
    let i = this.index.get(s);
    if (i === undefined) {
      i = this.items.length;
      this.items.push(s);
      this.index.set(s, i);
    }
    return i;
  }
}

/**
 * Encodes partials (any mix of series) into one byte array.
 *
 * @example
 * const bytes = encodePartials(result.partials);
 * const back = decodePartials(bytes); // { kind: 'ok', value: [...] }
 */
export function encodePartials(partials: readonly WindowPartial[]): Uint8Array {
  const strings = new Table();
  const seqs = new Table();
  for (const p of partials) {
    strings.id(p.dimensions.service);
    if (p.dimensions.route !== undefined) strings.id(p.dimensions.route);
    if (p.dimensions.statusClass !== undefined) strings.id(p.dimensions.statusClass);
    strings.id(p.sourceShard);
    for (const r of p.rules) strings.id(r.name);
    if (!isSequenceNumber(p.firstSequenceNumber) || !isSequenceNumber(p.lastSequenceNumber)) {
      throw new PartialCodecError(`partial of ${p.seriesKey} has a malformed sequence number`);
    }
    seqs.id(p.firstSequenceNumber);
    seqs.id(p.lastSequenceNumber);
  }
  const w = new ByteWriter(64 + partials.length * 160);
  for (const b of MAGIC) w.u8(b);
  w.u8(VERSION);
  w.varint(strings.items.length);
  for (const s of strings.items) {
    const b = utf8Bytes(s);
    w.varint(b.length);
    w.bytes(b);
  }
  w.varint(seqs.items.length);
  for (const s of seqs.items) {
    const b = seqToBytes(s);
    w.varint(b.length);
    w.bytes(b);
  }
  w.varint(partials.length);
  for (const p of partials) {
    const d = p.dimensions;
    w.u8((d.route !== undefined ? FLAG_ROUTE : 0) | (d.statusClass !== undefined ? FLAG_STATUS : 0));
    w.varint(strings.id(d.service));
    if (d.route !== undefined) w.varint(strings.id(d.route));
    if (d.statusClass !== undefined) w.varint(strings.id(d.statusClass));
    w.zigzag(p.windowStartMs);
    w.varint(p.windowMs);
    w.varint(strings.id(p.sourceShard));
    w.varint(seqs.id(p.firstSequenceNumber));
    w.varint(seqs.id(p.lastSequenceNumber));
    w.f64(p.sourceWatermarkMs);
    w.varint(p.count);
    w.varint(p.errors);
    w.varint(p.status4xx);
    w.varint(p.status5xx);
    w.varint(p.bytes);
    p.latency.encodeTo(w);
    w.varint(p.rules.length);
    for (const r of p.rules) {
      w.varint(strings.id(r.name));
      w.u8(KIND_CODE[r.kind]);
      if (r.kind === 'count') w.varint(r.value);
      else if (r.kind === 'sum') w.f64(r.value);
      else (r.sketch ?? new QuantileSketch()).encodeTo(w);
    }
  }
  return w.finish();
}

function str(table: readonly string[], i: number): string {
  const s = table[i];
  if (s === undefined) throw new PartialCodecError(`string index ${i} out of range`);
  return s;
}

/**
 * Decodes `encodePartials` output. Never throws: malformed bytes give
 * `{ kind: 'reject', code: 'partial_malformed', detail }` (permanent — archive and count, do not retry).
 *
 * @example
 * const outcome = decodePartials(record.data);
 * if (outcome.kind === 'ok') merger.add(outcome.value, Date.now());
 */
export function decodePartials(bytes: Uint8Array): Outcome<WindowPartial[]> {
  try {
    return { kind: 'ok', value: decodeOrThrow(bytes) };
  } catch (err) {
    return { kind: 'reject', code: RejectCode.partialMalformed, detail: (err as Error).message };
  }
}

function decodeOrThrow(bytes: Uint8Array): WindowPartial[] {
  const r: ByteReader = {
    bytes,
    view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    offset: 0,
  };
  for (const b of MAGIC)
    if (readU8(r) !== b) throw new PartialCodecError('not a partial-window chunk (bad magic)');
  const version = readU8(r);
  if (version !== VERSION) throw new PartialCodecError(`unsupported partial chunk version ${version}`);
  const nStrings = readVarint(r);
  if (nStrings > bytes.length) throw new PartialCodecError('string table larger than the chunk');
  const strings: string[] = [];
  for (let i = 0; i < nStrings; i++) strings.push(utf8String(readBytes(r, readVarint(r))));
  const nSeqs = readVarint(r);
  if (nSeqs > bytes.length) throw new PartialCodecError('sequence table larger than the chunk');
  const seqs: string[] = [];
  for (let i = 0; i < nSeqs; i++) {
    const len = readVarint(r);
    if (len > 65) throw new PartialCodecError('sequence number longer than 129 digits');
    seqs.push(bytesToSeq(readBytes(r, len)));
  }
  const n = readVarint(r);
  if (n > bytes.length) throw new PartialCodecError('partial count larger than the chunk');
  const out: WindowPartial[] = [];
  for (let i = 0; i < n; i++) {
    const flags = readU8(r);
    if (flags > 3) throw new PartialCodecError(`unknown dimension flags ${flags}`);
    const dims: { service: string; route?: string; statusClass?: string } = {
      service: str(strings, readVarint(r)),
    };
    if (flags & FLAG_ROUTE) dims.route = str(strings, readVarint(r));
    if (flags & FLAG_STATUS) dims.statusClass = str(strings, readVarint(r));
    const windowStartMs = readZigzag(r);
    const windowMs = readVarint(r);
    if (windowMs < WindowConfigDefaults.minWindowMs || windowMs > WindowConfigDefaults.maxWindowMs) {
      throw new PartialCodecError(`window size ${windowMs} ms out of range`);
    }
    const sourceShard = str(strings, readVarint(r));
    const firstSequenceNumber = str(seqs, readVarint(r));
    const lastSequenceNumber = str(seqs, readVarint(r));
    const sourceWatermarkMs = readF64(r);
    if (Number.isNaN(sourceWatermarkMs) || sourceWatermarkMs === Number.POSITIVE_INFINITY) {
      throw new PartialCodecError('source watermark is not a time');
    }
    const count = readVarint(r);
    const errors = readVarint(r);
    const status4xx = readVarint(r);
    const status5xx = readVarint(r);
    const bytesTotal = readVarint(r);
    if (errors > count || status4xx > count || status5xx > count) {
      throw new PartialCodecError('error or status counts exceed the event count');
    }
    const latency = QuantileSketch.decodeFrom(r);
    if (latency.count > count) throw new PartialCodecError('more latencies than events');
    const nRules = readVarint(r);
    if (nRules > WindowConfigDefaults.maxRules) throw new PartialCodecError(`too many rules (${nRules})`);
    const rules: RuleAggregate[] = [];
    for (let j = 0; j < nRules; j++) {
      const name = str(strings, readVarint(r));
      const kind = KIND_BY_CODE[readU8(r)];
      if (kind === undefined) throw new PartialCodecError('unknown rule kind');
      if (kind === 'count') rules.push({ name, kind, value: readVarint(r) });
      else if (kind === 'sum') rules.push({ name, kind, value: readF64(r) });
      else {
        const sketch = QuantileSketch.decodeFrom(r);
        rules.push({ name, kind, value: sketch.count, sketch });
      }
    }
    out.push({
      seriesKey: seriesKey(dims),
      dimensions: dims,
      windowStartMs,
      windowMs,
      sourceShard,
      firstSequenceNumber,
      lastSequenceNumber,
      sourceWatermarkMs,
      count,
      errors,
      status4xx,
      status5xx,
      bytes: bytesTotal,
      latency,
      rules,
    });
  }
  if (r.offset !== bytes.length) throw new PartialCodecError('trailing bytes after the last partial');
  return out;
}

/** One metrics-stream record: the encoded partials of one series. */
export interface PartialChunk {
  /** = `partitionKeyForSeries(seriesKey)`: one series always lands on the same metrics shard. */
  readonly partitionKey: string;
  readonly seriesKey: string;
  readonly data: Uint8Array;
  readonly partialCount: number;
}

/**
 * Groups partials by series and encodes each group as one chunk; a group whose encoding (plus the
 * UTF-8 partition key) would exceed `maxRecordBytes` is split by windows into several chunks with
 * the same partition key. Output is deterministic: the same partials give the same chunks in the
 * same order (series key, window start).
 *
 * @example
 * for (const c of chunkPartials(result.partials)) {
 *   entries.push({ PartitionKey: c.partitionKey, Data: c.data });
 * }
 */
export function chunkPartials(
  partials: readonly WindowPartial[],
  opts: { maxRecordBytes?: number } = {},
): PartialChunk[] {
  const limit = opts.maxRecordBytes ?? MAX_KINESIS_RECORD_BYTES;
  const sorted = [...partials].sort(comparePartials);
  const chunks: PartialChunk[] = [];
  let i = 0;
  while (i < sorted.length) {
    const key = sorted[i]!.seriesKey;
    let j = i + 1;
    while (j < sorted.length && sorted[j]!.seriesKey === key) j++;
    const partitionKey = partitionKeyForSeries(key);
    const budget = limit - encoder.encode(partitionKey).length;
    splitInto(sorted.slice(i, j), budget, partitionKey, key, chunks);
    i = j;
  }
  return chunks;
}

function splitInto(
  group: WindowPartial[],
  budget: number,
  partitionKey: string,
  key: string,
  out: PartialChunk[],
): void {
  const data = encodePartials(group);
  if (data.length <= budget) {
    out.push({ partitionKey, seriesKey: key, data, partialCount: group.length });
    return;
  }
  if (group.length === 1) {
    throw new PartialCodecError(
      `one partial of ${key} encodes to ${data.length} bytes, more than the record budget ${budget}`,
    );
  }
  const mid = group.length >> 1;
  splitInto(group.slice(0, mid), budget, partitionKey, key, out);
  splitInto(group.slice(mid), budget, partitionKey, key, out);
}
