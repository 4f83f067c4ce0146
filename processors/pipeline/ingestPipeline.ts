/**
 * Stage one as a Lambda handler body (the `tidewatch-ingest` function, DESIGN.md §1): one batch of
 * one logs shard → decode → windows (partial summaries) → archive → partials to the metrics stream.
 *
 * Per range of records, in this order (each step acknowledges only after delivery):
 * 1. decode and aggregate (`aggregateBatch`, clock = the newest arrival time of the range, so a
 *    redelivery of the same records yields the same partials);
 * 2. archive every event's raw line (Firehose, `logs/`) and every reject, late and invalid-time event
 *    with its code (error stream, `errors/`). Records whose lines could not be archived are `retry`:
 *    the range is cut before the first of them and re-aggregated;
 * 3. store the write-ahead intent `{first, last, state}` (ingestCursor.ts) — conditional on its
 *    version, so a stale container cannot interleave;
 * 4. send the partials (PutRecords, partition key = series key).
 * `batchItemFailures` lists the retry parents only; Lambda restarts from the lowest, so nothing after
 * it was emitted. One pipeline-health record per invocation goes to the metrics stream, and from
 * there (detect) to the pipeline table.
 */
import { Dimension, PipelineMeasure, RejectCode } from '../schema.ts';
import type { ArchiveReject, FirehoseArchiver } from '../sinks/firehoseArchiver.ts';
import type { SeriesWindowRecord } from '../sinks/timeSeriesRecord.ts';
import type { DecodedBatch } from '../sources/decodedBatch.ts';
import { decodeKinesisBatch } from '../sources/decodeKinesisBatch.ts';
import type { KinesisBatchResponse, KinesisEvent, KinesisEventRecord } from '../sources/kinesisEvent.ts';
import {
  type AggregateResult,
  aggregateBatch,
  rulesReadAttributes,
  StageOneState,
} from '../transforms/window/aggregateBatch.ts';
import { chunkPartials } from '../transforms/window/partialCodec.ts';
import { compareSequenceNumbers } from '../transforms/window/sequenceNumber.ts';
import type { HandlerConfig } from './handlerConfig.ts';
import { encodeHealthRecord, HEALTH_PARTITION_KEY_PREFIX } from './healthRecord.ts';
import {
  decodeIngestCursor,
  encodeIngestCursor,
  type IngestCursor,
  IngestCursorKind,
  nextSequenceNumber,
} from './ingestCursor.ts';
import { budgetMs, type LambdaContextLike, shardIdOf } from './lambdaContext.ts';
import { type PipelineLogger, silentLogger } from './logger.ts';
import type { MetricsRecord, PartialsPublisher } from './partialsPublisher.ts';
import type { StateBlobStore } from './stateBlobs.ts';

/** What the ingest handler needs; `processors/handlers/ingest.ts` builds it from the environment. */
export interface IngestDeps {
  config: HandlerConfig;
  archiver: FirehoseArchiver;
  publisher: PartialsPublisher;
  /** Write-ahead intents (ingest cursors). */
  cursors: StateBlobStore;
  /** Send the pipeline-health record (on the metrics stream, for detect to write). Default true. */
  health?: boolean;
  logger?: PipelineLogger;
  /** Clock for telemetry and records without arrival time. Default `Date.now`. */
  now?: () => number;
}

/** The handler function: a Kinesis event (and optional context) → partial batch response. */
export type IngestHandler = (
  event: KinesisEvent,
  context?: LambdaContextLike,
) => Promise<KinesisBatchResponse>;

/** Per-invocation counters (the health record). */
interface IngestCounters {
  events: number;
  rejected: number;
  late: number;
  archiveFailed: number;
  partials: number;
  replayedRecords: number;
  /** Records before the stored intent: already processed, acknowledged again. */
  skippedRecords: number;
}

interface ShardCache {
  version: number;
  cursor: IngestCursor | undefined;
  cursorState: StageOneState | undefined;
  /** Stage-one state after the last record this container acknowledged. */
  after: { seq: string; state: StageOneState } | undefined;
}

/** Result of one range: the index of the last record processed (acknowledged), and whether to stop. */
interface RangeResult {
  processedThrough: number;
  stop: boolean;
  state?: StageOneState;
}

