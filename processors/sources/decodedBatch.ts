/**
 * The result of decoding one Lambda Kinesis batch, columnar: parallel arrays instead of one object
 * per event or reject, so decoding allocates only the `LogEvent`s themselves and the consumer
 * (the ingest handler) can walk events, raw lines and acknowledgement units by index.
 *
 * Raw lines are kept as bytes, not strings: `eventRawBuffer[i]` holds line `i` at
 * `[eventRawStart[i], eventRawEnd[i])`. For KPL user records and NDJSON lines that buffer is the
 * decoded Kinesis record itself (one buffer per record, shared by its lines), so the archive packs
 * the bytes as they arrived instead of re-encoding every line from a string, and the batch keeps
 * no 1 KB string per event alive for the garbage collector to copy. Lines that exist only as
 * strings (CloudWatch messages, re-serialized OTel records) are encoded once into an arena.
 */
import { Buffer } from 'node:buffer';
import type { LogEvent, RejectCodeName } from '../schema.ts';

/** Arena chunk for lines that arrive as strings: large enough that a batch needs few. */
const ARENA_CHUNK_BYTES = 256 * 1024;

/**
 * Bytes a batch keeps (decoded records, encoded lines), carved from large chunks so a batch of
 * many small records allocates a few buffers, not one per record.
 *
 * @example
 * arena.reserve(n);
 * const written = arena.buf.write(data, arena.used, 'base64');
 * const bytes = arena.buf.subarray(arena.used, arena.used + written);
 * arena.used += written;
 */
export class ByteArena {
  buf: Buffer = Buffer.alloc(0);
  used = 0;

  constructor(private readonly chunkBytes: number) {}

  /** Makes `buf` have at least `bytes` free from `used` (a new chunk when not). */
  reserve(bytes: number): void {
    if (this.buf.length - this.used < bytes) {
      this.buf = Buffer.allocUnsafeSlow(Math.max(this.chunkBytes, bytes));
      this.used = 0;
    }
  }
}

/** Batch totals for per-batch telemetry (pipeline table, logs). */
export interface DecodeStats {
  /** Kinesis records in the batch. */
  records: number;
  /** Records that were KPL aggregates. */
  aggregatedRecords: number;
  /** User records after deaggregation (a plain record counts as one). */
  userRecords: number;
  /** Bytes of record data after base64, before gunzip. */
  bytes: number;
  /** CloudWatch Logs CONTROL_MESSAGEs and empty exports, skipped on purpose. */
  skipped: number;
  /** Blank lines between NDJSON lines, skipped on purpose. */
  blankLines: number;
  /** Oldest and newest `approximateArrivalTimestamp` in ms (NaN when the batch is empty). */
  oldestArrivalMs: number;
  newestArrivalMs: number;
}

/**
 * Events and rejects of one batch. Column `i` of the `event*` arrays is one event; column `j` of the
 * `reject*` arrays is one reject. `eventRecord` / `rejectRecord` index the input `Records` array:
 * that Kinesis record is the unit of acknowledgement.
 *
 * Every input record is accounted for: `recordEvents[r] + recordRejects[r] + recordSkipped[r] >= 1`.
 *
 * @example
 * const batch = decodeKinesisBatch(event.Records);
 * for (let i = 0; i < batch.eventCount; i++) {
 *   assignWindow(batch.events[i]!);
 *   archive.add(batch.eventRawView(i)); // bytes of the line as it arrived
 * }
 * for (let j = 0; j < batch.rejectCount; j++) {
 *   errors.add(batch.rejectCode[j]!, batch.rejectRaw[j]!, batch.rejectSequenceNumber[j]!);
 * }
 */
export class DecodedBatch {
  readonly events: LogEvent[] = [];
  /**
   * Buffer holding event `i`'s raw line — the line as it arrived (a JSON line, a CloudWatch message,
   * a re-serialized OTel record), UTF-8, at `[eventRawStart[i], eventRawEnd[i])`.
   */
  readonly eventRawBuffer: Buffer[] = [];
  readonly eventRawStart: number[] = [];
  readonly eventRawEnd: number[] = [];
  /** Index of the parent Kinesis record in the input. */
  readonly eventRecord: number[] = [];
  /** KPL sub-sequence number of the user record the event came from (0 for plain records). */
  readonly eventSubSequence: number[] = [];

