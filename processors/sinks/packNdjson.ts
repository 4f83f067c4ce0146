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
  records: number;
  /** Sum of record bytes. */
  bytes: number;
  /** Sum of bytes Firehose bills ({@link firehoseBilledBytes} per record). */
  billedBytes: number;
}

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
 * Packs `lines` (each one log line, without or with a trailing newline) into as few Firehose records
 * as the limits allow, in input order, and groups the records into PutRecordBatch calls.
 *
 * @example
 * const { batches, billedBytes } = packNdjson(lines.map((l) => Buffer.from(l)));
 * for (const batch of batches) await firehose.send(new PutRecordBatchCommand({
 *   DeliveryStreamName: 'tidewatch-archive', Records: batch.map((r) => ({ Data: r.data })) }));
 */
export function packNdjson(lines: readonly Uint8Array[], limits: Partial<PackLimits> = {}): PackResult {
  const { maxBatchRecords, maxBatchBytes, maxRecordBytes: recordLimit } = resolvePackLimits(limits);
  // A record must also fit an otherwise empty call.
  const maxRecordBytes = Math.min(recordLimit, maxBatchBytes);
  const oversized: number[] = [];
  const batches: PackedRecord[][] = [];
  let batch: PackedRecord[] = [];
  let batchBytes = 0;
  let bytes = 0;
  let billedBytes = 0;
  let records = 0;

  const emit = (firstItem: number, endItem: number, recordBytes: number): void => {
    // Copy the lines of [firstItem, endItem) into one buffer, adding missing newlines.
    const data = new Uint8Array(recordBytes);
    let off = 0;
    for (let i = firstItem; i < endItem; i++) {
      const line = lines[i]!;
      const len = ndjsonLineBytes(line);
      if (len > maxRecordBytes) continue;
      data.set(line, off);
      off += line.length;
      if (len !== line.length) data[off++] = NEWLINE;
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
  for (let i = 0; i < lines.length; i++) {
    const len = ndjsonLineBytes(lines[i]!);
    if (len > maxRecordBytes) {
      oversized.push(i);
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
  if (first >= 0) emit(first, lines.length, recordBytes);
  if (batch.length > 0) batches.push(batch);
  return { batches, oversized, records, bytes, billedBytes };
}
