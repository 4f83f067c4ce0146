/**
 * Raw-log archive through Amazon Data Firehose to S3.
 *
 * - Lines are packed as NDJSON into records of up to 1,000 KiB, ≤ 500 records and ≤ 4 MiB per
 *   `PutRecordBatch` (see `packNdjson.ts` for the limits and the 5 KB billing step). Never one small
 *   line per record.
 * - `PutRecordBatch` answers HTTP 200 even when some entries failed: `FailedPutCount` > 0 and those
 *   `RequestResponses[k]` carry `ErrorCode` (`ServiceUnavailableException`, `InternalFailure`). Only the
 *   failed records are resent, with full-jitter backoff, until the budget is spent
 *   (API_PutRecordBatch: "resend only the failed records").
 * - Whole-call throttling, 5xx and network errors resend the call. A response lost after Firehose
 *   accepted the records causes a resend, so the archive is at-least-once: downstream readers dedupe
 *   if they need to.
 * - Acknowledge only after delivery: `outcomes[i]` is `ok` once the record carrying input `i` was
 *   accepted, `retry` if it was not within the budget, `reject{oversized}` for a line that cannot fit
 *   one record (pass those to {@link FirehoseArchiver.archiveRejects}).
 * - Rejected input goes to a second delivery stream (default `Names.archiveErrorDeliveryStream`, S3
 *   prefix `errors/`) as one JSON envelope line per reject: `{code, detail, source, timeMs, bytes,
 *   truncated, encoding, data}`. A separate stream needs no dynamic partitioning or Lambda transform.
 */