function arrivalMs(r: KinesisEventRecord | undefined): number {
  const s = r?.kinesis?.approximateArrivalTimestamp;
  return typeof s === 'number' && s > 0 ? Math.round(s * 1000) : Number.NaN;
}

/** First index `i` in the sorted `values` with `values[i] >= x`. */
function lowerBound(values: readonly number[], x: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Creates the ingest handler. State across invocations (per-shard cursors) lives in the closure,
 * i.e. per Lambda container, and is reloaded from the state store on a cold start.
 *
 * @example
 * const handler = createIngestHandler({ config, archiver, publisher, cursors, health });
 * const { batchItemFailures } = await handler(event, context);
 */
export function createIngestHandler(deps: IngestDeps): IngestHandler {
  const { config, archiver, publisher, cursors } = deps;
  const log = deps.logger ?? silentLogger;
  const now = deps.now ?? Date.now;
  const shards = new Map<string, ShardCache>();
  const decodeOptions = {
    fieldMapping: config.fieldMapping,
    missingTimestamp: config.missingTimestamp,
    // Events live until the handler returns; their parsed lines need not unless a rule reads them
    // (the archive takes the raw bytes), so the garbage collector does not copy them around.
    keepAttributes: rulesReadAttributes(config.window.rules),
    ...(config.defaultService === undefined ? {} : { defaultService: config.defaultService }),
  };

  const cursorRef = (shard: string) => ({ kind: IngestCursorKind, key: `${config.logsStream}/${shard}` });

  async function loadShard(shard: string, budget: number): Promise<ShardCache> {
    const cached = shards.get(shard);
    if (cached !== undefined) return cached;
    const blob = await cursors.load(cursorRef(shard), { budgetMs: budget });
    const entry: ShardCache = { version: 0, cursor: undefined, cursorState: undefined, after: undefined };
    if (blob !== undefined) {
      const { cursor, state } = decodeIngestCursor(blob.data);
      entry.version = blob.version;
      entry.cursor = cursor;
      entry.cursorState = state;
    }
    shards.set(shard, entry);
    return entry;
  }

  /** Stores a new intent; `false` (and the shard cache dropped) when it could not be stored. */
  async function saveCursor(shard: string, cache: ShardCache, cursor: IngestCursor, budget: number) {
    const version = cache.version + 1;
    const out = await cursors.save(cursorRef(shard), version, encodeIngestCursor(cursor), {
      budgetMs: budget,
    });
    if (out.kind === 'ok') {
      cache.version = version;
      cache.cursor = cursor;
      cache.cursorState = undefined;
      return true;
    }
    // Someone else wrote this shard's cursor (a stale or concurrent container): reload next time.
    shards.delete(shard);
    log.warn('ingest cursor not stored', {
      shard,
      outcome: out.kind,
      ...('reason' in out ? { reason: out.reason } : {}),
    });
    return false;
  }

  return async function ingest(
    event: KinesisEvent,
    context?: LambdaContextLike,
  ): Promise<KinesisBatchResponse> {
    const startedMs = now();
    const records = event.Records ?? [];
    const n = records.length;
    if (n === 0) return { batchItemFailures: [] };
    const budget = budgetMs(context);
    const shard = shardIdOf(records[0]);
    const seqs: string[] = new Array(n);
    for (let i = 0; i < n; i++) seqs[i] = records[i]!.kinesis.sequenceNumber;
    const decoded = decodeKinesisBatch(records, { ...decodeOptions, nowMs: startedMs });
    const phases = {
      decodeMs: now() - startedMs,
      aggregateMs: 0,
      archiveMs: 0,
      intentMs: 0,
      publishMs: 0,
      healthMs: 0,
    };
    const retry = new Uint8Array(n);
    const counters: IngestCounters = {
      events: 0,
      rejected: 0,
      late: 0,
      archiveFailed: 0,
      partials: 0,
      replayedRecords: 0,
      skippedRecords: 0,
    };
    /** Accepted events of records a..b: late ones included (counted and archived), invalid-time ones are rejects. */
    const rangeEvents = (a: number, b: number, agg: AggregateResult) =>
      lowerBound(decoded.eventRecord, b + 1) - lowerBound(decoded.eventRecord, a) - agg.rejected.length;
    const eventBytes = new Int32Array(decoded.eventCount);
    for (let i = 0; i < decoded.eventCount; i++) eventBytes[i] = decoded.eventRawBytes(i);

    let healthSent = false;
    /** This invocation's pipeline-health record, as of now. */
    const healthRecord = (): SeriesWindowRecord => {
      let retried = 0;
      for (let i = 0; i < n; i++) retried += retry[i]!;
      const iteratorAgeMs = Number.isFinite(decoded.stats.newestArrivalMs)
        ? Math.max(0, startedMs - decoded.stats.newestArrivalMs)
        : 0;
      return {
        table: config.pipelineTable,
        dimensions: { [Dimension.stage]: 'ingest', [Dimension.shard]: shard },
        timeMs: startedMs,
        version: 1,
        measures: {
          [PipelineMeasure.records.name]: n,
          [PipelineMeasure.events.name]: counters.events,
          [PipelineMeasure.bytes.name]: decoded.stats.bytes,
          [PipelineMeasure.rejected.name]: counters.rejected,
          [PipelineMeasure.late.name]: counters.late,
          [PipelineMeasure.retried.name]: retried,
          [PipelineMeasure.iteratorAgeMs.name]: iteratorAgeMs,
          [PipelineMeasure.archiveFailed.name]: counters.archiveFailed,
          [PipelineMeasure.durationMs.name]: now() - startedMs,
        },
      };
    };
    const healthEntry = () => ({
      partitionKey: `${HEALTH_PARTITION_KEY_PREFIX}${shard}`,
      data: encodeHealthRecord(healthRecord()),
    });

    const aggregate = (a: number, b: number, state: StageOneState): AggregateResult => {
      const e0 = lowerBound(decoded.eventRecord, a);
      const e1 = lowerBound(decoded.eventRecord, b + 1);
      let clock = Number.NEGATIVE_INFINITY;
      for (let i = a; i <= b; i++) {
        const t = arrivalMs(records[i]);
        if (t > clock) clock = t;
      }
      return aggregateBatch(decoded.events.slice(e0, e1), {
        sourceShard: shard,
        firstSequenceNumber: seqs[a]!,
        lastSequenceNumber: seqs[b]!,
        // The newest arrival time, not the wall clock: a redelivery must aggregate identically.
        nowMs: Number.isFinite(clock) ? clock : startedMs,
        config: config.window,
        state,
        eventBytes: eventBytes.subarray(e0, e1),
      });
    };

    let cache: ShardCache;
    try {
      cache = await loadShard(shard, budget);
    } catch (err) {
      log.error('cannot load ingest cursor; retrying the batch', { shard, error: (err as Error).message });
      return { batchItemFailures: [{ itemIdentifier: seqs[0]! }] };
    }

    const processRange = async (
      a: number,
      b: number,
      state: StageOneState,
      replay: boolean,
      last: boolean,
    ): Promise<RangeResult> => {
      let t = now();
      let agg = aggregate(a, b, state);
      phases.aggregateMs += now() - t;
      let stop = false;
      if (!replay) {
        t = now();
        const cut = await archiveRange(a, b, agg);
        phases.archiveMs += now() - t;
        if (cut <= b) {
          stop = true;
          if (cut === a) return { processedThrough: a - 1, stop };
          b = cut - 1;
          agg = aggregate(a, b, state);
        }
        t = now();
        const saved = await saveCursor(
          shard,
          cache,
          { v: 1, first: seqs[a]!, last: seqs[b]!, state: state.toJSON() },
          budget,
        );
        phases.intentMs += now() - t;
        if (!saved) {
          retry[a] = 1;
          return { processedThrough: a - 1, stop: true };
        }
      }
      t = now();
      const chunks: MetricsRecord[] = chunkPartials(agg.partials);
      // The last range carries the health record: one PutRecords call per invocation.
      const withHealth = last && deps.health !== false;
      if (withHealth) {
        counters.events += rangeEvents(a, b, agg);
        counters.late += agg.late.length;
        counters.rejected += agg.rejected.length + countRejects(decoded, a, b);
        chunks.push(healthEntry());
      }
      const sent = await publisher.publish(chunks, { budgetMs: budget });
      phases.publishMs += now() - t;
      if (sent.kind === 'retry') {
        log.warn('partials not delivered; the range will be redelivered and replayed', {
          shard,
          first: seqs[a],
          last: seqs[b],
          reason: sent.reason,
        });
        retry[a] = 1;
        if (withHealth) {
          // The range's events were counted for the record that was not sent: not processed after all.
          counters.events -= rangeEvents(a, b, agg);
          counters.late -= agg.late.length;
          counters.rejected -= agg.rejected.length + countRejects(decoded, a, b);
        }
        return { processedThrough: a - 1, stop: true };
      }
      counters.partials += agg.partials.length;
      if (withHealth) healthSent = true;
      else {
        counters.events += rangeEvents(a, b, agg);
        counters.late += agg.late.length;
        counters.rejected += agg.rejected.length + countRejects(decoded, a, b);
      }
      if (replay) counters.replayedRecords += b - a + 1;
      return { processedThrough: b, stop, state: agg.state };
    };

    /** Archives lines and rejects of records a..b; returns the first record index with a retry (b + 1 if none). */
    const archiveRange = async (a: number, b: number, agg: AggregateResult): Promise<number> => {
      const e0 = lowerBound(decoded.eventRecord, a);
      const e1 = lowerBound(decoded.eventRecord, b + 1);
      const rejects: ArchiveReject[] = [];
      const rejectParent: number[] = [];
      const nowMs = now();
      for (let j = 0; j < decoded.rejectCount; j++) {
        const r = decoded.rejectRecord[j]!;
        if (r < a || r > b) continue;
        rejects.push({
          data: decoded.rejectRaw[j]!,
          code: decoded.rejectCode[j]!,
          detail: decoded.rejectDetail[j]!,
          source: `${shard}/${decoded.rejectSequenceNumber[j]}/${decoded.rejectSubSequence[j]}`,
          timeMs: nowMs,
        });
        rejectParent.push(r);
      }
      const eventReject = (idx: number, code: ArchiveReject['code'], detail: string) => {
        const e = e0 + idx;
        const r = decoded.eventRecord[e]!;
        rejects.push({
          data: decoded.eventRawView(e),
          code,
          detail,
          source: `${shard}/${seqs[r]}/${decoded.eventSubSequence[e]}`,
          timeMs: nowMs,
        });
        rejectParent.push(r);
      };
      for (const x of agg.rejected) eventReject(x.index, x.code, 'event time cannot be windowed');
      for (const x of agg.late) {
        eventReject(
          x.index,
          RejectCode.late,
          `event time ${new Date(x.timeMs).toISOString()} is behind the watermark ${new Date(x.watermarkMs).toISOString()}`,
        );
      }
      const [archived, errors] = await Promise.all([
        // The raw bytes as they arrived, packed straight from the decoded records.
        archiver.archiveSlices(decoded.eventRawBuffer, decoded.eventRawStart, decoded.eventRawEnd, e0, e1, {
          budgetMs: budget,
        }),
        archiver.archiveRejects(rejects, { budgetMs: budget }),
      ]);
      let first = b + 1;
      const oversized: ArchiveReject[] = [];
      const oversizedParent: number[] = [];
      for (let i = 0; i < archived.outcomes.length; i++) {
        const o = archived.outcomes[i]!;
        const parent = decoded.eventRecord[e0 + i]!;
        if (o.kind === 'retry') {
          counters.archiveFailed++;
          retry[parent] = 1;
          if (parent < first) first = parent;
        } else if (o.kind === 'reject') {
          oversized.push({
            data: decoded.eventRawView(e0 + i),
            code: o.code,
            detail: o.detail ?? '',
            source: `${shard}/${seqs[parent]}`,
          });
          oversizedParent.push(parent);
        }
      }
      for (let i = 0; i < errors.outcomes.length; i++) {
        if (errors.outcomes[i]!.kind === 'retry') {
          counters.archiveFailed++;
          retry[rejectParent[i]!] = 1;
          if (rejectParent[i]! < first) first = rejectParent[i]!;
        }
      }
      if (oversized.length > 0) {
        const more = await archiver.archiveRejects(oversized, { budgetMs: budget });
        for (let i = 0; i < more.outcomes.length; i++) {
          if (more.outcomes[i]!.kind === 'retry') {
            counters.archiveFailed++;
            retry[oversizedParent[i]!] = 1;
            if (oversizedParent[i]! < first) first = oversizedParent[i]!;
          }
        }
      }
      return first;
    };

    let next = 0;
    const cursor = cache.cursor;
    if (cursor !== undefined) {
      // An intent is stored only once every earlier record was archived and its partials delivered
      // (ranges complete in order). Records before it come back only because Lambda's checkpoint
      // lagged: acknowledge them. Re-aggregating them as a new range would overlap ranges stage two
      // has merged, and it skips overlapping partials as conflicts.
      while (next < n && compareSequenceNumbers(seqs[next]!, cursor.first) < 0) next++;
      counters.skippedRecords = next;
    }
    if (cursor !== undefined && next < n && compareSequenceNumbers(seqs[next]!, cursor.last) <= 0) {
      // Redelivery of a range whose partials may be (partly) out: replay it exactly.
      let k = next;
      while (k + 1 < n && compareSequenceNumbers(seqs[k + 1]!, cursor.last) <= 0) k++;
      const before = cache.cursorState ?? StageOneState.fromJSON(cursor.state);
      const r = await processRange(next, k, before, true, k === n - 1);
      if (r.state !== undefined) {
        cache.after = { seq: seqs[k]!, state: r.state };
        if (compareSequenceNumbers(seqs[k]!, cursor.last) < 0) {
          // A shorter redelivery (bisect): the rest of the range is still to be replayed later.
          const rest: IngestCursor = {
            v: 1,
            first: nextSequenceNumber(seqs[k]!),
            last: cursor.last,
            state: r.state.toJSON(),
          };
          if (await saveCursor(shard, cache, rest, budget)) cache.cursorState = r.state;
        }
      }
      next = r.stop ? n : r.processedThrough + 1;
    }
    if (next < n) {
      const state =
        cache.after?.state ??
        cache.cursorState ??
        (cache.cursor !== undefined ? StageOneState.fromJSON(cache.cursor.state) : StageOneState.initial());
      const r = await processRange(next, n - 1, state, false, true);
      if (r.state !== undefined) cache.after = { seq: seqs[r.processedThrough]!, state: r.state };
    }

    const batchItemFailures: { itemIdentifier: string }[] = [];
    for (let i = 0; i < n; i++) if (retry[i] === 1) batchItemFailures.push({ itemIdentifier: seqs[i]! });
    const durationMs = now() - startedMs;
    const iteratorAgeMs = Number.isFinite(decoded.stats.newestArrivalMs)
      ? Math.max(0, startedMs - decoded.stats.newestArrivalMs)
      : 0;
    if (deps.health !== false && !healthSent) {
      const t = now();
      const out = await publisher.publish([healthEntry()], { budgetMs: Math.min(5_000, budgetMs(context)) });
      phases.healthMs = now() - t;
      // Telemetry only: a lost health record never fails the batch.
      if (out.kind !== 'ok') log.warn('pipeline health record not sent', { shard, reason: out.reason });
    }
    // How long producers took to get events into the stream (arrival − event time): the part of the
    // end-to-end latency that is not the pipeline's.
    let ageSum = 0;
    let ageMax = 0;
    for (let i = 0; i < decoded.eventCount; i++) {
      const age = arrivalMs(records[decoded.eventRecord[i]!]) - decoded.events[i]!.timeMs;
      if (age > 0) ageSum += age;
      if (age > ageMax) ageMax = age;
    }
    log.info('ingest batch', {
      shard,
      first: seqs[0],
      last: seqs[n - 1],
      eventAgeAtArrivalMs: {
        mean: decoded.eventCount > 0 ? Math.round(ageSum / decoded.eventCount) : 0,
        max: ageMax,
      },
      records: n,
      events: counters.events,
      rejected: counters.rejected,
      late: counters.late,
      partials: counters.partials,
      replayed: counters.replayedRecords,
      skipped: counters.skippedRecords,
      retry: batchItemFailures.length,
      iteratorAgeMs,
      durationMs,
      ...phases,
    });
    return { batchItemFailures };
  };
}

function countRejects(decoded: DecodedBatch, a: number, b: number): number {
  let n = 0;
  for (let r = a; r <= b; r++) n += decoded.recordRejects[r]!;
  return n;
}
