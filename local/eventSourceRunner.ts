/**
 * The local stand-in for the Lambda Kinesis event source mapping: polls every shard of a stream,
 * builds events exactly as Lambda does and runs the handler in-process, with Lambda's batching and
 * error handling, persisting per-shard checkpoints so a restart (even after SIGKILL) resumes where
 * the last acknowledged record left off — at least once, never skipping an unacknowledged record.
 *
 * One batch in flight per shard, shards concurrently, parents before children after a reshard.
 */
import {
  DescribeStreamSummaryCommand,
  type KinesisClient,
  ListShardsCommand,
  type ListShardsCommandInput,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { CheckpointStore } from './checkpointStore.ts';
import { EventSourceRunnerError } from './eventSourceRunnerErrors.ts';
import {
  KINESIS_MAX_BATCH_SIZE,
  MAX_BATCHING_WINDOW_MS,
  MAX_RECORD_AGE_MS,
  MAX_RETRY_ATTEMPTS,
  type MappingIdentity,
  mappingIdentity,
} from './kinesisEvent.ts';
import type { KinesisStreamHandler } from './lambdaTypes.ts';
import {
  type BatchReport,
  type RunnerCounters,
  type RunnerLogger,
  type ShardStats,
  ShardWorker,
  type ShardWorkerContext,
  type StartPosition,
} from './shardWorker.ts';

export type { BatchReport, RunnerLogger, ShardStats } from './shardWorker.ts';

/** Where a mapping without checkpoints starts reading (Lambda's `StartingPosition`). */
export const StartingPosition = {
  trimHorizon: 'TRIM_HORIZON',
  latest: 'LATEST',
} as const;
export type StartingPositionName = (typeof StartingPosition)[keyof typeof StartingPosition];

export interface EventSourceRunnerOptions {
  client: KinesisClient;
  streamName: string;
  handler: KinesisStreamHandler;
  /** Name used in ARNs and the handler context; default `'tidewatch-local'`. */
  functionName?: string;
  /** Execution role ARN in `invokeIdentityArn`; default `arn:aws:iam::<account>:role/<functionName>-role`. */
  invokeIdentityArn?: string;
  /** Records per invocation, 1–10,000 (Lambda default 100). The 6 MB payload limit also applies. */
  batchSize?: number;
  /** Gather records this long before invoking, 0–300,000 ms (Lambda default 0). */
  maximumBatchingWindowMs?: number;
  /** Where to start without a checkpoint; default TRIM_HORIZON (local mode never skips data). */
  startingPosition?: StartingPositionName;
  /** Split a failing batch in two and retry the halves (Lambda `BisectBatchOnFunctionError`). */
  bisectBatchOnFunctionError?: boolean;
  /** Retries before records are discarded: −1 (default) = until they expire; max 10,000. */
  maximumRetryAttempts?: number;
  /**
   * Records older than this are discarded unread: −1 (default) = never. Lambda's minimum is 60 s;
   * the local runner accepts any positive value so tests need not wait a minute.
   */
  maximumRecordAgeMs?: number;
  /** Lambda's `ParallelizationFactor`; only 1 is supported locally. */
  parallelizationFactor?: number;
  /** JSONL file receiving one Lambda on-failure record per discarded batch. Omitted: records are dropped (and counted). */
  onFailureFile?: string;
  /** JSON file of per-shard checkpoints. Omitted: checkpoints live in memory (a restart starts over). */
  checkpointFile?: string;
  /** Pause between polls of a caught-up shard; default 1,000 ms (Lambda polls each shard once a second). */
  pollIntervalMs?: number;
  /** How often to look for new shards (resharding); default 10,000 ms. */
  shardDiscoveryIntervalMs?: number;
  /** First retry delay of a failed batch, doubled per retry; default 100 ms. */
  retryBaseDelayMs?: number;
  /** Cap of the retry delay; default 5,000 ms. */
  retryMaxDelayMs?: number;
  /** What `context.getRemainingTimeInMillis()` counts down from; default 60,000 ms (not enforced). */
  functionTimeoutMs?: number;
  /** Telemetry per batch (not per record). Must not throw. */
  onBatch?: (report: BatchReport) => void;
  /** Warnings (read errors, discarded records); default: one line on stderr. */
  logger?: RunnerLogger;
  /** Clock for record age, lag and on-failure timestamps; default `Date.now`. */
  now?: () => number;
}

export interface EventSourceRunnerStats extends RunnerCounters {
  shards: Record<string, ShardStats>;
}

export interface EventSourceRunner {
  /** The stream's ARN as the events carry it in `eventSourceARN`. */
  readonly streamArn: string;
  /** Finishes each shard's in-flight batch, stops polling and writes the checkpoints. Idempotent. */
  stop(): Promise<void>;
  /**
   * Resolves when every shard has processed everything up to its tip as of the call (after the
   * call, a read found nothing new) and no batch is in flight. A record that keeps failing with
   * infinite retries never drains: pair with a timeout.
   */
  drain(): Promise<void>;
  stats(): EventSourceRunnerStats;
}

const defaultLogger: RunnerLogger = {
  warn(message, detail) {
    process.stderr.write(`${message}${detail === undefined ? '' : ` ${JSON.stringify(detail)}`}\n`);
  },
};

/**
 * Starts polling `streamName` and invoking `handler` as a Lambda event source mapping would.
 *
 * @example
 * const runner = await startEventSourceRunner({
 *   client: createKinesisClient(kinesis.url),
 *   streamName: 'tidewatch-logs',
 *   handler: async (event) => ({ batchItemFailures: [] }),
 *   batchSize: 500,
 *   maximumBatchingWindowMs: 1_000,
 *   bisectBatchOnFunctionError: true,
 *   maximumRetryAttempts: 3,
 *   onFailureFile: '.tidewatch/failures/logs.jsonl',
 *   checkpointFile: '.tidewatch/checkpoints/logs.json',
 * });
 * await runner.drain();
 * await runner.stop();
 */
export async function startEventSourceRunner(options: EventSourceRunnerOptions): Promise<EventSourceRunner> {
  const settings = validate(options);
  const now = options.now ?? Date.now;
  const logger = options.logger ?? defaultLogger;
  const streamArn = await describeStream(options.client, options.streamName);
  const identity: MappingIdentity = mappingIdentity(
    streamArn,
    options.functionName ?? 'tidewatch-local',
    options.invokeIdentityArn,
  );
  const store = await CheckpointStore.open(options.checkpointFile, options.streamName);
  const freshMapping = store.entries().next().done === true;
  const startMs = now();

  const counters: RunnerCounters = {
    batches: 0,
    records: 0,
    acknowledgedRecords: 0,
    retries: 0,
    bisects: 0,
    functionErrors: 0,
    partialFailures: 0,
    invalidResponses: 0,
    discardedRecords: 0,
    sentToDestination: 0,
    expiredRecords: 0,
    getRecordsCalls: 0,
    getRecordsErrors: 0,
  };
  const workers = new Map<string, ShardWorker>();
  const abort = new AbortController();
  const sleepers = new Set<() => void>();
  let stopping = false;
  let ticket = 0;
  let draining = 0;
  let discoveryTicket = -1;
  const drainWaiters: { ticket: number; resolve: () => void }[] = [];

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (stopping) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      sleepers.add(done);
    });
  const wakeAll = (): void => {
    for (const wake of [...sleepers]) wake();
  };

  const checkDrain = (): void => {
    if (drainWaiters.length === 0) return;
    for (let i = drainWaiters.length - 1; i >= 0; i--) {
      const waiter = drainWaiters[i] as { ticket: number; resolve: () => void };
      if (discoveryTicket <= waiter.ticket) continue;
      let done = true;
      for (const w of workers.values()) {
        if (!w.caughtUpSince(waiter.ticket)) {
          done = false;
          break;
        }
      }
      if (done) {
        drainWaiters.splice(i, 1);
        draining--;
        waiter.resolve();
      }
    }
  };

  /** Starts workers whose parent shards are finished (or gone from the stream). */
  const startReadyWorkers = (): void => {
    for (const w of workers.values()) {
      if (w.state !== 'waiting') continue;
      const ready = w.parentShardIds.every((p) => {
        const parent = workers.get(p);
        return parent === undefined || parent.state === 'finished';
      });
      if (ready) w.start();
    }
  };

  const ctx: ShardWorkerContext = {
    client: options.client,
    streamName: options.streamName,
    handler: options.handler,
    identity,
    store,
    counters,
    logger,
    ...settings,
    onFailureFile: options.onFailureFile,
    onBatch: options.onBatch,
    signal: abort.signal,
    now,
    isStopping: () => stopping,
    isDraining: () => draining > 0,
    sleep,
    nextTicket: () => ++ticket,
    changed: () => {
      startReadyWorkers();
      checkDrain();
    },
  };

  let firstDiscovery = true;
  const discover = async (): Promise<void> => {
    const started = ++ticket;
    const shards = await listShards(options.client, options.streamName, abort.signal);
    for (const shard of shards) {
      const shardId = shard.ShardId;
      if (shardId === undefined || workers.has(shardId)) continue;
      const parents = [shard.ParentShardId, shard.AdjacentParentShardId].filter(
        (p): p is string => p !== undefined && p !== null,
      );
      workers.set(shardId, new ShardWorker(ctx, shardId, parents, startFor(shard)));
    }
    firstDiscovery = false;
    discoveryTicket = started;
    startReadyWorkers();
    checkDrain();
  };

  /** Start position of a shard with no checkpoint. */
  const startFor = (shard: Shard): StartPosition => {
    const shardId = shard.ShardId as string;
    const cp = store.get(shardId);
    if (cp?.sinceMs !== undefined) return { kind: 'SINCE', sinceMs: cp.sinceMs };
    // Shards that appear after the mapping started (children of a reshard) are read from the start.
    if (!firstDiscovery || !freshMapping || settings.startingPosition === 'TRIM_HORIZON') {
      return { kind: 'TRIM_HORIZON' };
    }
    // A new LATEST mapping: closed shards hold only the past; open shards start now. The start time
    // is persisted so a restart before the first acknowledgement resumes from it, not from "now".
    if (shard.SequenceNumberRange?.EndingSequenceNumber !== undefined) {
      store.set(shardId, { finished: true });
      return { kind: 'TRIM_HORIZON' };
    }
    store.set(shardId, { sinceMs: startMs });
    return { kind: 'LATEST' };
  };

  await discover();

  const discoveryLoop = (async () => {
    while (!stopping) {
      await sleep(settings.shardDiscoveryIntervalMs);
      if (stopping) break;
      try {
        await discover();
      } catch (err) {
        if (stopping) break;
        logger.warn('event-source runner: listing shards failed; retrying', {
          error: (err as Error).message,
        });
      }
    }
  })();

  let stopped: Promise<void> | undefined;
  return {
    streamArn,
    stop() {
      stopped ??= (async () => {
        stopping = true;
        abort.abort();
        wakeAll();
        await discoveryLoop;
        await Promise.all([...workers.values()].map((w) => w.stopped()));
        for (const waiter of drainWaiters.splice(0)) waiter.resolve();
        await store.flush();
      })();
      return stopped;
    },
    drain() {
      if (stopping) return Promise.resolve();
      return new Promise<void>((resolve) => {
        drainWaiters.push({ ticket: ++ticket, resolve });
        draining++;
        // Flush batching windows and look for new shards now rather than at the next interval.
        void discover()
          .catch((err: unknown) => {
            logger.warn('event-source runner: listing shards failed', { error: (err as Error).message });
          })
          .finally(wakeAll);
      });
    },
    stats() {
      const shards: Record<string, ShardStats> = {};
      for (const [id, w] of workers) shards[id] = w.stats();
      return { ...counters, shards };
    },
  };
}