import { type FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { Names, RejectCode, type RejectCodeName } from '../schema.ts';
import { Backoff, type BackoffOptions, errorName, isRetryableError } from './backoff.ts';
import { SinkConfigError } from './errors.ts';
import {
  type PackedRecord,
  type PackLimits,
  type PackResult,
  packNdjson,
  packNdjsonSlices,
  resolvePackLimits,
} from './packNdjson.ts';
import { OK_OUTCOME, type SinkOutcome } from './timeSeriesRecord.ts';

/** One raw log line (UTF-8 string or bytes); a trailing newline is added when missing. */
export type ArchiveLine = Uint8Array | string;

/** An input the pipeline rejected, to be kept under the error prefix with its reason. */
export interface ArchiveReject {
  /** The raw bytes as received (a whole Kinesis record or one line). */
  data: Uint8Array | string;
  code: RejectCodeName;
  detail?: string;
  /** Where it came from, e.g. `shardId-000000000000/49590338271490256608559692538361571095921575989136588898`. */
  source?: string;
  /** When it was rejected (epoch ms). Default: the archiver's clock. */
  timeMs?: number;
}

/** Counters of one archive call. */
export interface ArchiveStats {
  items: number;
  /** Firehose records built. */
  records: number;
  /** PutRecordBatch calls, resends included. */
  calls: number;
  /** Calls repeated after a whole-call throttle, 5xx or network error. */
  retriedCalls: number;
  /** Records resent after a per-entry failure (`FailedPutCount`). */
  resentRecords: number;
  /** Record bytes (NDJSON) built. */
  bytes: number;
  /** Bytes Firehose bills for those records (5 KB steps). */
  billedBytes: number;
  delivered: number;
  rejected: number;
  retry: number;
}

/** Result of an archive call: `outcomes[i]` belongs to input `i`. */
export interface ArchiveResult {
  outcomes: SinkOutcome[];
  stats: ArchiveStats;
}

/** Options of {@link FirehoseArchiver}. */
export interface FirehoseArchiverOptions {
  /** A `FirehoseClient`; prefer `maxAttempts: 1` so this archiver's budgeted backoff is the only retry loop. */
  client: FirehoseClient;
  /** Default `Names.archiveDeliveryStream`. */
  deliveryStreamName?: string;
  /** Default `Names.archiveErrorDeliveryStream`. */
  errorDeliveryStreamName?: string;
  /** Packing limits (default and maximum: the Firehose limits). */
  limits?: Partial<PackLimits>;
  /** Parallel PutRecordBatch calls. Default 2. */
  concurrency?: number;
  /** Budget when a call passes none. Default 20,000 ms. */
  defaultBudgetMs?: number;
  backoff?: Omit<BackoffOptions, 'budgetMs' | 'deadlineMs'>;
  /** Clock for envelope `timeMs`. Default `Date.now`. */
  now?: () => number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const MAX_DETAIL_CHARS = 1_000;

function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/**
 * One error-stream line (JSON + newline) for a reject, no larger than `maxRecordBytes`. Data that is
 * valid UTF-8 is kept as text; otherwise, or when it must be truncated to fit, as base64.
 *
 * @example
 * errorEnvelope({ data: '{oops', code: 'invalid_json' }, 1_024_000, Date.now());
 * // {"code":"invalid_json","timeMs":…,"bytes":5,"truncated":false,"encoding":"utf8","data":"{oops"}\n
 */
export function errorEnvelope(reject: ArchiveReject, maxRecordBytes: number, nowMs: number): Uint8Array {
  const raw = toBytes(reject.data);
  const head: Record<string, unknown> = { code: reject.code };
  if (reject.detail !== undefined) head.detail = reject.detail.slice(0, MAX_DETAIL_CHARS);
  if (reject.source !== undefined) head.source = reject.source;
  head.timeMs = reject.timeMs ?? nowMs;
  head.bytes = raw.length;
  let text: string | undefined;
  try {
    text = typeof reject.data === 'string' ? reject.data : utf8.decode(raw);
  } catch {
    text = undefined;
  }
  if (text !== undefined) {
    const line = Buffer.from(
      `${JSON.stringify({ ...head, truncated: false, encoding: 'utf8', data: text })}\n`,
    );
    if (line.length <= maxRecordBytes) return line;
  }
  const full = Buffer.from(
    `${JSON.stringify({ ...head, truncated: false, encoding: 'base64', data: '' })}\n`,
  );
  const room = maxRecordBytes - full.length - 8; // 8: `true` vs `false` and padding slack
  if (Math.ceil(raw.length / 3) * 4 <= room) {
    return Buffer.from(
      `${JSON.stringify({ ...head, truncated: false, encoding: 'base64', data: Buffer.from(raw).toString('base64') })}\n`,
    );
  }
  const keep = Math.max(0, Math.floor(room / 4) * 3);
  const data = Buffer.from(raw.buffer, raw.byteOffset, keep).toString('base64');
  return Buffer.from(`${JSON.stringify({ ...head, truncated: true, encoding: 'base64', data })}\n`);
}

function emptyStats(items: number): ArchiveStats {
  return {
    items,
    records: 0,
    calls: 0,
    retriedCalls: 0,
    resentRecords: 0,
    bytes: 0,
    billedBytes: 0,
    delivered: 0,
    rejected: 0,
    retry: 0,
  };
}

/**
 * Archives raw lines to the archive delivery stream and rejects to the error delivery stream.
 *
 * @example
 * const archiver = new FirehoseArchiver({ client: new FirehoseClient({ maxAttempts: 1 }) });
 * const { outcomes } = await archiver.archive(lines, { budgetMs: 10_000 });
 * const oversized = lines.flatMap((l, i) => (outcomes[i]!.kind === 'reject' ? [{ data: l, code: 'oversized' as const }] : []));
 * await archiver.archiveRejects(oversized);
 */
export class FirehoseArchiver {
  readonly deliveryStreamName: string;
  readonly errorDeliveryStreamName: string;
  private readonly client: FirehoseClient;
  private readonly limits: PackLimits;
  private readonly concurrency: number;
  private readonly defaultBudgetMs: number;
  private readonly backoffOptions: Omit<BackoffOptions, 'budgetMs' | 'deadlineMs'>;
  private readonly now: () => number;

  constructor(options: FirehoseArchiverOptions) {
    this.client = options.client;
    this.deliveryStreamName = options.deliveryStreamName ?? Names.archiveDeliveryStream;
    this.errorDeliveryStreamName = options.errorDeliveryStreamName ?? Names.archiveErrorDeliveryStream;
    if (this.deliveryStreamName === '' || this.errorDeliveryStreamName === '') {
      throw new SinkConfigError('deliveryStreamName and errorDeliveryStreamName must not be empty');
    }
    try {
      this.limits = resolvePackLimits(options.limits);
    } catch (err) {
      throw new SinkConfigError((err as Error).message, { cause: err });
    }
    this.concurrency = options.concurrency ?? 2;
    this.defaultBudgetMs = options.defaultBudgetMs ?? 20_000;
    this.backoffOptions = options.backoff ?? {};
    this.now = options.now ?? Date.now;
  }

  /**
   * Delivers `lines` to the archive stream. `ok` only after Firehose accepted the record holding the
   * line; `reject{oversized}` for a line longer than one record; `retry` when the budget ran out.
   */
  async archive(lines: readonly ArchiveLine[], options: { budgetMs?: number } = {}): Promise<ArchiveResult> {
    const bytes: Uint8Array[] = new Array(lines.length);
    for (let i = 0; i < lines.length; i++) bytes[i] = toBytes(lines[i]!);
    return this.deliver(
      this.deliveryStreamName,
      packNdjson(bytes, this.limits),
      bytes.length,
      options.budgetMs,
    );
  }

  /**
   * {@link archive} for lines that are ranges of shared buffers (a decoded batch's raw lines): line
   * `i` in `[from, to)` is `buffers[i][starts[i], ends[i])`, and `outcomes[k]` belongs to line
   * `from + k`. The bytes are packed as they are, without a copy or string round trip per line.
   *
   * @example
   * const { outcomes } = await archiver.archiveSlices(
   *   batch.eventRawBuffer, batch.eventRawStart, batch.eventRawEnd, 0, batch.eventCount, { budgetMs });
   */
  async archiveSlices(
    buffers: readonly Buffer[],
    starts: ArrayLike<number>,
    ends: ArrayLike<number>,
    from: number,
    to: number,
    options: { budgetMs?: number } = {},
  ): Promise<ArchiveResult> {
    const packed = packNdjsonSlices(buffers, starts, ends, from, to, this.limits);
    return this.deliver(this.deliveryStreamName, packed, to - from, options.budgetMs);
  }

  /**
   * Delivers rejects as JSON envelopes to the error stream (`errors/` prefix). `ok` once stored;
   * `retry` when the budget ran out. Oversized data is truncated (base64, `truncated: true`), never lost
   * silently: its length stays in `bytes`.
   */
  async archiveRejects(
    rejects: readonly ArchiveReject[],
    options: { budgetMs?: number } = {},
  ): Promise<ArchiveResult> {
    const nowMs = this.now();
    const lines: Uint8Array[] = new Array(rejects.length);
    for (let i = 0; i < rejects.length; i++) {
      lines[i] = errorEnvelope(rejects[i]!, this.limits.maxRecordBytes, nowMs);
    }
    return this.deliver(
      this.errorDeliveryStreamName,
      packNdjson(lines, this.limits),
      lines.length,
      options.budgetMs,
    );
  }

  private async deliver(
    stream: string,
    packed: PackResult,
    items: number,
    budgetMs: number | undefined,
  ): Promise<ArchiveResult> {
    const stats = emptyStats(items);
    const outcomes: SinkOutcome[] = new Array(items);
    if (items === 0) return { outcomes, stats };
    stats.records = packed.records;
    stats.bytes = packed.bytes;
    stats.billedBytes = packed.billedBytes;
    for (let k = 0; k < packed.oversized.length; k++) {
      outcomes[packed.oversized[k]!] = {
        kind: 'reject',
        code: RejectCode.oversized,
        detail: `line of ${packed.oversizedBytes[k]} bytes exceeds the ${this.limits.maxRecordBytes}-byte Firehose record`,
      };
    }
    const deadlineMs = (this.backoffOptions.now ?? Date.now)() + (budgetMs ?? this.defaultBudgetMs);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < packed.batches.length) {
        const batch = packed.batches[next++]!;
        await this.sendBatch(stream, batch, outcomes, stats, deadlineMs);
      }
    };
    const workers: Promise<void>[] = [];
    for (let w = 0; w < Math.min(this.concurrency, packed.batches.length); w++) workers.push(worker());
    await Promise.all(workers);
    for (const o of outcomes) {
      if (o.kind === 'ok') stats.delivered++;
      else if (o.kind === 'reject') stats.rejected++;
      else stats.retry++;
    }
    return { outcomes, stats };
  }

  private settle(record: PackedRecord, outcome: SinkOutcome, outcomes: SinkOutcome[]): void {
    for (let i = record.firstItem; i < record.endItem; i++) {
      // Oversized inputs inside the range already carry their reject.
      if (outcomes[i] === undefined) outcomes[i] = outcome;
    }
  }

  private async sendBatch(
    stream: string,
    batch: PackedRecord[],
    outcomes: SinkOutcome[],
    stats: ArchiveStats,
    deadlineMs: number,
  ): Promise<void> {
    const backoff = new Backoff({ ...this.backoffOptions, deadlineMs });
    let pending = batch;
    let lastError = 'unknown';
    for (;;) {
      stats.calls++;
      try {
        const res = await this.client.send(
          new PutRecordBatchCommand({
            DeliveryStreamName: stream,
            Records: pending.map((r) => ({ Data: r.data })),
          }),
        );
        const responses = res.RequestResponses ?? [];
        const failed: PackedRecord[] = [];
        for (let k = 0; k < pending.length; k++) {
          const entry = responses[k];
          // A missing entry is treated as failed: resending is safe (at-least-once), dropping is not.
          if (entry === undefined || (entry.ErrorCode !== undefined && entry.ErrorCode !== '')) {
            failed.push(pending[k]!);
            lastError = entry?.ErrorCode ?? 'MissingResponseEntry';
          } else {
            this.settle(pending[k]!, OK_OUTCOME, outcomes);
          }
        }
        if (failed.length === 0) return;
        pending = failed;
        if (await backoff.wait()) {
          stats.resentRecords += failed.length;
          continue;
        }
      } catch (err) {
        lastError = errorName(err);
        if (isRetryableError(err) && (await backoff.wait())) {
          stats.retriedCalls++;
          continue;
        }
      }
      const retry: SinkOutcome = { kind: 'retry', reason: `firehose:${lastError}` };
      for (const r of pending) this.settle(r, retry, outcomes);
      return;
    }
  }
}
