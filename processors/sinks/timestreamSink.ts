/**
 * Timestream for LiveAnalytics writer: one multi-measure record per series·window.
 *
 * - At most 100 records per `WriteRecords` call (Timestream quota "records per WriteRecords API
 *   request: 100", https://docs.aws.amazon.com/timestream/latest/developerguide/ts-limits.html).
 * - Dimensions shared by every record of a call go into `CommonAttributes` (merged server-side;
 *   overlapping a record's own dimensions is a ValidationException, so a dimension is either common
 *   or per-record, never both). Records are sorted by table and dimensions first so calls share more.
 * - `Time` is the window start in ms (`TimeUnit: MILLISECONDS`) and `Version` comes from the record:
 *   a retried call rewrites identical rows, which Timestream accepts idempotently; a correction
 *   carries a higher version and upserts (API_WriteRecords "Upserts").
 * - `RejectedRecordsException.RejectedRecords[].RecordIndex` indexes the request's `Records`; it is
 *   mapped back to the caller's record, which gets `reject{timestream_rejected}` with the reason.
 *   The records of that call that were not rejected were ingested.
 * - Throttling, 5xx and network errors retry the whole call (idempotent) with full-jitter backoff
 *   until the budget is spent, then `retry` outcomes. A ValidationException is isolated by splitting
 *   the call in halves down to the one offending record, which is rejected; the rest are written.
 */
import {
  type _Record,
  type Dimension,
  type MeasureValue,
  type TimestreamWriteClient,
  WriteRecordsCommand,
  type WriteRecordsRequest,
} from '@aws-sdk/client-timestream-write';
import { Names, RejectCode } from '../schema.ts';
import { Backoff, type BackoffOptions, errorName, isRetryableError } from './backoff.ts';
import { SinkConfigError } from './errors.ts';
import {
  countOutcomes,
  emptyWriteStats,
  measureNameOf,
  measureTypeOf,
  OK_OUTCOME,
  type SeriesWindowRecord,
  type SinkOutcome,
  type TimeSeriesSink,
  type TimeSeriesWriteOptions,
  type TimeSeriesWriteResult,
  type TimeSeriesWriteStats,
} from './timeSeriesRecord.ts';

/** Timestream WriteRecords quota: records per request (ts-limits.html). */
export const MAX_TIMESTREAM_RECORDS_PER_CALL = 100;

/** Options of {@link TimestreamSink}. */
export interface TimestreamSinkOptions {
  /**
   * A `TimestreamWriteClient`. Pass `endpoint` explicitly when not on AWS: only an explicit endpoint
   * skips endpoint discovery (`DescribeEndpoints`). Prefer `maxAttempts: 1` so this sink's budgeted
   * backoff is the only retry loop (see `sinkClients.ts`).
   */
  client: TimestreamWriteClient;
  /** Default `Names.timestreamDatabase`. */
  databaseName?: string;
  /** Records per call, 1..100. Default 100. */
  maxRecordsPerCall?: number;
  /** Parallel WriteRecords calls. Default 4. */
  concurrency?: number;
  /** Budget when a write passes none. Default 20,000 ms. */
  defaultBudgetMs?: number;
  /** Backoff tuning (budget comes from the write options). */
  backoff?: Omit<BackoffOptions, 'budgetMs' | 'deadlineMs'>;
}

/** One planned WriteRecords call: the request and, per request record, the caller's record index. */
export interface WriteRecordsPlan {
  input: WriteRecordsRequest;
  indices: number[];
}

/** Result of {@link planWriteRecords}. */
export interface WriteRecordsPlanResult {
  plans: WriteRecordsPlan[];
  /** Records refused before sending (no finite measure, bad time/version), with a detail. */
  invalid: Array<{ index: number; detail: string }>;
  /** `supersededBy[i]` is the index of the same-key record with a higher version, or -1. */
  supersededBy: Int32Array;
}

const MAX_DETAIL_CHARS = 300;

function clip(s: string): string {
  return s.length <= MAX_DETAIL_CHARS ? s : `${s.slice(0, MAX_DETAIL_CHARS - 1)}…`;
}

function formatBigint(v: number): string {
  const r = Math.round(v);
  // String(1e21) is '1e+21', which is not a BIGINT literal.
  return Math.abs(r) < 1e21 ? String(r) : BigInt(r).toString();
}

