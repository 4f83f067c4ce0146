/**
 * Writes encoded partial window summaries to the metrics stream with `PutRecords`.
 *
 * - At most 500 entries and 5 MiB (data + partition keys) per call (Kinesis PutRecords quotas).
 * - PutRecords answers HTTP 200 even when entries failed (`FailedRecordCount`, per-entry `ErrorCode`
 *   `ProvisionedThroughputExceededException` / `InternalFailure`): only the failed entries are resent,
 *   with full-jitter backoff, until the budget is spent. "PutRecords doesn't guarantee the ordering of
 *   records" — harmless here: the chunks of one series in one call hold different windows.
 * - All or nothing from the caller's view: `ok` only when every chunk was accepted. A redelivered
 *   batch re-sends identical chunks (deterministic stage one), which stage two drops as duplicates.
 */
import { type KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { Backoff, type BackoffOptions, errorName, isRetryableError } from '../sinks/backoff.ts';

/** One metrics-stream record: a partial chunk (`MetricsRecord`) or a health record. */
export interface MetricsRecord {
  readonly partitionKey: string;
  readonly data: Uint8Array;
}

/** PutRecords quotas. */
export const MAX_PUT_RECORDS_ENTRIES = 500;
export const MAX_PUT_RECORDS_BYTES = 5 * 1_048_576;

/** Counters of one publish. */
export interface PublishStats {
  chunks: number;
  bytes: number;
  calls: number;
  /** Entries resent after a per-entry failure or a failed call. */
  resent: number;
}

/** Result of {@link PartialsPublisher.publish}. */
export type PublishResult =
  | { readonly kind: 'ok'; readonly stats: PublishStats }
  | { readonly kind: 'retry'; readonly reason: string; readonly stats: PublishStats };

/** Options of {@link PartialsPublisher}. */
export interface PartialsPublisherOptions {
  /** A `KinesisClient` with `maxAttempts: 1` (this publisher retries) and an HTTP/1.1 handler. */
  client: KinesisClient;
  streamName: string;
  backoff?: Omit<BackoffOptions, 'budgetMs' | 'deadlineMs'>;
}

function entryBytes(c: MetricsRecord): number {
  return c.data.byteLength + Buffer.byteLength(c.partitionKey, 'utf8');
}

/**
 * Publisher of partial chunks to the metrics stream.
 *
 * @example
 * const publisher = new PartialsPublisher({ client: kinesis, streamName: 'tidewatch-metrics' });
 * const r = await publisher.publish(chunkPartials(partials), { budgetMs: 10_000 });
 * if (r.kind === 'retry') return { batchItemFailures: [{ itemIdentifier: firstSequenceNumber }] };
 */
export class PartialsPublisher {
  readonly streamName: string;
  private readonly client: KinesisClient;
  private readonly backoffOptions: Omit<BackoffOptions, 'budgetMs' | 'deadlineMs'>;

  constructor(options: PartialsPublisherOptions) {
    this.client = options.client;
    this.streamName = options.streamName;
    this.backoffOptions = options.backoff ?? {};
  }

  /** Sends every chunk; `ok` once all were accepted, `retry` when the budget ran out first. */
  async publish(
    chunks: readonly MetricsRecord[],
    options: { budgetMs?: number } = {},
  ): Promise<PublishResult> {
    const stats: PublishStats = { chunks: chunks.length, bytes: 0, calls: 0, resent: 0 };
    for (const c of chunks) stats.bytes += entryBytes(c);
    const backoff = new Backoff({ ...this.backoffOptions, budgetMs: options.budgetMs ?? 20_000 });
    let start = 0;
    while (start < chunks.length) {
      let end = start;
      let bytes = 0;
      while (end < chunks.length && end - start < MAX_PUT_RECORDS_ENTRIES) {
        const b = entryBytes(chunks[end]!);
        if (end > start && bytes + b > MAX_PUT_RECORDS_BYTES) break;
        bytes += b;
        end++;
      }
      const failure = await this.sendCall(chunks.slice(start, end), backoff, stats);
      if (failure !== undefined) return { kind: 'retry', reason: failure, stats };
      start = end;
    }
    return { kind: 'ok', stats };
  }

  private async sendCall(
    chunks: readonly MetricsRecord[],
    backoff: Backoff,
    stats: PublishStats,
  ): Promise<string | undefined> {
    let pending: PutRecordsRequestEntry[] = chunks.map((c) => ({
      PartitionKey: c.partitionKey,
      Data: c.data,
    }));
    let lastError = 'unknown';
    for (;;) {
      stats.calls++;
      try {
        const res = await this.client.send(
          new PutRecordsCommand({ StreamName: this.streamName, Records: pending }),
        );
        const results = res.Records ?? [];
        const failed: PutRecordsRequestEntry[] = [];
        for (let i = 0; i < pending.length; i++) {
          const r = results[i];
          // A missing result entry counts as failed: resending is safe (stage two dedupes).
          if (r === undefined || (r.ErrorCode !== undefined && r.ErrorCode !== '')) {
            failed.push(pending[i]!);
            lastError = r?.ErrorCode ?? 'MissingResultEntry';
          }
        }
        if (failed.length === 0) return undefined;
        pending = failed;
        if (!(await backoff.wait())) return `kinesis:${lastError}`;
        stats.resent += failed.length;
      } catch (err) {
        lastError = errorName(err);
        if (!(isRetryableError(err) && (await backoff.wait()))) return `kinesis:${lastError}`;
        stats.resent += pending.length;
      }
    }
  }
}
