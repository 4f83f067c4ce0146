/**
 * Packs raw log lines as NDJSON into Firehose records and records into PutRecordBatch calls.
 *
 * Firehose limits (API_PutRecordBatch, https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html):
 * "Each PutRecordBatch request supports up to 500 records. Each record in the request can be as large
 * as 1,000 KB (before base64 encoding), up to a limit of 4 MB for the entire request." The API model
 * caps `Record.Data` at 1,024,000 bytes, so 1,000 KiB; the 4 MB request limit is applied to the sum of
 * record bytes as 4 MiB.
 *
 * Firehose bills ingestion per record rounded up to the next 5 KB (Amazon Data Firehose pricing), so a
 * 200-byte line sent alone costs as much as 5 KB: lines are concatenated, newline-terminated, until
 * the next one would not fit. Firehose concatenates records as-is into the S3 object, so the object is
 * valid NDJSON.
 */

/** Firehose limits and billing facts the packer enforces. */
export const FirehoseLimits = {
  /** `Record.Data` maximum: 1,000 KiB before base64. */
  maxRecordBytes: 1_024_000,
  /** Records per PutRecordBatch. */
  maxBatchRecords: 500,
  /** Bytes per PutRecordBatch (sum of record data). */
  maxBatchBytes: 4 * 1024 * 1024,
  /** Ingestion is billed per record rounded up to this step (5 KB, taken as 5 KiB). */
  billingIncrementBytes: 5 * 1024,
} as const;

/** Packing limits; each defaults to, and may not exceed, the Firehose value. */
export interface PackLimits {
  maxRecordBytes: number;
  maxBatchRecords: number;
  maxBatchBytes: number;
}

/** One Firehose record: NDJSON bytes and the input items `[firstItem, endItem)` it carries. */
export interface PackedRecord {
  data: Uint8Array;
  /** First input index in this record. */
  firstItem: number;
  /** One past the last input index (inputs in between listed in `oversized` are not in it). */
  endItem: number;
}

/** Result of {@link packNdjson}. */
export interface PackResult {
  /** PutRecordBatch calls, each within the record-count and byte limits. */
  batches: PackedRecord[][];
  /** Inputs that cannot fit one record even alone (line + newline > maxRecordBytes). */
  oversized: number[];
  /** Bytes of each `oversized` input, aligned with it. */
  oversizedBytes: number[];
  records: number;
  /** Sum of record bytes. */
  bytes: number;
  /** Sum of bytes Firehose bills ({@link firehoseBilledBytes} per record). */
  billedBytes: number;
}

import { Buffer } from 'node:buffer';

const NEWLINE = 0x0a;

/**
 * Bytes Firehose bills for one record of `recordBytes`: rounded up to the next 5 KB step, minimum one step.
 *
 * @example
 * firehoseBilledBytes(1);    // 5120
 * firehoseBilledBytes(5120); // 5120
 * firehoseBilledBytes(5121); // 10240
 */
export function firehoseBilledBytes(recordBytes: number): number {
  const step = FirehoseLimits.billingIncrementBytes;
  return Math.max(1, Math.ceil(recordBytes / step)) * step;
}

/** Bytes a line takes in a record: its length plus a newline unless it already ends with one. */
export function ndjsonLineBytes(line: Uint8Array): number {
  return line.length > 0 && line[line.length - 1] === NEWLINE ? line.length : line.length + 1;
}

/**
 * Resolves limits against the Firehose maxima; throws RangeError if any is above them or < 1.
 *
 * @example
 * resolvePackLimits({ maxRecordBytes: 64 * 1024 }).maxBatchRecords; // 500
 */
export function resolvePackLimits(limits: Partial<PackLimits> = {}): PackLimits {
  const out: PackLimits = {
    maxRecordBytes: limits.maxRecordBytes ?? FirehoseLimits.maxRecordBytes,
    maxBatchRecords: limits.maxBatchRecords ?? FirehoseLimits.maxBatchRecords,
    maxBatchBytes: limits.maxBatchBytes ?? FirehoseLimits.maxBatchBytes,
  };
  for (const key of ['maxRecordBytes', 'maxBatchRecords', 'maxBatchBytes'] as const) {
    const v = out[key];
    if (!Number.isInteger(v) || v < 1 || v > FirehoseLimits[key]) {
      throw new RangeError(
        `${key} must be an integer in 1..${FirehoseLimits[key]} (Firehose limit), got ${v}`,
      );
    }
  }
  return out;
}

/**
 * Lines to pack, read by index: either an array of byte arrays or ranges of shared buffers. Two
 * small classes instead of callbacks, so the packer's loop has no per-line closure or view.
 */
interface LineSource {
  readonly count: number;
  /** Bytes of line `i` as given (a trailing newline included if it has one). */
  bytesOf(i: number): number;
  /** Last byte of line `i` (-1 when empty). */
  lastByteOf(i: number): number;
  /** Copies line `i` into `dst` at `at`. */
  copyTo(i: number, dst: Buffer, at: number): void;
}

