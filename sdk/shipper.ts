/**
 * The producer: buffers events, packs them into shard-aware KPL aggregates and writes them with
 * PutRecords, retrying what fails, without ever throwing into the application.
 *
 * Life of an event:
 *   send() ─ serialize once, measure once, append to `pending` (no promise, no closure)
 *     │  linger timer (lingerMs) or ≥ 256 KiB pending (setImmediate)
 *     ▼
 *   assemble ─ UTF-8 encode, group by target shard, pack under maxAggregateBytes  → ready queue
 *     │  pump: ≤ maxInFlightCalls PutRecords calls of ≤ 500 records / 5 MiB
 *     ▼
 *   PutRecords ─ per-entry success → sent;  per-entry or whole-call failure → retry queue
 *                (full-jitter backoff, only the failed entries, until maxRetryMs) → failed + onError
 *
 * Flush bookkeeping: every accepted event belongs to a *generation*; `flush()` closes the current
 * generation and resolves once every event of it and of earlier ones is sent or has failed — events
 * sent while a flush is waiting do not delay it.
 */
import { Buffer } from 'node:buffer';
import {
  type KinesisClient,
  ListShardsCommand,
  type ListShardsCommandOutput,
  PutRecordsCommand,
  type PutRecordsCommandOutput,
  type PutRecordsRequestEntry,
} from '@aws-sdk/client-kinesis';
import { fullJitterDelayMs } from './backoff.ts';
import {
  ShipperConfigError,
  ShipperError,
  ShipperErrorReason,
  type ShipperErrorReasonName,
} from './errors.ts';
import { createShipperClient } from './kinesisClient.ts';
import { decodeAggregate, MAX_KINESIS_RECORD_BYTES, MAX_PARTITION_KEY_CHARS } from './kpl.ts';
import { type OutboundRecord, type RoutingMode, ShardAggregator } from './shardAggregator.ts';
import { effectiveHashKey, type ListedShard, ShardMap } from './shardMap.ts';

/** PutRecords: "Each PutRecords request can support up to 500 records" (Kinesis API reference). */
export const MAX_PUT_RECORDS_ENTRIES = 500;
/** PutRecords: "… up to a limit of 5 MiB for the entire request, including partition keys." */
export const MAX_PUT_RECORDS_BYTES = 5 * 1_048_576;

/** What to do with `send()` while the buffer holds `maxBufferedBytes` or more. */
export const WhenFull = {
  /** Keep the event (nothing is lost); `ready()` resolves when there is room again. */
  block: 'block',
  /** Drop the event and count it in `dropped` (reason `buffer_full`). */
  dropNewest: 'dropNewest',
} as const;
export type WhenFullName = (typeof WhenFull)[keyof typeof WhenFull];

/** Options of {@link createShipper}. Every size is in bytes, every duration in milliseconds. */
export interface ShipperOptions {
  /** Kinesis data stream to write to. */
  streamName: string;
  /** Endpoint URL, e.g. `http://127.0.0.1:4567` for kinesalite. Ignored when `client` is given. */
  endpoint?: string | undefined;
  /** AWS region. Ignored when `client` is given. */
  region?: string | undefined;
  /**
   * A client of your own (credentials, retries, tracing are then yours; the shipper retries anyway,
   * so consider `maxAttempts: 1`). Not destroyed by `close()`.
   */
  client?: KinesisClient | undefined;
  /**
   * Partition key: one string for every event, or a function of the event (called once per
   * `send`, must return 1–256 characters). Default: a fresh key per aggregate, spreading load
   * uniformly over the shards.
   */
  partitionKey?: string | ((event: object | string) => string) | undefined;
  /** Longest an event waits in the buffer before its aggregate is sent; default 100 (the KPL's). */
  lingerMs?: number | undefined;
  /** Soft bound on bytes accepted but not yet sent or failed; default 16 MiB. */
  maxBufferedBytes?: number | undefined;
  /** Behaviour at `maxBufferedBytes`; default `'block'`. */
  whenFull?: WhenFullName | undefined;
  /** Retry budget per Kinesis record, counted from its first failure; default 30,000. 0 = no retry. */
  maxRetryMs?: number | undefined;
  /** Called per batch with what could not be delivered. Default: one process warning per reason. */
  onError?: ((error: ShipperError) => void) | undefined;
  /** Budget of one KPL aggregate (data + partition key), ≤ 1 MiB; default 65,536. */
  maxAggregateBytes?: number | undefined;
  /** Concurrent PutRecords calls; default 4. */
  maxInFlightCalls?: number | undefined;
  /** First retry's backoff ceiling; default 100. */
  minBackoffMs?: number | undefined;
  /** Largest backoff ceiling; default 5,000. */
  maxBackoffMs?: number | undefined;
}

