/**
 * The KPL aggregated-record wire format: encode, decode (MD5 verified) and an incremental builder
 * that packs user records under the Kinesis record size limit.
 *
 * Format (https://github.com/awslabs/amazon-kinesis-producer/blob/master/aggregation-format.md):
 * `F3 89 9A C2` magic, then a protobuf `AggregatedRecord`, then the 16-byte MD5 of the protobuf
 * bytes. The protobuf reader and writer here are hand-written for this one small message: they
 * read data as zero-copy views of the input and write one buffer with no intermediate objects.
 * `protobufjs` and `aws-kinesis-agg` stay the reference in `test/unit/kpl.conformance.test.ts`.
 *
 * This module imports nothing from the repository (DESIGN.md §2: `sdk/` is self-contained).
 */
import { Buffer } from 'node:buffer';
import * as nodeCrypto from 'node:crypto';
import { createHash } from 'node:crypto';

/** First four bytes of every KPL aggregated record. */
export const KPL_MAGIC: Uint8Array = Uint8Array.of(0xf3, 0x89, 0x9a, 0xc2);

/**
 * Largest Kinesis record: 1 MiB of data blob **plus** partition key, counted in UTF-8 bytes.
 * "The maximum size of a data blob (the data payload before base64-encoding) plus the partition key
 * is 1 MiB" — Kinesis Data Streams quotas and limits.
 */
export const MAX_KINESIS_RECORD_BYTES = 1_048_576;

/** Kinesis partition keys are 1 to 256 Unicode characters (PutRecords API reference). */
export const MAX_PARTITION_KEY_CHARS = 256;

const MD5_BYTES = 16;
/** `crypto.hash` (Node ≥ 20.12): one-shot digest without a Hash object; createHash elsewhere. */
const oneShotHash: typeof nodeCrypto.hash | undefined = (nodeCrypto as { hash?: typeof nodeCrypto.hash })
  .hash;
const MAGIC_BYTES = 4;
/** Magic + MD5 trailer around the protobuf body. */
const FRAME_BYTES = MAGIC_BYTES + MD5_BYTES;
/** Largest explicit hash key: the hash key space is 0 … 2^128 − 1. */
const MAX_HASH_KEY = (1n << 128n) - 1n;

// Protobuf tags (field number << 3 | wire type) of the AggregatedRecord message, kpl.proto v0.9.
const TAG_PARTITION_KEY_TABLE = 0x0a; // 1, LEN
const TAG_EXPLICIT_HASH_KEY_TABLE = 0x12; // 2, LEN
const TAG_RECORDS = 0x1a; // 3, LEN
const TAG_RECORD_PARTITION_KEY_INDEX = 0x08; // 1, VARINT
const TAG_RECORD_EXPLICIT_HASH_KEY_INDEX = 0x10; // 2, VARINT
const TAG_RECORD_DATA = 0x1a; // 3, LEN

/** One user record: what a producer put, before aggregation or after deaggregation. */
export interface KplUserRecord {
  partitionKey: string;
  /** Decimal string in 0 … 2^128 − 1; routes the record instead of MD5(partitionKey). */
  explicitHashKey?: string;
  data: Uint8Array;
}

/** One entry of a Kinesis `PutRecords` call. */
export interface KinesisPutEntry {
  partitionKey: string;
  explicitHashKey?: string;
  data: Uint8Array;
}

/** Result of {@link decodeAggregate}. Data never throws out of the decoder (DESIGN.md §3). */
export type KplDecodeResult =
  | { kind: 'ok'; records: KplUserRecord[] }
  /** No magic: a plain (non-aggregated) Kinesis record. */
  | { kind: 'not_aggregated' }
  | { kind: 'reject'; code: 'kpl_checksum_mismatch' | 'kpl_malformed'; detail: string };

/**
 * Thrown by the encoder for programming errors (an empty aggregate, an invalid partition or hash
 * key, an aggregate above the size budget). Decoding data never throws.
 */
export class KplError extends Error {
  override readonly name = 'KplError';
}

/** Byte length of a protobuf varint encoding `value` (a non-negative safe integer). */
function varintBytes(value: number): number {
  let n = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    n++;
  }
  return n;
}

