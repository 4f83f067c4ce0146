/**
 * One shard of the local event source mapping: reads the shard in order, gathers batches (batch
 * size, 6 MB payload, batching window), invokes the handler with ONE batch in flight, and applies
 * Lambda's error handling — partial batch response, bisect on function error, maximum retries,
 * maximum record age, on-failure destination — before it moves the checkpoint.
 *
 * Behaviour follows https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html,
 * .../services-kinesis-batchfailurereporting.html and .../kinesis-on-failure-destination.html.
 */
import { randomUUID } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import type { CheckpointStore } from './checkpointStore.ts';
import {
  type BufferedRecord,
  buildFailureRecord,
  eventPayloadBytes,
  fixedPayloadBytes,
  interpretBatchResponse,
  LAMBDA_MAX_PAYLOAD_BYTES,
  type LastInvocation,
  type MappingIdentity,
  toBufferedRecord,
} from './kinesisEvent.ts';
import {
  FailureCondition,
  type FailureConditionName,
  type KinesisStreamEvent,
  type KinesisStreamHandler,
  type LambdaContext,
} from './lambdaTypes.ts';

/** Counters shared by all shards of a runner (see `EventSourceRunnerStats`). */
export interface RunnerCounters {
  batches: number;
  records: number;
  acknowledgedRecords: number;
  retries: number;
  bisects: number;
  functionErrors: number;
  partialFailures: number;
  invalidResponses: number;
  discardedRecords: number;
  sentToDestination: number;
  expiredRecords: number;
  getRecordsCalls: number;
  getRecordsErrors: number;
}

/** Per-batch telemetry handed to `onBatch`. */
export interface BatchReport {
  shardId: string;
  records: number;
  outcome: 'success' | 'partial' | 'function_error' | 'invalid_response';
  durationMs: number;
  /** Age of the batch's last record when the invocation finished (Lambda's IteratorAge). */
  iteratorAgeMs: number;
}

export interface RunnerLogger {
  warn(message: string, detail?: Record<string, unknown>): void;
}

/** Resolved settings and shared state a worker needs from its runner. */
export interface ShardWorkerContext {
  readonly client: KinesisClient;
  readonly streamName: string;
  readonly handler: KinesisStreamHandler;
  readonly identity: MappingIdentity;
  readonly store: CheckpointStore;
  readonly counters: RunnerCounters;
  readonly logger: RunnerLogger;
  readonly batchSize: number;
  readonly maximumBatchingWindowMs: number;
  readonly bisectBatchOnFunctionError: boolean;
  readonly maximumRetryAttempts: number;
  readonly maximumRecordAgeMs: number;
  readonly onFailureFile: string | undefined;
  readonly pollIntervalMs: number;
  readonly retryBaseDelayMs: number;
  readonly retryMaxDelayMs: number;
  readonly functionTimeoutMs: number;
  readonly onBatch: ((report: BatchReport) => void) | undefined;
  readonly signal: AbortSignal;
  now(): number;
  isStopping(): boolean;
  isDraining(): boolean;
  /** Interruptible sleep: ends early on stop() and drain(). */
  sleep(ms: number): Promise<void>;
  /** Monotonic counter; a GetRecords call takes a ticket when it starts. */
  nextTicket(): number;
  /** Called when something drain() or shard ordering may be waiting for changed. */
  changed(): void;
}

/** Where a worker starts when it has no checkpoint. */
export type StartPosition =
  | { readonly kind: 'TRIM_HORIZON' }
  | { readonly kind: 'LATEST' }
  /** TRIM_HORIZON, skipping records that arrived before `sinceMs` (a LATEST mapping restarted). */
  | { readonly kind: 'SINCE'; readonly sinceMs: number };

/** A batch waiting to be (re)invoked: a retry, a bisected half, or what a partial failure left. */
interface PendingBatch {
  readonly records: BufferedRecord[];
  /** Retries already spent on these records (bisecting spends none). */
  readonly retries: number;
  /** Invocations that included these records so far. */
  readonly invokes: number;
  readonly last: LastInvocation;
  /** Back off before invoking (a retry, not a bisected half). */
  readonly backoff: boolean;
}

export type ShardWorkerState = 'waiting' | 'running' | 'finished';