/** Counters of a shipper. Every count is in events (user records) unless it says otherwise. */
export interface ShipperStats {
  /** `send()` calls. Always `accepted = sent + failed + dropped + buffered`. */
  accepted: number;
  /** Acknowledged by Kinesis (counted once even if a retry wrote it twice). */
  sent: number;
  /** Event re-sends (one event retried three times counts three). */
  retried: number;
  /** Intentionally dropped (`whenFull: 'dropNewest'`). */
  dropped: number;
  /** Not delivered for any other reason (see `failedByReason`). */
  failed: number;
  /** Accepted, not yet sent nor failed. */
  buffered: number;
  /** UTF-8 bytes of the buffered events. */
  bufferedBytes: number;
  /** Kinesis records written (aggregates and plain records). */
  kinesisRecords: number;
  /** PutRecords calls made, including failed ones. */
  putRecordsCalls: number;
  failedByReason: Partial<Record<ShipperErrorReasonName, number>>;
  droppedByReason: Partial<Record<ShipperErrorReasonName, number>>;
}

/** The producer returned by {@link createShipper}. Methods are bound: pass `shipper.send` around freely. */
export interface Shipper {
  /** Queues one event (objects are `JSON.stringify`-ed once, strings sent as they are). Never throws. */
  send(event: object | string): void;
  /** Resolves when every event accepted before the call is sent or has failed. Never rejects. */
  flush(): Promise<void>;
  /** Stops accepting events, flushes, stops timers and releases the client it created. Never rejects. */
  close(): Promise<void>;
  /** Resolves when the buffer is below `maxBufferedBytes` (immediately if it is). Never rejects. */
  ready(): Promise<void>;
  stats(): ShipperStats;
}

/** Pending bytes that trigger assembly before the linger timer: an aggregate's worth of work per turn. */
const ASSEMBLE_THRESHOLD_BYTES = 256 * 1024;
/** Shortest interval between two shard map reloads triggered by mismatched PutRecords answers. */
const MIN_MAP_REFRESH_MS = 1_000;
/** UTF-8 bytes a partition key of 256 characters can take at most (4 bytes per code point). */
const MAX_PARTITION_KEY_BYTES = MAX_PARTITION_KEY_CHARS * 4;
/** Whole-call errors that retrying cannot fix: fail the records at once. */
const NON_RETRYABLE_ERRORS = new Set([
  'ResourceNotFoundException',
  'AccessDeniedException',
  'ValidationException',
  'InvalidArgumentException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'MissingAuthenticationTokenException',
  'IncompleteSignature',
  'KMSAccessDeniedException',
  'KMSDisabledException',
  'KMSInvalidStateException',
  'KMSNotFoundException',
  'KMSOptInRequired',
  'CredentialsProviderError',
]);

const RESOLVED: Promise<void> = Promise.resolve();

// `send` must not throw, but JSON.stringify and the caller's key function can. The try/catch lives in
// these two small functions so the hot path itself has none; the last error is kept for the report.
let lastHelperError: unknown;
const THREW = Symbol('threw');

function serialize(event: unknown): string | undefined {
  try {
    const s = JSON.stringify(event);
    if (typeof s === 'string') return s;
    lastHelperError = undefined; // e.g. send(undefined): nothing to serialize, nothing thrown
    return undefined;
  } catch (err) {
    lastHelperError = err;
    return undefined;
  }
}

function callKeyFunction(fn: (event: object | string) => string, event: object | string): unknown {
  try {
    return fn(event);
  } catch (err) {
    lastHelperError = err;
    return THREW;
  }
}

function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

/** Throttling, 5xx, timeouts, resets and refused connections are worth another try; the rest not. */
function isRetryable(err: unknown): boolean {
  const e = err as { name?: unknown; message?: unknown } | undefined;
  if (typeof e?.name === 'string' && NON_RETRYABLE_ERRORS.has(e.name)) return false;
  // Client configuration, not the service: no amount of waiting brings a region.
  return !(typeof e?.message === 'string' && e.message.startsWith('Region is missing'));
}

function positive(name: string, value: number | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new ShipperConfigError(`${name} must be a finite number ≥ ${min}, got ${String(value)}`);
  }
  return value;
}

const warnedReasons = new Set<string>();
function defaultOnError(error: ShipperError): void {
  if (warnedReasons.has(error.reason)) return;
  warnedReasons.add(error.reason);
  process.emitWarning(`${error.message} (further '${error.reason}' reports are only counted in stats())`, {
    type: 'TidewatchShipperWarning',
    code: error.reason,
  });
}