/** The record's measures as Timestream `MeasureValues` (non-finite values dropped), or undefined. */
function toMeasureValues(r: SeriesWindowRecord): MeasureValue[] | undefined {
  const out: MeasureValue[] = [];
  for (const name in r.measures) {
    const v = r.measures[name];
    if (v === undefined || !Number.isFinite(v)) continue;
    const type = measureTypeOf(r.table, name);
    out.push({ Name: name, Value: type === 'BIGINT' ? formatBigint(v) : String(v), Type: type });
  }
  return out.length > 0 ? out : undefined;
}

/** Table and non-empty dimensions in name order: the series identity (the upsert key without time). */
function dimensionSignature(r: SeriesWindowRecord): string {
  const names = Object.keys(r.dimensions).sort();
  let sig = r.table;
  for (const n of names) {
    const v = r.dimensions[n];
    if (v !== undefined && v !== '') sig += `\u0000${n}=${v}`;
  }
  return sig;
}

/**
 * Builds one WriteRecords request for `indices`: dimensions, `Time` and `Version` equal across all
 * of them go to `CommonAttributes`, the rest stay on each record.
 *
 * @example
 * const input = buildWriteRecordsInput(records, [0, 1], measureValues, 'tidewatch');
 * await client.send(new WriteRecordsCommand(input));
 */
export function buildWriteRecordsInput(
  records: readonly SeriesWindowRecord[],
  indices: readonly number[],
  measureValues: readonly (MeasureValue[] | undefined)[],
  databaseName: string,
): WriteRecordsRequest {
  const first = records[indices[0]!]!;
  const common = new Map<string, string>();
  for (const name in first.dimensions) {
    const v = first.dimensions[name];
    if (v !== undefined && v !== '') common.set(name, v);
  }
  let commonTime = true;
  let commonVersion = true;
  for (let k = 1; k < indices.length; k++) {
    const r = records[indices[k]!]!;
    for (const [name, value] of common) if (r.dimensions[name] !== value) common.delete(name);
    if (r.timeMs !== first.timeMs) commonTime = false;
    if (r.version !== first.version) commonVersion = false;
  }
  const out: _Record[] = new Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const r = records[indices[k]!]!;
    const dims: Dimension[] = [];
    for (const name in r.dimensions) {
      const value = r.dimensions[name];
      if (value === undefined || value === '' || common.has(name)) continue;
      dims.push({ Name: name, Value: value, DimensionValueType: 'VARCHAR' });
    }
    const rec: _Record = { MeasureValues: measureValues[indices[k]!]! };
    if (dims.length > 0) rec.Dimensions = dims;
    if (!commonTime) rec.Time = String(r.timeMs);
    if (!commonVersion) rec.Version = r.version;
    out[k] = rec;
  }
  const commonAttributes: _Record = {
    MeasureName: measureNameOf(first.table),
    MeasureValueType: 'MULTI',
    TimeUnit: 'MILLISECONDS',
  };
  if (common.size > 0) {
    commonAttributes.Dimensions = [...common].map(([Name, Value]) => ({
      Name,
      Value,
      DimensionValueType: 'VARCHAR',
    }));
  }
  if (commonTime) commonAttributes.Time = String(first.timeMs);
  if (commonVersion) commonAttributes.Version = first.version;
  return {
    DatabaseName: databaseName,
    TableName: first.table,
    CommonAttributes: commonAttributes,
    Records: out,
  };
}

/**
 * Plans the WriteRecords calls for `records`: validates, keeps only the highest version per upsert
 * key, sorts by table and dimensions, and chunks by `maxRecordsPerCall` (≤ 100) per table. Pure.
 *
 * @example
 * const { plans } = planWriteRecords(records, { databaseName: 'tidewatch' });
 * plans.length; // Math.ceil(records.length / 100) for one table
 */