function writeVarint(buf: Uint8Array, pos: number, value: number): number {
  while (value >= 0x80) {
    buf[pos++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  buf[pos++] = value;
  return pos;
}

/** Encoded size of a length-delimited field (1-byte tag) whose payload is `len` bytes. */
function lenFieldBytes(len: number): number {
  return 1 + varintBytes(len) + len;
}

function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function checkPartitionKey(key: string): void {
  // `key.length` counts UTF-16 code units, at least the character count: only long keys need the
  // slower code point count.
  if (
    typeof key !== 'string' ||
    key.length === 0 ||
    (key.length > MAX_PARTITION_KEY_CHARS && [...key].length > MAX_PARTITION_KEY_CHARS)
  ) {
    throw new KplError(
      `partition key must be 1 to ${MAX_PARTITION_KEY_CHARS} characters, got ${JSON.stringify(String(key).slice(0, 40))}`,
    );
  }
}

function checkExplicitHashKey(key: string): void {
  if (!/^(0|[1-9][0-9]{0,38})$/.test(key) || BigInt(key) > MAX_HASH_KEY) {
    throw new KplError(
      `explicit hash key must be a decimal integer in 0 … 2^128 − 1, got ${JSON.stringify(key.slice(0, 50))}`,
    );
  }
}

/** Encoded size of one `Record` message body. */
function recordBodyBytes(pkIndex: number, ehkIndex: number, dataBytes: number): number {
  let n = 1 + varintBytes(pkIndex) + lenFieldBytes(dataBytes);
  if (ehkIndex >= 0) n += 1 + varintBytes(ehkIndex);
  return n;
}

/**
 * Key tables and per-record indexes of an aggregate under construction. Shared by
 * {@link encodeAggregate} and {@link KplAggregateBuilder} so both produce identical bytes.
 */
class AggregateLayout {
  readonly pkIndex = new Map<string, number>();
  readonly ehkIndex = new Map<string, number>();
  readonly pkList: string[] = [];
  readonly ehkList: string[] = [];
  readonly records: KplUserRecord[] = [];
  readonly recordPk: number[] = [];
  readonly recordEhk: number[] = [];
  readonly recordBody: number[] = [];
  /** Protobuf body bytes so far. */
  bodyBytes = 0;

  /** Protobuf body bytes after adding `r`, without adding it. */
  bodyBytesWith(r: KplUserRecord): number {
    let n = this.bodyBytes;
    let pk = this.pkIndex.get(r.partitionKey);
    if (pk === undefined) {
      pk = this.pkList.length;
      n += lenFieldBytes(utf8Bytes(r.partitionKey));
    }
    let ehk = -1;
    if (r.explicitHashKey !== undefined) {
      const known = this.ehkIndex.get(r.explicitHashKey);
      if (known === undefined) {
        ehk = this.ehkList.length;
        n += lenFieldBytes(r.explicitHashKey.length);
      } else ehk = known;
    }
    return n + lenFieldBytes(recordBodyBytes(pk, ehk, r.data.byteLength));
  }

  add(r: KplUserRecord): void {
    let pk = this.pkIndex.get(r.partitionKey);
    if (pk === undefined) {
      pk = this.pkList.length;
      this.pkIndex.set(r.partitionKey, pk);
      this.pkList.push(r.partitionKey);
      this.bodyBytes += lenFieldBytes(utf8Bytes(r.partitionKey));
    }
    let ehk = -1;
    if (r.explicitHashKey !== undefined) {
      const known = this.ehkIndex.get(r.explicitHashKey);
      if (known === undefined) {
        ehk = this.ehkList.length;
        this.ehkIndex.set(r.explicitHashKey, ehk);
        this.ehkList.push(r.explicitHashKey);
        this.bodyBytes += lenFieldBytes(r.explicitHashKey.length);
      } else ehk = known;
    }
    const body = recordBodyBytes(pk, ehk, r.data.byteLength);
    this.records.push(r);
    this.recordPk.push(pk);
    this.recordEhk.push(ehk);
    this.recordBody.push(body);
    this.bodyBytes += lenFieldBytes(body);
  }

  /** Kinesis record size (data + outer partition key) if `bodyBytes` were the body size. */
  recordBytes(bodyBytes: number, outerKey: string): number {
    return FRAME_BYTES + bodyBytes + utf8Bytes(outerKey);
  }

  encode(): KinesisPutEntry {
    const first = this.records[0];
    if (first === undefined) throw new KplError('cannot encode an aggregate of zero records');
    const out = Buffer.allocUnsafe(FRAME_BYTES + this.bodyBytes);
    out.set(KPL_MAGIC, 0);
    let pos = MAGIC_BYTES;
    for (const key of this.pkList) pos = writeString(out, pos, TAG_PARTITION_KEY_TABLE, key);
    for (const key of this.ehkList) pos = writeString(out, pos, TAG_EXPLICIT_HASH_KEY_TABLE, key);
    for (let i = 0; i < this.records.length; i++) {
      const data = this.records[i]!.data;
      const ehk = this.recordEhk[i]!;
      out[pos++] = TAG_RECORDS;
      pos = writeVarint(out, pos, this.recordBody[i]!);
      out[pos++] = TAG_RECORD_PARTITION_KEY_INDEX;
      pos = writeVarint(out, pos, this.recordPk[i]!);
      if (ehk >= 0) {
        out[pos++] = TAG_RECORD_EXPLICIT_HASH_KEY_INDEX;
        pos = writeVarint(out, pos, ehk);
      }
      out[pos++] = TAG_RECORD_DATA;
      pos = writeVarint(out, pos, data.byteLength);
      out.set(data, pos);
      pos += data.byteLength;
    }
    const digest = createHash('md5').update(out.subarray(MAGIC_BYTES, pos)).digest();
    out.set(digest, pos);
    // The outer record is routed like its first user record, as the KPL does: all user records of
    // an aggregate land on the same shard and keep their relative order.
    const entry: KinesisPutEntry = { partitionKey: first.partitionKey, data: out };
    if (first.explicitHashKey !== undefined) entry.explicitHashKey = first.explicitHashKey;
    return entry;
  }
}

function writeString(out: Buffer, pos: number, tag: number, s: string): number {
  out[pos++] = tag;
  const len = utf8Bytes(s);
  pos = writeVarint(out, pos, len);
  return pos + out.write(s, pos, len, 'utf8');
}

function checkRecord(r: KplUserRecord): void {
  checkPartitionKey(r.partitionKey);
  if (r.explicitHashKey !== undefined) checkExplicitHashKey(r.explicitHashKey);
  if (!(r.data instanceof Uint8Array)) throw new KplError('user record data must be a Uint8Array');
}

/**
 * Encodes user records into one KPL aggregated Kinesis record. The entry is routed like the first
 * record (its partition key and explicit hash key).
 *
 * @throws {KplError} for zero records, an invalid key, or a result above
 *   {@link MAX_KINESIS_RECORD_BYTES} (data + partition key); use {@link KplAggregateBuilder} to pack
 *   under the limit.
 * @example
 * const entry = encodeAggregate([
 *   { partitionKey: 'checkout', data: Buffer.from('{"msg":"a"}') },
 *   { partitionKey: 'checkout', data: Buffer.from('{"msg":"b"}') },
 * ]);
 * await kinesis.send(new PutRecordsCommand({ StreamName, Records: [
 *   { PartitionKey: entry.partitionKey, Data: entry.data },
 * ] }));
 */
export function encodeAggregate(records: readonly KplUserRecord[]): KinesisPutEntry {
  const layout = new AggregateLayout();
  for (const r of records) {
    checkRecord(r);
    layout.add(r);
  }
  const first = records[0];
  if (first !== undefined) {
    const size = layout.recordBytes(layout.bodyBytes, first.partitionKey);
    if (size > MAX_KINESIS_RECORD_BYTES) {
      throw new KplError(
        `aggregate is ${size} bytes (data + partition key), above the Kinesis limit of ${MAX_KINESIS_RECORD_BYTES}`,
      );
    }
  }
  return layout.encode();
}

/**
 * Packs user records into one aggregated Kinesis record without ever exceeding a byte budget
 * (data + outer partition key, UTF-8 bytes). Add until {@link tryAdd} says no, then
 * {@link build}, {@link reset} and add again.
 *
 * A record too large to fit even alone is refused by an empty builder too (`tryAdd` → false with
 * `count === 0`); the caller must reject it.
 *
 * @example
 * const builder = new KplAggregateBuilder();
 * for (const r of userRecords) {
 *   if (builder.tryAdd(r)) continue;
 *   if (builder.count === 0) { reject(r); continue; }   // larger than a Kinesis record
 *   entries.push(builder.build());
 *   builder.reset();
 *   if (!builder.tryAdd(r)) reject(r);
 * }
 * if (builder.count > 0) entries.push(builder.build());
 */
export class KplAggregateBuilder {
  readonly maxRecordBytes: number;
  #layout = new AggregateLayout();

  /** @param maxRecordBytes budget per Kinesis record, data + partition key; default 1 MiB. */
  constructor(maxRecordBytes: number = MAX_KINESIS_RECORD_BYTES) {
    if (!(maxRecordBytes > FRAME_BYTES) || maxRecordBytes > MAX_KINESIS_RECORD_BYTES) {
      throw new KplError(`maxRecordBytes must be in ${FRAME_BYTES + 1} … ${MAX_KINESIS_RECORD_BYTES}`);
    }
    this.maxRecordBytes = maxRecordBytes;
  }

  /**
   * Adds `r` if the aggregate stays within the budget.
   * @returns false (and adds nothing) if it would exceed the budget.
   * @throws {KplError} for an invalid partition key, explicit hash key or data type.
   */
  tryAdd(r: KplUserRecord): boolean {
    checkRecord(r);
    const layout = this.#layout;
    const outerKey = layout.records[0]?.partitionKey ?? r.partitionKey;
    if (layout.recordBytes(layout.bodyBytesWith(r), outerKey) > this.maxRecordBytes) return false;
    layout.add(r);
    return true;
  }

  /** User records added since the last reset. */
  get count(): number {
    return this.#layout.records.length;
  }

  /** Size of the Kinesis record {@link build} would return: data + partition key, UTF-8 bytes. */
  get sizeBytes(): number {
    const first = this.#layout.records[0];
    return first === undefined ? 0 : this.#layout.recordBytes(this.#layout.bodyBytes, first.partitionKey);
  }

  /**
   * Encodes the records added so far (the builder keeps them until {@link reset}).
   * @throws {KplError} when empty.
   */
  build(): KinesisPutEntry {
    return this.#layout.encode();
  }

  reset(): void {
    this.#layout = new AggregateLayout();
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding. Never throws: every path that could read out of bounds checks `end` first.

/** Shared state of the reader; module-level so the hot loop allocates nothing per field. */
let rdPos = 0;
/** Set when a varint is longer than 10 bytes or runs past the end. */
let rdBad = false;

function readVarint(buf: Uint8Array, end: number): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (rdPos >= end) break;
    const b = buf[rdPos++]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return value;
    scale *= 128;
  }
  rdBad = true;
  return 0;
}

/** Skips a field of an unknown number (proto2 forward compatibility). False if malformed. */
function skipField(buf: Uint8Array, end: number, wireType: number): boolean {
  switch (wireType) {
    case 0:
      readVarint(buf, end);
      return !rdBad;
    case 1:
      rdPos += 8;
      return rdPos <= end;
    case 2: {
      const len = readVarint(buf, end);
      if (rdBad) return false;
      rdPos += len;
      return rdPos <= end;
    }
    case 5:
      rdPos += 4;
      return rdPos <= end;
    default:
      return false; // groups (3, 4) are not used by kpl.proto; 6 and 7 do not exist
  }
}

/**
 * True when `data` starts with the KPL magic number.
 * @example isAggregated(Buffer.from(record.data, 'base64'))
 */
export function isAggregated(data: Uint8Array): boolean {
  return (
    data.byteLength >= MAGIC_BYTES &&
    data[0] === 0xf3 &&
    data[1] === 0x89 &&
    data[2] === 0x9a &&
    data[3] === 0xc2
  );
}

/**
 * Reusable output of {@link scanAggregate}: user record `i` is `data[starts[i], ends[i])` with
 * partition key `partitionKeys[partitionKeyIndex[i]]` and, when `explicitHashKeyIndex[i] >= 0`,
 * explicit hash key `explicitHashKeys[explicitHashKeyIndex[i]]`. Arrays are overwritten by each scan.
 */
export class KplScan {
  count = 0;
  readonly starts: number[] = [];
  readonly ends: number[] = [];
  readonly partitionKeyIndex: number[] = [];
  readonly explicitHashKeyIndex: number[] = [];
  readonly partitionKeys: string[] = [];
  readonly explicitHashKeys: string[] = [];
  /** Why the last scan was rejected. */
  detail = '';
}

/** Outcome of {@link scanAggregate}. */
export type KplScanStatus = 'ok' | 'not_aggregated' | 'kpl_checksum_mismatch' | 'kpl_malformed';

function scanMalformed(scan: KplScan, detail: string): KplScanStatus {
  scan.detail = detail;
  scan.count = 0;
  return 'kpl_malformed';
}

/** MD5 of `body` equals the 16 bytes at `data[at…]`. One-shot `crypto.hash` where Node has it. */
function md5Matches(body: Uint8Array, data: Uint8Array, at: number): boolean {
  const digest =
    oneShotHash !== undefined ? oneShotHash('md5', body, 'buffer') : createHash('md5').update(body).digest();
  for (let i = 0; i < MD5_BYTES; i++) if (digest[i] !== data[at + i]) return false;
  return true;
}

/**
 * Allocation-light form of {@link decodeAggregate} for hot paths: fills `scan` with offsets instead
 * of creating a record object and a view per user record. Same checks, same outcomes; never throws.
 * `verifyChecksum = false` skips the MD5 (as aws-kinesis-agg's `computeChecksums` does): the
 * protobuf is still read defensively, but a corruption that keeps it well-formed goes unnoticed.
 * @example
 * const scan = new KplScan();
 * if (scanAggregate(buf, scan) === 'ok') {
 *   for (let i = 0; i < scan.count; i++) handle(buf.toString('utf8', scan.starts[i], scan.ends[i]));
 * }
 */
export function scanAggregate(data: Uint8Array, scan: KplScan, verifyChecksum = true): KplScanStatus {
  scan.count = 0;
  scan.partitionKeys.length = 0;
  scan.explicitHashKeys.length = 0;
  if (!isAggregated(data)) return 'not_aggregated';
  if (data.byteLength < FRAME_BYTES) {
    return scanMalformed(scan, `aggregated record of ${data.byteLength} bytes is shorter than magic + MD5`);
  }
  const end = data.byteLength - MD5_BYTES;
  if (verifyChecksum && !md5Matches(data.subarray(MAGIC_BYTES, end), data, end)) {
    scan.detail = 'MD5 of the protobuf body does not match';
    return 'kpl_checksum_mismatch';
  }
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const pkTable = scan.partitionKeys;
  const ehkTable = scan.explicitHashKeys;
  // Record bodies are read in a second pass, once both key tables are complete: protobuf allows
  // fields in any order. First pass: record body ranges go into starts/ends.
  const starts = scan.starts;
  const ends = scan.ends;
  let n = 0;
  rdPos = MAGIC_BYTES;
  rdBad = false;
  while (rdPos < end) {
    const tag = readVarint(buf, end);
    if (rdBad) return scanMalformed(scan, 'truncated field tag');
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if ((field === 1 || field === 2 || field === 3) && wireType === 2) {
      const len = readVarint(buf, end);
      if (rdBad || rdPos + len > end) return scanMalformed(scan, `field ${field} runs past the end`);
      if (field === 1) pkTable.push(buf.toString('utf8', rdPos, rdPos + len));
      else if (field === 2) ehkTable.push(buf.toString('utf8', rdPos, rdPos + len));
      else {
        starts[n] = rdPos;
        ends[n] = rdPos + len;
        n++;
      }
      rdPos += len;
    } else if (field <= 3 || !skipField(buf, end, wireType)) {
      return scanMalformed(scan, `unexpected field ${field} wire type ${wireType}`);
    }
  }
  const pkIndex = scan.partitionKeyIndex;
  const ehkIndex = scan.explicitHashKeyIndex;
  for (let i = 0; i < n; i++) {
    const recEnd = ends[i]!;
    rdPos = starts[i]!;
    let pk = -1;
    let ehk = -1;
    let dataStart = -1;
    let dataEnd = -1;
    while (rdPos < recEnd) {
      const tag = readVarint(buf, recEnd);
      if (rdBad) return scanMalformed(scan, `record ${i}: truncated field tag`);
      if (tag === TAG_RECORD_PARTITION_KEY_INDEX) {
        pk = readVarint(buf, recEnd);
      } else if (tag === TAG_RECORD_EXPLICIT_HASH_KEY_INDEX) {
        ehk = readVarint(buf, recEnd);
      } else if (tag === TAG_RECORD_DATA) {
        const len = readVarint(buf, recEnd);
        if (rdBad || rdPos + len > recEnd)
          return scanMalformed(scan, `record ${i}: data runs past the record`);
        dataStart = rdPos;
        dataEnd = rdPos + len;
        rdPos = dataEnd;
      } else {
        const field = Math.floor(tag / 8);
        if (field <= 3 || !skipField(buf, recEnd, tag & 7)) {
          return scanMalformed(scan, `record ${i}: unexpected field ${field} wire type ${tag & 7}`);
        }
      }
      if (rdBad) return scanMalformed(scan, `record ${i}: truncated varint`);
    }
    if (pk < 0 || dataStart < 0)
      return scanMalformed(scan, `record ${i}: missing partition key index or data`);
    if (pk >= pkTable.length) {
      return scanMalformed(scan, `record ${i}: partition key index ${pk} outside table of ${pkTable.length}`);
    }
    if (ehk >= ehkTable.length) {
      return scanMalformed(
        scan,
        `record ${i}: explicit hash key index ${ehk} outside table of ${ehkTable.length}`,
      );
    }
    starts[i] = dataStart;
    ends[i] = dataEnd;
    pkIndex[i] = pk;
    ehkIndex[i] = ehk;
  }
  scan.count = n;
  return 'ok';
}

const decodeScan = new KplScan();

/**
 * Decodes a KPL aggregated record into its user records, verifying the MD5 trailer. Record data are
 * zero-copy views into `data`. Never throws: a record without the magic is `not_aggregated` (a plain
 * record), a bad checksum is `kpl_checksum_mismatch`, anything else wrong is `kpl_malformed`.
 *
 * A corrupted byte *inside the magic* makes the record look plain — the format cannot tell; every
 * other corrupted byte is caught by the MD5.
 *
 * @example
 * const result = decodeAggregate(Buffer.from(kinesisRecord.data, 'base64'));
 * if (result.kind === 'ok') for (const r of result.records) handle(r.partitionKey, r.data);
 * else if (result.kind === 'not_aggregated') handlePlain(kinesisRecord);
 * else archiveReject(result.code, result.detail);
 */
export function decodeAggregate(data: Uint8Array): KplDecodeResult {
  const scan = decodeScan;
  const status = scanAggregate(data, scan);
  if (status === 'not_aggregated') return { kind: 'not_aggregated' };
  if (status !== 'ok') return { kind: 'reject', code: status, detail: scan.detail };
  const records: KplUserRecord[] = new Array(scan.count);
  for (let i = 0; i < scan.count; i++) {
    const rec: KplUserRecord = {
      partitionKey: scan.partitionKeys[scan.partitionKeyIndex[i]!]!,
      data: data.subarray(scan.starts[i]!, scan.ends[i]!),
    };
    const ehk = scan.explicitHashKeyIndex[i]!;
    if (ehk >= 0) rec.explicitHashKey = scan.explicitHashKeys[ehk]!;
    records[i] = rec;
  }
  return { kind: 'ok', records };
}