/** A snapshot of one shard for `stats()`. */
export interface ShardStats {
  state: ShardWorkerState;
  /** Last acknowledged sequence number. */
  checkpoint: string | undefined;
  /** Records read but not yet acknowledged (buffered or being retried). */
  unacknowledged: number;
  /** Age of the oldest unacknowledged record read so far; 0 when caught up. */
  lagMs: number;
  /** Lambda's IteratorAge: age of the last record of the last batch when it finished. */
  iteratorAgeMs: number;
  batchInFlight: boolean;
}

export class ShardWorker {
  readonly shardId: string;
  readonly parentShardIds: readonly string[];
  state: ShardWorkerState = 'waiting';
  readonly #ctx: ShardWorkerContext;
  readonly #fixedBytes: number;
  #start: StartPosition;
  #buffer: BufferedRecord[] = [];
  #bufferBytes = 0;
  #pending: PendingBatch[] = [];
  #iterator: string | undefined;
  #lastReadSeq: string | undefined;
  #shardEnded = false;
  #checkpoint: string | undefined;
  #gatherStartMs: number | undefined;
  #inFlight = false;
  #iteratorAgeMs = 0;
  /** Ticket of the latest GetRecords that found nothing new with nothing left to process. */
  #caughtUpTicket = -1;
  #loop: Promise<void> | undefined;

  constructor(
    ctx: ShardWorkerContext,
    shardId: string,
    parentShardIds: readonly string[],
    start: StartPosition,
  ) {
    this.#ctx = ctx;
    this.shardId = shardId;
    this.parentShardIds = parentShardIds;
    this.#start = start;
    this.#fixedBytes = fixedPayloadBytes(ctx.identity, shardId);
    const cp = ctx.store.get(shardId);
    this.#checkpoint = cp?.sequenceNumber;
    if (cp?.finished === true) this.state = 'finished';
  }

  /** Starts the polling loop (once). */
  start(): void {
    if (this.state !== 'waiting') return;
    this.state = 'running';
    this.#loop = this.#run();
  }

  /** Resolves when the loop has exited (after stop, or when the shard is finished). */
  async stopped(): Promise<void> {
    await this.#loop;
  }

  /** True when everything up to a GetRecords that started after `ticket` is processed. */
  caughtUpSince(ticket: number): boolean {
    if (this.state === 'finished') return true;
    return (
      this.state === 'running' &&
      this.#caughtUpTicket > ticket &&
      this.#buffer.length === 0 &&
      this.#pending.length === 0 &&
      !this.#inFlight
    );
  }

  stats(): ShardStats {
    let unacknowledged = this.#buffer.length;
    let oldestMs = this.#buffer[0]?.arrivalMs;
    for (const p of this.#pending) {
      unacknowledged += p.records.length;
      const first = p.records[0];
      if (first !== undefined && (oldestMs === undefined || first.arrivalMs < oldestMs))
        oldestMs = first.arrivalMs;
    }
    return {
      state: this.state,
      checkpoint: this.#checkpoint,
      unacknowledged,
      lagMs: oldestMs === undefined ? 0 : Math.max(0, this.#ctx.now() - oldestMs),
      iteratorAgeMs: this.#iteratorAgeMs,
      batchInFlight: this.#inFlight,
    };
  }

  async #run(): Promise<void> {
    const ctx = this.#ctx;
    let idleMs = 0;
    while (!ctx.isStopping()) {
      try {
        if (idleMs > 0) {
          await ctx.sleep(idleMs);
          idleMs = 0;
          continue;
        }
        let batch = this.#pending.shift();
        if (batch === undefined) {
          let fetched = 0;
          if (!this.#shardEnded && this.#hasRoom()) {
            fetched = await this.#fetch();
            if (fetched < 0) {
              idleMs = Math.min(ctx.retryMaxDelayMs, Math.max(ctx.pollIntervalMs, 200));
              continue;
            }
            if (ctx.isStopping()) break;
          }
          if (this.#buffer.length === 0) {
            if (this.#shardEnded) {
              this.#finish();
              return;
            }
            ctx.changed();
            idleMs = ctx.pollIntervalMs;
            continue;
          }
          if (!this.#readyToInvoke()) {
            // Keep reading while the shard has more; otherwise wait for the window or new records.
            if (fetched === 0) idleMs = Math.min(ctx.pollIntervalMs, this.#windowLeftMs());
            continue;
          }
          batch = this.#takeBatch();
        }
        await this.#process(batch);
        ctx.changed();
      } catch (err) {
        if (ctx.isStopping()) break;
        ctx.logger.warn('event-source runner: unexpected error, continuing', {
          shardId: this.shardId,
          error: (err as Error).message,
        });
        idleMs = ctx.retryMaxDelayMs;
      }
    }
  }

  #hasRoom(): boolean {
    return this.#buffer.length < this.#ctx.batchSize && this.#bufferBytes < LAMBDA_MAX_PAYLOAD_BYTES;
  }