export function planWriteRecords(
  records: readonly SeriesWindowRecord[],
  options: { databaseName: string; maxRecordsPerCall?: number },
): WriteRecordsPlanResult & { measureValues: (MeasureValue[] | undefined)[] } {
  const maxPerCall = options.maxRecordsPerCall ?? MAX_TIMESTREAM_RECORDS_PER_CALL;
  const n = records.length;
  const supersededBy = new Int32Array(n).fill(-1);
  const invalid: Array<{ index: number; detail: string }> = [];
  const measureValues: (MeasureValue[] | undefined)[] = new Array(n);
  const winnerByKey = new Map<string, number>();
  const signatures: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    if (!Number.isSafeInteger(r.timeMs) || r.timeMs < 0) {
      invalid.push({ index: i, detail: `time ${r.timeMs} is not a non-negative integer of ms` });
      continue;
    }
    if (!Number.isSafeInteger(r.version) || r.version < 0) {
      invalid.push({ index: i, detail: `version ${r.version} is not a non-negative integer` });
      continue;
    }
    const mv = toMeasureValues(r);
    if (mv === undefined) {
      invalid.push({ index: i, detail: 'no finite measure values' });
      continue;
    }
    measureValues[i] = mv;
    const sig = dimensionSignature(r);
    signatures[i] = sig;
    const key = `${sig}\u0000${r.timeMs}`;
    const prev = winnerByKey.get(key);
    if (prev === undefined) {
      winnerByKey.set(key, i);
    } else if (records[prev]!.version <= r.version) {
      supersededBy[prev] = i;
      winnerByKey.set(key, i);
    } else {
      supersededBy[i] = prev;
    }
  }
  // Resolve chains (a superseded by b superseded by c) to the final winner.
  for (let i = 0; i < n; i++) {
    let w = supersededBy[i]!;
    if (w < 0) continue;
    while (supersededBy[w]! >= 0) w = supersededBy[w]!;
    supersededBy[i] = w;
  }
  // Group by series (signature starts with the table, so tables stay together), then by time.
  const groups = new Map<string, number[]>();
  for (const i of winnerByKey.values()) {
    const sig = signatures[i]!;
    const g = groups.get(sig);
    if (g === undefined) groups.set(sig, [i]);
    else g.push(i);
  }
  const winners: number[] = [];
  for (const sig of [...groups.keys()].sort()) {
    const g = groups.get(sig)!;
    if (g.length > 1) g.sort((a, b) => records[a]!.timeMs - records[b]!.timeMs || a - b);
    for (const i of g) winners.push(i);
  }
  const plans: WriteRecordsPlan[] = [];
  let start = 0;
  while (start < winners.length) {
    const table = records[winners[start]!]!.table;
    let end = start + 1;
    while (end < winners.length && end - start < maxPerCall && records[winners[end]!]!.table === table) end++;
    const indices = winners.slice(start, end);
    plans.push({
      input: buildWriteRecordsInput(records, indices, measureValues, options.databaseName),
      indices,
    });
    start = end;
  }
  return { plans, invalid, supersededBy, measureValues };
}

interface RejectedRecordLike {
  RecordIndex?: number;
  Reason?: string;
  ExistingVersion?: number;
}

async function mapLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!;
      await fn(item);
    }
  };
  const workers: Promise<void>[] = [];
  for (let w = 0; w < Math.min(limit, items.length); w++) workers.push(worker());
  await Promise.all(workers);
}

/**
 * The Timestream for LiveAnalytics implementation of {@link TimeSeriesSink}.
 *
 * @example
 * const sink = new TimestreamSink({ client: new TimestreamWriteClient({ endpoint, maxAttempts: 1 }) });
 * const { outcomes, stats } = await sink.write(records, { budgetMs: context.getRemainingTimeInMillis() - 2_000 });
 */
export class TimestreamSink implements TimeSeriesSink {
  readonly name = 'timestream';
  private readonly client: TimestreamWriteClient;
  private readonly databaseName: string;
  private readonly maxRecordsPerCall: number;
  private readonly concurrency: number;
  private readonly defaultBudgetMs: number;
  private readonly backoffOptions: Omit<BackoffOptions, 'budgetMs' | 'deadlineMs'>;

  constructor(options: TimestreamSinkOptions) {
    this.client = options.client;
    this.databaseName = options.databaseName ?? Names.timestreamDatabase;
    this.maxRecordsPerCall = options.maxRecordsPerCall ?? MAX_TIMESTREAM_RECORDS_PER_CALL;
    this.concurrency = options.concurrency ?? 4;
    this.defaultBudgetMs = options.defaultBudgetMs ?? 20_000;
    this.backoffOptions = options.backoff ?? {};
    if (
      !Number.isInteger(this.maxRecordsPerCall) ||
      this.maxRecordsPerCall < 1 ||
      this.maxRecordsPerCall > MAX_TIMESTREAM_RECORDS_PER_CALL
    ) {
      throw new SinkConfigError(
        `maxRecordsPerCall must be an integer in 1..${MAX_TIMESTREAM_RECORDS_PER_CALL} (Timestream WriteRecords quota), got ${this.maxRecordsPerCall}`,
      );
    }
    if (this.databaseName === '') throw new SinkConfigError('databaseName must not be empty');
  }