  readonly rejectCode: RejectCodeName[] = [];
  readonly rejectDetail: string[] = [];
  readonly rejectRecord: number[] = [];
  readonly rejectSequenceNumber: string[] = [];
  /** Sub-sequence number of the user record; 0 for plain records and whole-record rejects. */
  readonly rejectSubSequence: number[] = [];
  /** The bytes to archive under the error prefix (the line, the user record, or the whole record). */
  readonly rejectRaw: Uint8Array[] = [];

  /** Per input record: events, rejects and intentional skips it produced. */
  readonly recordEvents: Int32Array;
  readonly recordRejects: Int32Array;
  readonly recordSkipped: Int32Array;

  readonly stats: DecodeStats;

  /** Decoded records and encoded lines that events point into (1 MiB: the largest Kinesis record). */
  readonly arena = new ByteArena(1024 * 1024);
  private readonly textArena = new ByteArena(ARENA_CHUNK_BYTES);
  private rawText: string[] | undefined;

  constructor(records: number) {
    this.recordEvents = new Int32Array(records);
    this.recordRejects = new Int32Array(records);
    this.recordSkipped = new Int32Array(records);
    this.stats = {
      records,
      aggregatedRecords: 0,
      userRecords: 0,
      bytes: 0,
      skipped: 0,
      blankLines: 0,
      oldestArrivalMs: Number.NaN,
      newestArrivalMs: Number.NaN,
    };
  }

  get eventCount(): number {
    return this.events.length;
  }

  get rejectCount(): number {
    return this.rejectCode.length;
  }

  /**
   * The raw lines as strings, decoded from their bytes on first use (the bytes are valid UTF-8, so
   * this is the text that was parsed). For tests and tools; the ingest path reads the bytes.
   */
  get eventRaw(): readonly string[] {
    const n = this.events.length;
    if (this.rawText === undefined || this.rawText.length !== n) {
      const text: string[] = new Array(n);
      for (let i = 0; i < n; i++) {
        text[i] = this.eventRawBuffer[i]!.toString('utf8', this.eventRawStart[i], this.eventRawEnd[i]);
      }
      this.rawText = text;
    }
    return this.rawText;
  }

  /** UTF-8 bytes of event `i`'s raw line. */
  eventRawBytes(i: number): number {
    return this.eventRawEnd[i]! - this.eventRawStart[i]!;
  }

  /** A view (no copy) of event `i`'s raw line. */
  eventRawView(i: number): Buffer {
    return this.eventRawBuffer[i]!.subarray(this.eventRawStart[i], this.eventRawEnd[i]);
  }

  /** An event whose raw line is `buf[start, end)` (bytes the batch may keep: not a scratch buffer). */
  addEvent(e: LogEvent, buf: Buffer, start: number, end: number, record: number, subSequence: number): void {
    this.events.push(e);
    this.eventRawBuffer.push(buf);
    this.eventRawStart.push(start);
    this.eventRawEnd.push(end);
    this.eventRecord.push(record);
    this.eventSubSequence.push(subSequence);
    this.recordEvents[record]!++;
  }

  /** An event whose raw line exists only as a string: its UTF-8 bytes go into the arena. */
  addEventText(e: LogEvent, raw: string, record: number, subSequence: number): void {
    const arena = this.textArena;
    // UTF-8 needs at most 3 bytes per UTF-16 code unit.
    arena.reserve(raw.length * 3);
    const start = arena.used;
    arena.used += arena.buf.write(raw, start, 'utf8');
    this.addEvent(e, arena.buf, start, arena.used, record, subSequence);
  }

  addReject(
    code: RejectCodeName,
    detail: string,
    record: number,
    sequenceNumber: string,
    subSequence: number,
    raw: Uint8Array,
  ): void {
    this.rejectCode.push(code);
    this.rejectDetail.push(detail);
    this.rejectRecord.push(record);
    this.rejectSequenceNumber.push(sequenceNumber);
    this.rejectSubSequence.push(subSequence);
    this.rejectRaw.push(raw);
    this.recordRejects[record]!++;
  }

  addSkip(record: number): void {
    this.recordSkipped[record]!++;
    this.stats.skipped++;
  }

  /** Rejects counted by code, for telemetry. */
  rejectCounts(): Partial<Record<RejectCodeName, number>> {
    const counts: Partial<Record<RejectCodeName, number>> = {};
    for (const code of this.rejectCode) counts[code] = (counts[code] ?? 0) + 1;
    return counts;
  }
}