  #windowLeftMs(): number {
    const start = this.#gatherStartMs ?? this.#ctx.now();
    return Math.max(1, this.#ctx.maximumBatchingWindowMs - (this.#ctx.now() - start));
  }

  /**
   * Lambda invokes when the batch is full (count or 6 MB), the batching window has passed, or —
   * locally — the shard is closed and fully read, or drain() asked to flush.
   */
  #readyToInvoke(): boolean {
    const ctx = this.#ctx;
    if (ctx.maximumBatchingWindowMs <= 0 || this.#shardEnded || ctx.isDraining()) return true;
    if (this.#buffer.length >= ctx.batchSize || this.#bufferBytes >= LAMBDA_MAX_PAYLOAD_BYTES) return true;
    return ctx.now() - (this.#gatherStartMs ?? ctx.now()) >= ctx.maximumBatchingWindowMs;
  }

  #takeBatch(): PendingBatch {
    const limit = this.#ctx.batchSize;
    let bytes = eventPayloadBytes(0);
    let n = 0;
    while (n < this.#buffer.length && n < limit) {
      const next = (this.#buffer[n] as BufferedRecord).payloadBytes;
      // Always at least one record: a single Kinesis record (≤ 1 MiB → ≤ 1.4 MB base64) always fits.
      if (n > 0 && bytes + next > LAMBDA_MAX_PAYLOAD_BYTES) break;
      bytes += next;
      n++;
    }
    const records = this.#buffer.splice(0, n);
    this.#bufferBytes -= bytes - eventPayloadBytes(0);
    this.#gatherStartMs = this.#buffer.length > 0 ? this.#ctx.now() : undefined;
    return { records, retries: 0, invokes: 0, last: undefined, backoff: false };
  }

  /** Reads once. Returns the number of records buffered, or −1 after an error. */
  async #fetch(): Promise<number> {
    const ctx = this.#ctx;
    const ticket = ctx.nextTicket();
    try {
      if (this.#iterator === undefined) this.#iterator = await this.#acquireIterator();
      if (this.#iterator === undefined) {
        this.#shardEnded = true;
        return 0;
      }
      ctx.counters.getRecordsCalls++;
      const out = await ctx.client.send(
        new GetRecordsCommand({
          ShardIterator: this.#iterator,
          // GetRecords returns at most 10,000 records; ask only for what the next batch can take.
          Limit: Math.max(1, Math.min(10_000, ctx.batchSize - this.#buffer.length)),
        }),
        { abortSignal: ctx.signal },
      );
      this.#iterator = out.NextShardIterator ?? undefined;
      if (this.#iterator === undefined) this.#shardEnded = true;
      const records = out.Records ?? [];
      const since =
        this.#start.kind === 'SINCE' && this.#checkpoint === undefined ? this.#start.sinceMs : undefined;
      let added = 0;
      for (const source of records) {
        const rec = toBufferedRecord(this.shardId, source, ctx.identity, this.#fixedBytes);
        this.#lastReadSeq = rec.sequenceNumber;
        if (since !== undefined && rec.arrivalMs < since) continue;
        if (this.#buffer.length === 0) this.#gatherStartMs = ctx.now();
        this.#buffer.push(rec);
        this.#bufferBytes += rec.payloadBytes;
        added++;
      }
      if (added === 0 && this.#buffer.length === 0 && this.#pending.length === 0 && !this.#inFlight) {
        this.#caughtUpTicket = ticket;
      }
      return added;
    } catch (err) {
      if (ctx.isStopping()) return 0;
      if (err instanceof ExpiredIteratorException || (err as Error).name === 'ExpiredIteratorException') {
        // Iterators expire after 5 minutes unused (e.g. during long retries): get a fresh one.
        this.#iterator = undefined;
        return 0;
      }
      ctx.counters.getRecordsErrors++;
      ctx.logger.warn('event-source runner: reading the shard failed; retrying', {
        shardId: this.shardId,
        error: (err as Error).message,
      });
      return -1;
    }
  }

  async #acquireIterator(): Promise<string | undefined> {
    const ctx = this.#ctx;
    const base = { StreamName: ctx.streamName, ShardId: this.shardId };
    let input: GetShardIteratorCommandInput;
    const after = this.#lastReadSeq ?? this.#checkpoint;
    if (after !== undefined) {
      input = { ...base, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: after };
    } else if (this.#start.kind === 'LATEST') {
      input = { ...base, ShardIteratorType: 'LATEST' };
      // If this iterator is ever lost before a record is read, resume by arrival time, not LATEST
      // again (which would skip what arrived in between).
      this.#start = { kind: 'SINCE', sinceMs: ctx.store.get(this.shardId)?.sinceMs ?? ctx.now() };
    } else {
      input = { ...base, ShardIteratorType: 'TRIM_HORIZON' };
    }
    const out = await ctx.client.send(new GetShardIteratorCommand(input), { abortSignal: ctx.signal });
    return out.ShardIterator ?? undefined;
  }

  async #process(input: PendingBatch): Promise<void> {
    const ctx = this.#ctx;
    let batch = input;
    if (batch.backoff) {
      // Lambda retries a failing batch with backoff; without it a poison record spins a core.
      const delay = Math.min(ctx.retryMaxDelayMs, ctx.retryBaseDelayMs * 2 ** Math.max(0, batch.retries - 1));
      if (delay > 0) await ctx.sleep(delay);
      if (ctx.isStopping()) return;
    }
    if (ctx.maximumRecordAgeMs >= 0) {
      const nowMs = ctx.now();
      let expired = 0;
      while (
        expired < batch.records.length &&
        nowMs - (batch.records[expired] as BufferedRecord).arrivalMs > ctx.maximumRecordAgeMs
      ) {
        expired++;
      }
      if (expired > 0) {
        ctx.counters.expiredRecords += expired;
        const done = await this.#discard(
          batch.records.slice(0, expired),
          FailureCondition.recordAgeExceeded,
          batch,
        );
        if (!done) return;
        if (expired === batch.records.length) return;
        batch = { ...batch, records: batch.records.slice(expired) };
      }
    }
    if (ctx.maximumRetryAttempts >= 0 && batch.retries > ctx.maximumRetryAttempts) {
      await this.#discard(batch.records, FailureCondition.retryAttemptsExhausted, batch);
      return;
    }
    await this.#invoke(batch);
  }

  async #invoke(batch: PendingBatch): Promise<void> {
    const ctx = this.#ctx;
    const records = batch.records;
    const event: KinesisStreamEvent = { Records: new Array(records.length) };
    for (let i = 0; i < records.length; i++) event.Records[i] = (records[i] as BufferedRecord).record;
    const startedMs = ctx.now();
    const context = this.#context(startedMs);
    ctx.counters.batches++;
    ctx.counters.records += records.length;
    if (batch.retries > 0) ctx.counters.retries++;
    const invokes = batch.invokes + 1;
    let response: unknown;
    let threw = false;
    this.#inFlight = true;
    try {
      try {
        response = await ctx.handler(event, context);
      } catch {
        threw = true;
      }
      const verdict = threw ? undefined : interpretBatchResponse(response, records);
      const finishedMs = ctx.now();
      const last = records[records.length - 1] as BufferedRecord;
      this.#iteratorAgeMs = Math.max(0, finishedMs - last.arrivalMs);
      const report = (outcome: BatchReport['outcome']): void => {
        if (ctx.onBatch === undefined) return;
        try {
          ctx.onBatch({
            shardId: this.shardId,
            records: records.length,
            outcome,
            durationMs: finishedMs - startedMs,
            iteratorAgeMs: this.#iteratorAgeMs,
          });
        } catch (err) {
          // Telemetry must never change delivery.
          ctx.logger.warn('event-source runner: onBatch threw', { error: (err as Error).message });
        }
      };

      if (verdict?.kind === 'success') {
        this.#acknowledge(last.sequenceNumber, records.length);
        report('success');
        return;
      }
      if (verdict?.kind === 'partial') {
        ctx.counters.partialFailures++;
        const i = verdict.failedIndex;
        if (i > 0) this.#acknowledge((records[i - 1] as BufferedRecord).sequenceNumber, i);
        // Lambda checkpoints before the lowest failed record and retries from there. The retry
        // count restarts when the checkpoint moved: the remaining records failed only once so far.
        this.#pending.unshift({
          records: i > 0 ? records.slice(i) : records,
          retries: i > 0 ? 1 : batch.retries + 1,
          invokes,
          last: { functionError: false },
          backoff: true,
        });
        report('partial');
        return;
      }
      // A thrown error, or a malformed partial response: the whole batch failed.
      if (threw) ctx.counters.functionErrors++;
      else ctx.counters.invalidResponses++;
      const last2: LastInvocation = { functionError: threw };
      if (ctx.bisectBatchOnFunctionError && records.length > 1) {
        // Split in two; splitting does not consume the retry quota (kinesis-on-failure-destination).
        ctx.counters.bisects++;
        const mid = Math.ceil(records.length / 2);
        this.#pending.unshift(
          { records: records.slice(0, mid), retries: batch.retries, invokes, last: last2, backoff: false },
          { records: records.slice(mid), retries: batch.retries, invokes, last: last2, backoff: false },
        );
      } else {
        this.#pending.unshift({ records, retries: batch.retries + 1, invokes, last: last2, backoff: true });
      }
      report(threw ? 'function_error' : 'invalid_response');
    } finally {
      this.#inFlight = false;
    }
  }