class KinesisShipper implements Shipper {
  readonly #streamName: string;
  readonly #client: KinesisClient;
  readonly #ownsClient: boolean;
  readonly #keyFn: ((event: object | string) => string) | undefined;
  readonly #lingerMs: number;
  readonly #maxBufferedBytes: number;
  readonly #dropWhenFull: boolean;
  readonly #maxRetryMs: number;
  readonly #onError: (error: ShipperError) => void;
  readonly #maxInFlightCalls: number;
  readonly #minBackoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #maxAggregateBytes: number;
  /** Largest event accepted without measuring its key (exact for `random` and `fixed` keys). */
  readonly #maxEventBytesFast: number;
  readonly #aggregator: ShardAggregator;

  // counters
  #accepted = 0;
  #sent = 0;
  #retried = 0;
  #dropped = 0;
  #failed = 0;
  #buffered = 0;
  #bufferedBytes = 0;
  #kinesisRecords = 0;
  #putRecordsCalls = 0;
  readonly #failedByReason: Partial<Record<ShipperErrorReasonName, number>> = {};
  readonly #droppedByReason: Partial<Record<ShipperErrorReasonName, number>> = {};

  // events not yet assembled (current generation), and sealed chunks of earlier generations
  #pendingData: string[] = [];
  #pendingKeys: string[] = [];
  #pendingBytes = 0;
  #sealed: { gen: number; data: string[]; keys: string[] }[] = [];

  // flush generations
  #gen = 0;
  #curGenOutstanding = 0;
  readonly #genOutstanding = new Map<number, number>();
  #flushWaiters: { gen: number; resolve: () => void }[] = [];

  // outbound
  #queue: OutboundRecord[] = [];
  #queueHead = 0;
  #retryWaiting: OutboundRecord[] = [];
  #inFlightCalls = 0;

  // timers
  #lingerTimer: NodeJS.Timeout | undefined;
  #assembleImmediate: NodeJS.Immediate | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #retryTimerDueMs = Number.POSITIVE_INFINITY;
  #reportImmediate: NodeJS.Immediate | undefined;
  #mapRetryTimer: NodeJS.Timeout | undefined;

  // assembly and the shard map (keyed mode)
  #assembling = false;
  #assembleAgain = false;
  #finalizeRequested = false;
  #mapLoad: Promise<void> | undefined;
  #mapStale = false;
  #mapFailures = 0;
  #mapRetryAtMs = 0;
  #lastMapLoadMs = 0;
  #mapRefreshTimer: NodeJS.Timeout | undefined;
  #mismatched: { record: OutboundRecord; shardId: string }[] = [];

  #readyPromise: Promise<void> | undefined;
  #readyResolve: (() => void) | undefined;
  #closing = false;
  #closePromise: Promise<void> | undefined;
  readonly #reports = new Map<ShipperErrorReasonName, { events: number; cause: unknown; detail: string }>();