class ArrayLines implements LineSource {
  constructor(private readonly lines: readonly Uint8Array[]) {}
  get count(): number {
    return this.lines.length;
  }
  bytesOf(i: number): number {
    return this.lines[i]!.length;
  }
  lastByteOf(i: number): number {
    const line = this.lines[i]!;
    return line.length > 0 ? line[line.length - 1]! : -1;
  }
  copyTo(i: number, dst: Buffer, at: number): void {
    dst.set(this.lines[i]!, at);
  }
}

class SliceLines implements LineSource {
  constructor(
    private readonly buffers: readonly Buffer[],
    private readonly starts: ArrayLike<number>,
    private readonly ends: ArrayLike<number>,
    private readonly from: number,
    readonly count: number,
  ) {}
  bytesOf(i: number): number {
    const k = this.from + i;
    return this.ends[k]! - this.starts[k]!;
  }
  lastByteOf(i: number): number {
    const k = this.from + i;
    const end = this.ends[k]!;
    return end > this.starts[k]! ? this.buffers[k]![end - 1]! : -1;
  }
  copyTo(i: number, dst: Buffer, at: number): void {
    const k = this.from + i;
    // Buffer#copy with offsets: no view object per line.
    this.buffers[k]!.copy(dst, at, this.starts[k]!, this.ends[k]!);
  }
}

/**
 * Packs `lines` (each one log line, without or with a trailing newline) into as few Firehose records
 * as the limits allow, in input order, and groups the records into PutRecordBatch calls.
 *
 * @example
 * const { batches, billedBytes } = packNdjson(lines.map((l) => Buffer.from(l)));
 * for (const batch of batches) await firehose.send(new PutRecordBatchCommand({
 *   DeliveryStreamName: 'tidewatch-archive', Records: batch.map((r) => ({ Data: r.data })) }));
 */
export function packNdjson(lines: readonly Uint8Array[], limits: Partial<PackLimits> = {}): PackResult {
  return packLines(new ArrayLines(lines), limits);
}

/**
 * {@link packNdjson} over lines that are ranges of shared buffers: line `i` (for `i` in
 * `[from, to)`) is `buffers[i][starts[i], ends[i])`; item `k` of the result is line `from + k`.
 * Packs bytes as they arrived (e.g. views into decoded Kinesis records): no per-line copy or view
 * before the one copy into the Firehose record.
 *
 * @example
 * const packed = packNdjsonSlices(batch.eventRawBuffer, batch.eventRawStart, batch.eventRawEnd, 0, batch.eventCount);
 */
export function packNdjsonSlices(
  buffers: readonly Buffer[],
  starts: ArrayLike<number>,
  ends: ArrayLike<number>,
  from: number,
  to: number,
  limits: Partial<PackLimits> = {},
): PackResult {
  return packLines(new SliceLines(buffers, starts, ends, from, to - from), limits);
}

function packLines(lines: LineSource, limits: Partial<PackLimits>): PackResult {
  const { maxBatchRecords, maxBatchBytes, maxRecordBytes: recordLimit } = resolvePackLimits(limits);
  // A record must also fit an otherwise empty call.
  const maxRecordBytes = Math.min(recordLimit, maxBatchBytes);
  const oversized: number[] = [];
  const oversizedBytes: number[] = [];
  const batches: PackedRecord[][] = [];
  let batch: PackedRecord[] = [];
  let batchBytes = 0;
  let bytes = 0;
  let billedBytes = 0;
  let records = 0;

  const emit = (firstItem: number, endItem: number, recordBytes: number): void => {
    // Copy the lines of [firstItem, endItem) into one buffer, adding missing newlines. Every byte is
    // written, so the buffer need not be zero-filled.
    const data = Buffer.allocUnsafeSlow(recordBytes);
    let off = 0;
    for (let i = firstItem; i < endItem; i++) {
      const n = lines.bytesOf(i);
      const newline = lines.lastByteOf(i) !== NEWLINE;
      if (n + (newline ? 1 : 0) > maxRecordBytes) continue;
      lines.copyTo(i, data, off);
      off += n;
      if (newline) data[off++] = NEWLINE;
    }
    if (batch.length > 0 && (batch.length === maxBatchRecords || batchBytes + recordBytes > maxBatchBytes)) {
      batches.push(batch);
      batch = [];
      batchBytes = 0;
    }
    batch.push({ data, firstItem, endItem });
    batchBytes += recordBytes;
    bytes += recordBytes;
    billedBytes += firehoseBilledBytes(recordBytes);
    records++;
  };

  let first = -1;
  let recordBytes = 0;
  const count = lines.count;
  for (let i = 0; i < count; i++) {
    const n = lines.bytesOf(i);
    const len = lines.lastByteOf(i) === NEWLINE ? n : n + 1;
    if (len > maxRecordBytes) {
      oversized.push(i);
      oversizedBytes.push(n);
      continue;
    }
    if (first >= 0 && recordBytes + len > maxRecordBytes) {
      emit(first, i, recordBytes);
      first = -1;
      recordBytes = 0;
    }
    if (first < 0) first = i;
    recordBytes += len;
  }
  if (first >= 0) emit(first, count, recordBytes);
  if (batch.length > 0) batches.push(batch);
  return { batches, oversized, oversizedBytes, records, bytes, billedBytes };
}