  #context(startedMs: number): LambdaContext {
    const ctx = this.#ctx;
    const requestId = randomUUID();
    const deadline = startedMs + ctx.functionTimeoutMs;
    const noop = (): void => undefined;
    return {
      callbackWaitsForEmptyEventLoop: true,
      functionName: ctx.identity.functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: ctx.identity.functionArn,
      memoryLimitInMB: '1024',
      awsRequestId: requestId,
      logGroupName: `/aws/lambda/${ctx.identity.functionName}`,
      logStreamName: `local/[$LATEST]${this.shardId}`,
      getRemainingTimeInMillis: () => Math.max(0, deadline - ctx.now()),
      done: noop,
      fail: noop,
      succeed: noop,
    };
  }

  #acknowledge(sequenceNumber: string, count: number): void {
    this.#checkpoint = sequenceNumber;
    this.#ctx.counters.acknowledgedRecords += count;
    this.#ctx.store.set(this.shardId, { sequenceNumber });
  }

  /**
   * Sends discarded records' metadata to the on-failure file, then moves the checkpoint past them.
   * The file is written first so a crash in between repeats the record, never loses it.
   * Returns false if the runner stopped before the record could be written.
   */
  async #discard(
    records: BufferedRecord[],
    condition: FailureConditionName,
    batch: PendingBatch,
  ): Promise<boolean> {
    const ctx = this.#ctx;
    const doc = buildFailureRecord({
      condition,
      records,
      shardId: this.shardId,
      identity: ctx.identity,
      invokeCount: batch.invokes,
      lastInvocation: batch.last,
      nowMs: ctx.now(),
      requestId: randomUUID(),
    });
    if (ctx.onFailureFile !== undefined) {
      let delay = ctx.retryBaseDelayMs;
      for (;;) {
        try {
          await mkdir(dirname(ctx.onFailureFile), { recursive: true });
          await appendFile(ctx.onFailureFile, `${JSON.stringify(doc)}\n`, 'utf8');
          break;
        } catch (err) {
          ctx.logger.warn('event-source runner: cannot write the on-failure file; retrying', {
            file: ctx.onFailureFile,
            error: (err as Error).message,
          });
          if (ctx.isStopping()) return false;
          await ctx.sleep(delay);
          delay = Math.min(ctx.retryMaxDelayMs, Math.max(1, delay * 2));
        }
      }
      ctx.counters.sentToDestination += records.length;
    }
    ctx.counters.discardedRecords += records.length;
    ctx.logger.warn('event-source runner: records discarded', {
      shardId: this.shardId,
      condition,
      startSequenceNumber: doc.KinesisBatchInfo.startSequenceNumber,
      endSequenceNumber: doc.KinesisBatchInfo.endSequenceNumber,
      batchSize: records.length,
    });
    const last = records[records.length - 1] as BufferedRecord;
    this.#checkpoint = last.sequenceNumber;
    ctx.store.set(this.shardId, { sequenceNumber: last.sequenceNumber });
    return true;
  }

  #finish(): void {
    this.state = 'finished';
    const cp = this.#checkpoint === undefined ? {} : { sequenceNumber: this.#checkpoint };
    this.#ctx.store.set(this.shardId, { ...cp, finished: true });
    this.#ctx.changed();
  }
}
