/**
 * The result of decoding one Lambda Kinesis batch, columnar: parallel arrays instead of one object
 * per event or reject, so decoding allocates only the `LogEvent`s themselves and the consumer
 * (the ingest handler) can walk events, raw lines and acknowledgement units by index.
 */
import type { LogEvent, RejectCodeName } from '../schema.ts';

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
 *   archive.add(batch.eventRaw[i]!);
 * }
 * for (let j = 0; j < batch.rejectCount; j++) {
 *   errors.add(batch.rejectCode[j]!, batch.rejectRaw[j]!, batch.rejectSequenceNumber[j]!);
 * }
 */
export class DecodedBatch {
  readonly events: LogEvent[] = [];
  /** The line as it arrived (a JSON line, a CloudWatch message, a re-serialized OTel record). */
  readonly eventRaw: string[] = [];
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

  addEvent(e: LogEvent, raw: string, record: number, subSequence: number): void {
    this.events.push(e);
    this.eventRaw.push(raw);
    this.eventRecord.push(record);
    this.eventSubSequence.push(subSequence);
    this.recordEvents[record]!++;
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