  constructor(options: ShipperOptions) {
    if (typeof options?.streamName !== 'string' || options.streamName === '') {
      throw new ShipperConfigError('streamName is required: the Kinesis data stream to write to');
    }
    this.#streamName = options.streamName;
    this.#lingerMs = positive('lingerMs', options.lingerMs, 100);
    this.#maxBufferedBytes = positive('maxBufferedBytes', options.maxBufferedBytes, 16 * 1_048_576, 1);
    if (options.whenFull !== undefined && options.whenFull !== 'block' && options.whenFull !== 'dropNewest') {
      throw new ShipperConfigError(
        `whenFull must be 'block' or 'dropNewest', got ${String(options.whenFull)}`,
      );
    }
    this.#dropWhenFull = options.whenFull === 'dropNewest';
    this.#maxRetryMs = positive('maxRetryMs', options.maxRetryMs, 30_000);
    this.#maxInFlightCalls = Math.floor(positive('maxInFlightCalls', options.maxInFlightCalls, 4, 1));
    this.#minBackoffMs = positive('minBackoffMs', options.minBackoffMs, 100);
    this.#maxBackoffMs = Math.max(this.#minBackoffMs, positive('maxBackoffMs', options.maxBackoffMs, 5_000));
    this.#maxAggregateBytes = positive('maxAggregateBytes', options.maxAggregateBytes, 65_536, 64);
    if (this.#maxAggregateBytes > MAX_KINESIS_RECORD_BYTES) {
      throw new ShipperConfigError(
        `maxAggregateBytes must be at most ${MAX_KINESIS_RECORD_BYTES} (the Kinesis record limit, data + partition key)`,
      );
    }
    this.#onError = options.onError ?? defaultOnError;

    const pk = options.partitionKey;
    let mode: RoutingMode;
    if (pk === undefined) {
      mode = 'random';
      this.#keyFn = undefined;
      this.#maxEventBytesFast = MAX_KINESIS_RECORD_BYTES - 64; // generated keys are ~20 ASCII bytes
    } else if (typeof pk === 'string') {
      if (!validPartitionKey(pk)) {
        throw new ShipperConfigError(`partitionKey must be 1 to ${MAX_PARTITION_KEY_CHARS} characters`);
      }
      mode = 'fixed';
      this.#keyFn = undefined;
      this.#maxEventBytesFast = MAX_KINESIS_RECORD_BYTES - Buffer.byteLength(pk, 'utf8');
    } else if (typeof pk === 'function') {
      mode = 'keyed';
      this.#keyFn = pk;
      this.#maxEventBytesFast = MAX_KINESIS_RECORD_BYTES - MAX_PARTITION_KEY_BYTES;
    } else {
      throw new ShipperConfigError('partitionKey must be a string or a function returning one');
    }
    this.#aggregator = new ShardAggregator({
      mode,
      maxAggregateBytes: this.#maxAggregateBytes,
      fixedKey: typeof pk === 'string' ? pk : undefined,
    });
    if (options.client !== undefined) {
      this.#client = options.client;
      this.#ownsClient = false;
    } else {
      this.#client = createShipperClient({ endpoint: options.endpoint, region: options.region });
      this.#ownsClient = true;
    }
    // Bound once so that `shipper.send` can be handed around as a callback.
    this.send = this.send.bind(this);
    this.flush = this.flush.bind(this);
    this.close = this.close.bind(this);
    this.ready = this.ready.bind(this);
    this.stats = this.stats.bind(this);
    if (mode === 'keyed') void this.#loadShardMap();
  }

  // ------------------------------------------------------------------------------------------
  // hot path

  send(event: object | string): void {
    this.#accepted++;
    const data = typeof event === 'string' ? event : serialize(event);
    if (data === undefined) {
      this.#reject(
        ShipperErrorReason.unserializable,
        1,
        lastHelperError,
        'event could not be JSON-serialized',
      );
      return;
    }
    if (this.#closing) {
      this.#reject(ShipperErrorReason.closed, 1, undefined, 'send() after close()');
      return;
    }
    let key: string | undefined;
    if (this.#keyFn !== undefined) {
      const k = callKeyFunction(this.#keyFn, event);
      if (typeof k !== 'string' || !validPartitionKey(k)) {
        this.#reject(
          ShipperErrorReason.invalidPartitionKey,
          1,
          k === THREW ? lastHelperError : undefined,
          `partitionKey() must return 1 to ${MAX_PARTITION_KEY_CHARS} characters`,
        );
        return;
      }
      key = k;
    }
    const bytes = Buffer.byteLength(data, 'utf8');
    if (bytes > this.#maxEventBytesFast && this.#oversized(bytes, key)) {
      this.#reject(
        ShipperErrorReason.oversized,
        1,
        undefined,
        `event of ${bytes} bytes does not fit a Kinesis record (${MAX_KINESIS_RECORD_BYTES} bytes of data + partition key)`,
      );
      return;
    }
    if (this.#dropWhenFull && this.#bufferedBytes + bytes > this.#maxBufferedBytes) {
      this.#dropped++;
      this.#droppedByReason.buffer_full = (this.#droppedByReason.buffer_full ?? 0) + 1;
      this.#queueReport(ShipperErrorReason.bufferFull, 1, undefined, 'buffer full (whenFull: dropNewest)');
      return;
    }
    this.#pendingData.push(data);
    if (key !== undefined) this.#pendingKeys.push(key);
    this.#pendingBytes += bytes;
    this.#bufferedBytes += bytes;
    this.#buffered++;
    this.#curGenOutstanding++;
    if (this.#pendingBytes >= ASSEMBLE_THRESHOLD_BYTES) {
      this.#assembleImmediate ??= setImmediate(this.#onAssembleImmediate);
    } else {
      this.#lingerTimer ??= setTimeout(this.#onLinger, this.#lingerMs);
    }
  }

  #oversized(bytes: number, key: string | undefined): boolean {
    if (key === undefined) return true; // fast bound is exact in random and fixed modes
    return bytes + Buffer.byteLength(key, 'utf8') > MAX_KINESIS_RECORD_BYTES;
  }

  // ------------------------------------------------------------------------------------------
  // public lifecycle

  flush(): Promise<void> {
    const target = this.#gen;
    if (this.#curGenOutstanding > 0) {
      this.#sealed.push({ gen: target, data: this.#pendingData, keys: this.#pendingKeys });
      this.#pendingData = [];
      this.#pendingKeys = [];
      this.#pendingBytes = 0;
      this.#genOutstanding.set(target, this.#curGenOutstanding);
    }
    this.#curGenOutstanding = 0;
    this.#gen++;
    if (this.#lingerTimer !== undefined) {
      clearTimeout(this.#lingerTimer);
      this.#lingerTimer = undefined;
    }
    this.#assemble(true);
    if (this.#settledThrough(target)) {
      this.#deliverReports();
      return RESOLVED;
    }
    return new Promise<void>((resolve) => {
      this.#flushWaiters.push({ gen: target, resolve });
    });
  }

  close(): Promise<void> {
    if (this.#closePromise !== undefined) return this.#closePromise;
    this.#closing = true;
    this.#closePromise = this.flush().then(() => {
      for (const t of [this.#lingerTimer, this.#retryTimer, this.#mapRetryTimer, this.#mapRefreshTimer]) {
        if (t !== undefined) clearTimeout(t);
      }
      if (this.#assembleImmediate !== undefined) clearImmediate(this.#assembleImmediate);
      this.#lingerTimer = this.#retryTimer = this.#mapRetryTimer = this.#mapRefreshTimer = undefined;
      this.#assembleImmediate = undefined;
      this.#deliverReports();
      if (this.#ownsClient) this.#client.destroy();
    });
    return this.#closePromise;
  }

  ready(): Promise<void> {
    if (this.#bufferedBytes < this.#maxBufferedBytes) return RESOLVED;
    if (this.#readyPromise === undefined) {
      this.#readyPromise = new Promise<void>((resolve) => {
        this.#readyResolve = resolve;
      });
    }
    return this.#readyPromise;
  }

  stats(): ShipperStats {
    return {
      accepted: this.#accepted,
      sent: this.#sent,
      retried: this.#retried,
      dropped: this.#dropped,
      failed: this.#failed,
      buffered: this.#buffered,
      bufferedBytes: this.#bufferedBytes,
      kinesisRecords: this.#kinesisRecords,
      putRecordsCalls: this.#putRecordsCalls,
      failedByReason: { ...this.#failedByReason },
      droppedByReason: { ...this.#droppedByReason },
    };
  }

  // ------------------------------------------------------------------------------------------
  // assembly

  readonly #onLinger = (): void => {
    this.#lingerTimer = undefined;
    this.#assemble(true);
  };

  readonly #onAssembleImmediate = (): void => {
    this.#assembleImmediate = undefined;
    this.#assemble(false);
  };

  /** Packs pending events into records and starts calls. `finalize` also emits partial aggregates. */
  #assemble(finalize: boolean): void {
    if (finalize) this.#finalizeRequested = true;
    if (this.#assembling) {
      this.#assembleAgain = true;
      return;
    }
    const agg = this.#aggregator;
    if (agg.mode === 'keyed' && agg.shardMap === undefined && Date.now() >= this.#mapRetryAtMs) {
      // First use of a per-event key: wait for ListShards (once); on failure, group by key meanwhile.
      this.#assembling = true;
      void this.#loadShardMap().then(() => {
        this.#assembling = false;
        this.#assemble(false);
      });
      return;
    }
    this.#assembling = true;
    do {
      this.#assembleAgain = false;
      this.#assembleOnce();
    } while (this.#assembleAgain);
    this.#assembling = false;
    this.#pump();
  }

  #assembleOnce(): void {
    const agg = this.#aggregator;
    const out = this.#queue;
    const keyed = agg.mode === 'keyed';
    const sealed = this.#sealed;
    if (sealed.length > 0) {
      this.#sealed = [];
      for (const chunk of sealed) {
        this.#addAll(chunk.data, keyed ? chunk.keys : undefined, chunk.gen, out);
        agg.finalizeAll(chunk.gen, out);
      }
    }
    if (this.#pendingData.length > 0) {
      const data = this.#pendingData;
      const keys = this.#pendingKeys;
      this.#pendingData = [];
      this.#pendingKeys = [];
      this.#pendingBytes = 0;
      this.#addAll(data, keyed ? keys : undefined, this.#gen, out);
    }
    if (this.#finalizeRequested) {
      this.#finalizeRequested = false;
      agg.finalizeAll(this.#gen, out);
    } else if (agg.hasPartial) {
      this.#lingerTimer ??= setTimeout(this.#onLinger, this.#lingerMs);
    }
  }

  #addAll(data: string[], keys: string[] | undefined, gen: number, out: OutboundRecord[]): void {
    const agg = this.#aggregator;
    for (let i = 0; i < data.length; i++) {
      agg.add(keys?.[i], Buffer.from(data[i]!, 'utf8'), gen, out);
    }
  }

  // ------------------------------------------------------------------------------------------
  // PutRecords

  #pump(): void {
    const queue = this.#queue;
    while (this.#inFlightCalls < this.#maxInFlightCalls && this.#queueHead < queue.length) {
      const batch: OutboundRecord[] = [];
      let bytes = 0;
      while (this.#queueHead < queue.length && batch.length < MAX_PUT_RECORDS_ENTRIES) {
        const r = queue[this.#queueHead]!;
        if (batch.length > 0 && bytes + r.sizeBytes > MAX_PUT_RECORDS_BYTES) break;
        batch.push(r);
        bytes += r.sizeBytes;
        this.#queueHead++;
      }
      this.#inFlightCalls++;
      void this.#putRecords(batch);
    }
    if (this.#queueHead === queue.length) {
      queue.length = 0;
      this.#queueHead = 0;
    } else if (this.#queueHead > 1024) {
      this.#queue = queue.slice(this.#queueHead);
      this.#queueHead = 0;
    }
  }

  async #putRecords(batch: OutboundRecord[]): Promise<void> {
    const entries: PutRecordsRequestEntry[] = new Array(batch.length);
    for (let i = 0; i < batch.length; i++) {
      const r = batch[i]!;
      entries[i] = { Data: r.data, PartitionKey: r.partitionKey };
    }
    this.#putRecordsCalls++;
    let out: PutRecordsCommandOutput | undefined;
    let callError: unknown;
    try {
      out = await this.#client.send(
        new PutRecordsCommand({ StreamName: this.#streamName, Records: entries }),
      );
    } catch (err) {
      callError = err;
    }
    this.#inFlightCalls--;
    const now = Date.now();
    if (out === undefined) {
      const retryable = isRetryable(callError);
      const detail = describeError(callError);
      for (const r of batch) {
        r.lastError = detail;
        if (retryable) this.#retryLater(r, now, callError);
        else this.#fail(r, ShipperErrorReason.rejected, callError);
      }
    } else {
      const results = out.Records ?? [];
      for (let i = 0; i < batch.length; i++) {
        const r = batch[i]!;
        const res = results[i];
        if (res === undefined || res.ErrorCode !== undefined || res.SequenceNumber === undefined) {
          r.lastError = `${res?.ErrorCode ?? 'MissingResult'}: ${res?.ErrorMessage ?? 'no result for this entry'}`;
          this.#retryLater(r, now, undefined);
        } else {
          this.#delivered(r, res.ShardId);
        }
      }
    }
    this.#pump();
  }

  #delivered(r: OutboundRecord, shardId: string | undefined): void {
    this.#kinesisRecords++;
    if (r.expectedShardId !== undefined && shardId !== undefined && shardId !== r.expectedShardId) {
      // The shard map is stale (a split or merge): Kinesis put the record elsewhere. Its routing key
      // is fine there, but other user records of the aggregate may hash outside that shard and KCL
      // would drop them; check them against the fresh map and re-send those.
      this.#mapStale = true;
      this.#requestMapRefresh();
      if (r.aggregated) {
        this.#mismatched.push({ record: r, shardId });
        return;
      }
    }
    this.#settle(r.gen, r.events, r.eventBytes);
    this.#sent += r.events;
  }

  #retryLater(r: OutboundRecord, now: number, cause: unknown): void {
    r.attempts++;
    if (r.firstFailureMs === 0) r.firstFailureMs = now;
    const remainingMs = this.#maxRetryMs - (now - r.firstFailureMs);
    if (remainingMs <= 0) {
      this.#fail(r, ShipperErrorReason.retriesExhausted, cause);
      return;
    }
    const delay = Math.min(
      remainingMs,
      fullJitterDelayMs(r.attempts, this.#minBackoffMs, this.#maxBackoffMs),
    );
    r.dueMs = now + delay;
    this.#retried += r.events;
    this.#retryWaiting.push(r);
    this.#armRetryTimer(r.dueMs);
  }

  #armRetryTimer(dueMs: number): void {
    if (dueMs >= this.#retryTimerDueMs) return;
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryTimerDueMs = dueMs;
    this.#retryTimer = setTimeout(this.#onRetryTimer, Math.max(0, dueMs - Date.now()));
  }

  readonly #onRetryTimer = (): void => {
    this.#retryTimer = undefined;
    this.#retryTimerDueMs = Number.POSITIVE_INFINITY;
    const now = Date.now();
    const waiting = this.#retryWaiting;
    const later: OutboundRecord[] = [];
    let nextDue = Number.POSITIVE_INFINITY;
    for (const r of waiting) {
      if (r.dueMs <= now) this.#queue.push(r);
      else {
        later.push(r);
        if (r.dueMs < nextDue) nextDue = r.dueMs;
      }
    }
    this.#retryWaiting = later;
    if (later.length > 0) this.#armRetryTimer(nextDue);
    this.#pump();
  };

  #fail(r: OutboundRecord, reason: ShipperErrorReasonName, cause: unknown): void {
    this.#failed += r.events;
    this.#failedByReason[reason] = (this.#failedByReason[reason] ?? 0) + r.events;
    this.#queueReport(
      reason,
      r.events,
      cause,
      reason === ShipperErrorReason.retriesExhausted
        ? `gave up after ${r.attempts} attempts over ${this.#maxRetryMs} ms; last error ${r.lastError}`
        : `Kinesis refused the records: ${r.lastError}`,
    );
    this.#settle(r.gen, r.events, r.eventBytes);
  }

  /** An event rejected in `send()`: counted as failed, never buffered. */
  #reject(reason: ShipperErrorReasonName, events: number, cause: unknown, detail: string): void {
    this.#failed += events;
    this.#failedByReason[reason] = (this.#failedByReason[reason] ?? 0) + events;
    this.#queueReport(reason, events, cause, detail);
  }

  /** `events` of generation `gen` are done (sent or failed): release their buffer space. */
  #settle(gen: number, events: number, eventBytes: number): void {
    this.#buffered -= events;
    this.#bufferedBytes -= eventBytes;
    if (this.#readyResolve !== undefined && this.#bufferedBytes < this.#maxBufferedBytes) {
      const resolve = this.#readyResolve;
      this.#readyResolve = undefined;
      this.#readyPromise = undefined;
      resolve();
    }
    if (gen === this.#gen) {
      this.#curGenOutstanding -= events;
      return;
    }
    const left = (this.#genOutstanding.get(gen) ?? 0) - events;
    if (left > 0) {
      this.#genOutstanding.set(gen, left);
      return;
    }
    this.#genOutstanding.delete(gen);
    if (this.#flushWaiters.length === 0) return;
    const waiters = this.#flushWaiters;
    const still: { gen: number; resolve: () => void }[] = [];
    let delivered = false;
    for (const w of waiters) {
      if (this.#settledThrough(w.gen)) {
        if (!delivered) {
          this.#deliverReports();
          delivered = true;
        }
        w.resolve();
      } else still.push(w);
    }
    this.#flushWaiters = still;
  }

  /** True when no event of generation ≤ `gen` is outstanding. */
  #settledThrough(gen: number): boolean {
    for (const g of this.#genOutstanding.keys()) if (g <= gen) return false;
    return true;
  }

  // ------------------------------------------------------------------------------------------
  // shard map (keyed mode)

  /**
   * Reloads the map after a mismatch, at most once per {@link MIN_MAP_REFRESH_MS}: a burst of
   * mismatched answers costs one ListShards (its limit is per stream), not one each.
   */
  #requestMapRefresh(): void {
    if (this.#mapLoad !== undefined || this.#mapRefreshTimer !== undefined) return;
    const waitMs = this.#lastMapLoadMs + MIN_MAP_REFRESH_MS - Date.now();
    if (waitMs <= 0) {
      void this.#loadShardMap();
      return;
    }
    this.#mapRefreshTimer = setTimeout(() => {
      this.#mapRefreshTimer = undefined;
      void this.#loadShardMap();
    }, waitMs);
  }

  /** Loads (or reloads) the shard map; never rejects. Concurrent callers share one ListShards. */
  #loadShardMap(): Promise<void> {
    this.#mapLoad ??= this.#listShards().finally(() => {
      this.#mapLoad = undefined;
    });
    return this.#mapLoad;
  }

  async #listShards(): Promise<void> {
    this.#lastMapLoadMs = Date.now();
    const shards: ListedShard[] = [];
    try {
      let nextToken: string | undefined;
      do {
        const page: ListShardsCommandOutput = await this.#client.send(
          new ListShardsCommand(
            nextToken === undefined ? { StreamName: this.#streamName } : { NextToken: nextToken },
          ),
        );
        for (const s of page.Shards ?? []) shards.push(s);
        nextToken = page.NextToken;
      } while (nextToken !== undefined);
    } catch {
      // No map (kinesis:ListShards denied, stream missing, network): records are grouped by key
      // meanwhile, which is always consistent. Try again later with backoff.
      this.#mapFailures++;
      const delay = fullJitterDelayMs(this.#mapFailures, 1_000, 60_000) + 1_000;
      this.#mapRetryAtMs = Date.now() + delay;
      if (this.#aggregator.shardMap === undefined || this.#mapStale) {
        if (this.#mapRetryTimer !== undefined) clearTimeout(this.#mapRetryTimer);
        if (!this.#closing) {
          this.#mapRetryTimer = setTimeout(() => {
            this.#mapRetryTimer = undefined;
            void this.#loadShardMap();
          }, delay);
          this.#mapRetryTimer.unref(); // an optimization must not keep the process alive
        }
      }
      this.#resolveMismatches(undefined);
      return;
    }
    const map = ShardMap.fromShards(shards);
    this.#mapFailures = 0;
    this.#mapStale = false;
    // Partial aggregates hold current-generation events only (flush seals before bumping the gen).
    this.#aggregator.setShardMap(map, this.#gen, this.#queue);
    this.#resolveMismatches(map);
    this.#pump();
  }

  /**
   * Settles aggregates that landed on another shard than expected: user records whose hash lies in
   * the shard that took the aggregate are delivered; the others are re-sent grouped by partition key
   * (each such aggregate routes by a key all its records share: consistent whatever the shards are
   * now, so a map that keeps disagreeing with Kinesis cannot make records loop).
   */
  #resolveMismatches(map: ShardMap | undefined): void {
    if (this.#mismatched.length === 0) return;
    const mismatched = this.#mismatched;
    this.#mismatched = [];
    const requeue = new ShardAggregator({ mode: 'keyed', maxAggregateBytes: this.#maxAggregateBytes });
    const out: OutboundRecord[] = [];
    for (const { record, shardId } of mismatched) {
      const decoded = decodeAggregate(record.data);
      const shard = map?.byId(shardId);
      if (decoded.kind !== 'ok') {
        // Cannot happen for our own encoding; count as delivered rather than loop.
        this.#settle(record.gen, record.events, record.eventBytes);
        this.#sent += record.events;
        continue;
      }
      let keptEvents = 0;
      let keptBytes = 0;
      for (const child of decoded.records) {
        const inShard =
          shard === undefined
            ? child.partitionKey === record.partitionKey // without the shard's range, only the routing key is certain
            : inRange(effectiveHashKey(child.partitionKey, child.explicitHashKey), shard);
        if (inShard) {
          keptEvents++;
          keptBytes += child.data.byteLength;
        } else {
          // Copy: the decoded child is a view into the old aggregate.
          requeue.add(child.partitionKey, Uint8Array.prototype.slice.call(child.data), record.gen, out);
        }
      }
      requeue.finalizeAll(record.gen, out);
      this.#sent += keptEvents;
      if (keptEvents > 0) this.#settle(record.gen, keptEvents, keptBytes);
      this.#retried += record.events - keptEvents;
    }
    for (const r of out) this.#queue.push(r);
    this.#pump();
  }

  // ------------------------------------------------------------------------------------------
  // reporting (batched: at most one onError per reason per event-loop turn)

  #queueReport(reason: ShipperErrorReasonName, events: number, cause: unknown, detail: string): void {
    const r = this.#reports.get(reason);
    if (r === undefined) this.#reports.set(reason, { events, cause, detail });
    else r.events += events;
    this.#reportImmediate ??= setImmediate(this.#deliverReports);
  }

  readonly #deliverReports = (): void => {
    if (this.#reportImmediate !== undefined) {
      clearImmediate(this.#reportImmediate);
      this.#reportImmediate = undefined;
    }
    if (this.#reports.size === 0) return;
    const reports = [...this.#reports];
    this.#reports.clear();
    for (const [reason, r] of reports) {
      const error = new ShipperError(
        reason,
        r.events,
        `tidewatch shipper: ${r.events} event(s) ${reason === ShipperErrorReason.bufferFull ? 'dropped' : 'failed'} for stream '${this.#streamName}' (${reason}): ${r.detail}`,
        r.cause === undefined ? undefined : { cause: r.cause },
      );
      try {
        this.#onError(error);
      } catch {
        // The hook is the caller's; its failure must not break delivery of everything else.
      }
    }
  };
}

function inRange(hash: bigint, shard: { startingHashKey: bigint; endingHashKey: bigint }): boolean {
  return hash >= shard.startingHashKey && hash <= shard.endingHashKey;
}

function validPartitionKey(key: string): boolean {
  return (
    key.length > 0 && (key.length <= MAX_PARTITION_KEY_CHARS || [...key].length <= MAX_PARTITION_KEY_CHARS)
  );
}

/**
 * Creates a shipper that sends log events to a Kinesis data stream as shard-aware KPL aggregates.
 *
 * Guarantees: `send()` never throws and costs one serialization and one byte count; delivery is
 * at-least-once; every event ends up counted in exactly one of `sent`, `failed`, `dropped` (or is
 * still `buffered`); failures reach `onError`, never an exception. Call `flush()` before a Lambda
 * handler returns and `close()` before a process exits.
 *
 * @throws {ShipperConfigError} only for invalid options, synchronously.
 * @example
 * import { createShipper } from 'tidewatch/sdk';
 * const shipper = createShipper({ streamName: 'tidewatch-logs', partitionKey: (e) => (e as { service: string }).service });
 * shipper.send({ time: Date.now(), service: 'checkout', level: 'info', msg: 'paid', durationMs: 41 });
 * await shipper.close();
 */
export function createShipper(options: ShipperOptions): Shipper {
  return new KinesisShipper(options);
}