interface Settings {
  batchSize: number;
  maximumBatchingWindowMs: number;
  startingPosition: StartingPositionName;
  bisectBatchOnFunctionError: boolean;
  maximumRetryAttempts: number;
  maximumRecordAgeMs: number;
  pollIntervalMs: number;
  shardDiscoveryIntervalMs: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  functionTimeoutMs: number;
}

function validate(o: EventSourceRunnerOptions): Settings {
  const s: Settings = {
    batchSize: o.batchSize ?? 100,
    maximumBatchingWindowMs: o.maximumBatchingWindowMs ?? 0,
    startingPosition: o.startingPosition ?? 'TRIM_HORIZON',
    bisectBatchOnFunctionError: o.bisectBatchOnFunctionError ?? false,
    maximumRetryAttempts: o.maximumRetryAttempts ?? -1,
    maximumRecordAgeMs: o.maximumRecordAgeMs ?? -1,
    pollIntervalMs: o.pollIntervalMs ?? 1_000,
    shardDiscoveryIntervalMs: o.shardDiscoveryIntervalMs ?? 10_000,
    retryBaseDelayMs: o.retryBaseDelayMs ?? 100,
    retryMaxDelayMs: o.retryMaxDelayMs ?? 5_000,
    functionTimeoutMs: o.functionTimeoutMs ?? 60_000,
  };
  const fail = (what: string): never => {
    throw new EventSourceRunnerError(`event-source runner for '${o.streamName}': ${what}`);
  };
  if (!Number.isInteger(s.batchSize) || s.batchSize < 1 || s.batchSize > KINESIS_MAX_BATCH_SIZE) {
    fail(`batchSize must be an integer from 1 to ${KINESIS_MAX_BATCH_SIZE}, got ${s.batchSize}`);
  }
  if (!(s.maximumBatchingWindowMs >= 0 && s.maximumBatchingWindowMs <= MAX_BATCHING_WINDOW_MS)) {
    fail(
      `maximumBatchingWindowMs must be from 0 to ${MAX_BATCHING_WINDOW_MS}, got ${s.maximumBatchingWindowMs}`,
    );
  }
  if (s.startingPosition !== 'TRIM_HORIZON' && s.startingPosition !== 'LATEST') {
    fail(`startingPosition must be TRIM_HORIZON or LATEST, got ${String(s.startingPosition)}`);
  }
  if (
    !Number.isInteger(s.maximumRetryAttempts) ||
    s.maximumRetryAttempts < -1 ||
    s.maximumRetryAttempts > MAX_RETRY_ATTEMPTS
  ) {
    fail(
      `maximumRetryAttempts must be −1 (infinite) or 0–${MAX_RETRY_ATTEMPTS}, got ${s.maximumRetryAttempts}`,
    );
  }
  if (
    !(s.maximumRecordAgeMs === -1 || (s.maximumRecordAgeMs > 0 && s.maximumRecordAgeMs <= MAX_RECORD_AGE_MS))
  ) {
    fail(`maximumRecordAgeMs must be −1 (infinite) or 1–${MAX_RECORD_AGE_MS}, got ${s.maximumRecordAgeMs}`);
  }
  if ((o.parallelizationFactor ?? 1) !== 1) {
    fail(
      `parallelizationFactor ${o.parallelizationFactor} is not supported locally; use 1 (one batch per shard)`,
    );
  }
  for (const key of [
    'pollIntervalMs',
    'shardDiscoveryIntervalMs',
    'retryBaseDelayMs',
    'retryMaxDelayMs',
    'functionTimeoutMs',
  ] as const) {
    if (!(s[key] >= 0 && Number.isFinite(s[key])))
      fail(`${key} must be a non-negative number, got ${s[key]}`);
  }
  return s;
}

async function describeStream(client: KinesisClient, streamName: string): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    let status: string | undefined;
    try {
      const d = (await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName })))
        .StreamDescriptionSummary;
      status = d?.StreamStatus;
      if (d?.StreamARN !== undefined && (status === 'ACTIVE' || status === 'UPDATING')) return d.StreamARN;
    } catch (err) {
      throw new EventSourceRunnerError(
        `cannot describe stream '${streamName}': ${(err as Error).message}. Is the Kinesis endpoint up and the stream created?`,
        { cause: err },
      );
    }
    if (Date.now() > deadline) {
      throw new EventSourceRunnerError(
        `stream '${streamName}' is still ${status ?? 'unknown'} after 30 s; expected ACTIVE`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function listShards(client: KinesisClient, streamName: string, signal: AbortSignal): Promise<Shard[]> {
  const shards: Shard[] = [];
  let input: ListShardsCommandInput = { StreamName: streamName };
  for (;;) {
    const out = await client.send(new ListShardsCommand(input), { abortSignal: signal });
    shards.push(...(out.Shards ?? []));
    if (out.NextToken === undefined) return shards;
    input = { NextToken: out.NextToken };
  }
}