  /** Writes `records`; never throws for data. `outcomes[i]` belongs to `records[i]`. */
  async write(
    records: readonly SeriesWindowRecord[],
    options: TimeSeriesWriteOptions = {},
  ): Promise<TimeSeriesWriteResult> {
    const stats = emptyWriteStats(records.length);
    const outcomes: SinkOutcome[] = new Array(records.length);
    if (records.length === 0) return { outcomes, stats };
    const { plans, invalid, supersededBy, measureValues } = planWriteRecords(records, {
      databaseName: this.databaseName,
      maxRecordsPerCall: this.maxRecordsPerCall,
    });
    for (const { index, detail } of invalid) {
      outcomes[index] = { kind: 'reject', code: RejectCode.timestreamRejected, detail };
    }
    const now = this.backoffOptions.now ?? Date.now;
    const deadlineMs = now() + (options.budgetMs ?? this.defaultBudgetMs);
    await mapLimit(plans, this.concurrency, (plan) =>
      this.send(records, plan.indices, plan.input, measureValues, outcomes, stats, deadlineMs),
    );
    for (let i = 0; i < records.length; i++) {
      const winner = supersededBy[i]!;
      if (winner >= 0) {
        outcomes[i] = outcomes[winner]!;
        stats.superseded++;
      }
    }
    countOutcomes(outcomes, stats);
    return { outcomes, stats };
  }

  private async send(
    records: readonly SeriesWindowRecord[],
    indices: readonly number[],
    input: WriteRecordsRequest,
    measureValues: readonly (MeasureValue[] | undefined)[],
    outcomes: SinkOutcome[],
    stats: TimeSeriesWriteStats,
    deadlineMs: number,
  ): Promise<void> {
    const backoff = new Backoff({ ...this.backoffOptions, deadlineMs });
    for (;;) {
      stats.calls++;
      try {
        await this.client.send(new WriteRecordsCommand(input));
        for (const i of indices) outcomes[i] = OK_OUTCOME;
        return;
      } catch (err) {
        const name = errorName(err);
        if (name === 'RejectedRecordsException') {
          const rejected = (
            (err as { RejectedRecords?: RejectedRecordLike[] }).RejectedRecords ?? []
          ).slice();
          for (const i of indices) outcomes[i] = OK_OUTCOME;
          for (const rr of rejected) {
            const i = rr.RecordIndex === undefined ? undefined : indices[rr.RecordIndex];
            if (i === undefined) continue;
            const existing =
              rr.ExistingVersion === undefined ? '' : ` (existing version ${rr.ExistingVersion})`;
            outcomes[i] = {
              kind: 'reject',
              code: RejectCode.timestreamRejected,
              detail: clip(`${rr.Reason ?? 'rejected'}${existing}`),
            };
          }
          return;
        }
        if (name === 'ValidationException') {
          if (indices.length === 1) {
            outcomes[indices[0]!] = {
              kind: 'reject',
              code: RejectCode.timestreamRejected,
              detail: clip(`ValidationException: ${(err as Error).message}`),
            };
            return;
          }
          // Isolate the offending record(s): halves are retried independently (≤ log2(100) levels).
          const mid = indices.length >> 1;
          const left = indices.slice(0, mid);
          const right = indices.slice(mid);
          await this.send(
            records,
            left,
            buildWriteRecordsInput(records, left, measureValues, this.databaseName),
            measureValues,
            outcomes,
            stats,
            deadlineMs,
          );
          await this.send(
            records,
            right,
            buildWriteRecordsInput(records, right, measureValues, this.databaseName),
            measureValues,
            outcomes,
            stats,
            deadlineMs,
          );
          return;
        }
        if (isRetryableError(err) && (await backoff.wait())) {
          stats.retriedCalls++;
          continue;
        }
        // Budget spent, or a non-retryable service error (missing table, permissions): never drop the
        // data — `retry` keeps the parent records in the shard until the cause is fixed.
        const reason = `timestream:${name}`;
        const retry: SinkOutcome = { kind: 'retry', reason };
        for (const i of indices) outcomes[i] = retry;
        return;
      }
    }
  }
}
