/**
 * Stage two as a Lambda handler body (the `tidewatch-detect` function, DESIGN.md §1): one batch of
 * one metrics shard → decode partials → merge (WindowMerger, exactly-once by sequence range) → close
 * windows by watermark or idleness → score (detectors, alert rules) → windows table → alerts (SNS) →
 * checkpoint (DynamoDB, conditional on its version).
 *
 * Order and failure: sinks first, checkpoint last. If a sink cannot deliver, or the checkpoint put
 * loses a race, the in-memory state is dropped and the batch is reported for retry from its first
 * unprocessed record; the redelivery re-merges from the last checkpoint and writes identical records
 * (same versions and values, accepted idempotently). Records whose sequence number is at or before the
 * checkpoint's are skipped: they were folded in already.
 *
 * The checkpoint is a head item (conditional on its version) naming a snapshot of the shard state and
 * the batch logs written since (detectState.ts). An invocation that closed, corrected, evicted or
 * scored nothing writes only its input partials as a log — replaying them reproduces its effect — so
 * with many invocations per window only the one that closes the window re-encodes the shard.
 *
 * Besides Kinesis events the handler accepts a control event, `{ "tidewatch": "tick" }` (close
 * windows of idle shards: no metrics record arrives once traffic stops, so nothing else would) or
 * `{ "tidewatch": "flush" }` (close every open window now: the embedded mode's shutdown), optionally
 * with `"shards": ["shardId-…"]`; by default every shard of the metrics stream.
 */
import { randomBytes } from 'node:crypto';
import { Dimension, PipelineMeasure, RejectCode } from '../schema.ts';
import type { AlertDedupeSnapshot } from '../sinks/alertDeduper.ts';
import type { AlertEvent as SinkAlertEvent } from '../sinks/alertEvent.ts';
import type { StatePutOutcome } from '../sinks/dynamoDbStateStore.ts';
import type { ArchiveReject, FirehoseArchiver } from '../sinks/firehoseArchiver.ts';
import type { AlertPublishResult } from '../sinks/snsAlertPublisher.ts';
import type { SeriesWindowRecord, TimeSeriesSink } from '../sinks/timeSeriesRecord.ts';
import type { KinesisBatchResponse, KinesisEvent, KinesisEventRecord } from '../sources/kinesisEvent.ts';
import type { AlertEvent } from '../transforms/detect/alertRules.ts';
import type { WindowPartial } from '../transforms/window/aggregateBatch.ts';
import type { AddStats, CloseResult } from '../transforms/window/mergePartials.ts';
import { decodePartials } from '../transforms/window/partialCodec.ts';
import { compareSequenceNumbers } from '../transforms/window/sequenceNumber.ts';
import {
  DetectLogKind,
  type DetectShardState,
  DetectSnapshotKind,
  DetectStateKind,
  decodeBatchLog,
  decodeCheckpointHead,
  decodeDetectState,
  encodeBatchLog,
  encodeCheckpointHead,
  encodeDetectState,
  isCheckpointHead,
  newDetectShardState,
} from './detectState.ts';
import { CheckpointError } from './errors.ts';
import type { HandlerConfig } from './handlerConfig.ts';
import { decodeHealthRecord, isHealthRecord } from './healthRecord.ts';
import { budgetMs, isKinesisEvent, type LambdaContextLike, shardIdOf } from './lambdaContext.ts';
import { type PipelineLogger, silentLogger } from './logger.ts';
import { type ScoredWindows, scoreWindows } from './scoreWindows.ts';
import type { StateBlobStore } from './stateBlobs.ts';

/** Control event of the detect handler (scheduled tick, embedded shutdown). */
export interface DetectControlEvent {
  tidewatch: 'tick' | 'flush';
  /** Metrics shards to visit; default every shard of the metrics stream. */
  shards?: string[];
}

/** What the detect handler answers to a control event. */
export interface DetectControlResult {
  shards: number;
  windowsWritten: number;
  alerts: number;
  failed: string[];
  /** Windows still open in the visited shards' mergers (after this run). */
  openWindows: number;
  /** Series the visited shards' mergers hold. */
  series: number;
}

/** An alert publisher (SnsAlertPublisher) with dedupe state to checkpoint. */
export interface AlertPublisherLike {
  publish(events: readonly SinkAlertEvent[], options?: { budgetMs?: number }): Promise<AlertPublishResult>;
  snapshot(): AlertDedupeSnapshot;
}

/** What the detect handler needs; `processors/handlers/detect.ts` builds it from the environment. */
export interface DetectDeps {
  config: HandlerConfig;
  /** Shard checkpoints. */
  states: StateBlobStore;
  /** Windows and pipeline-health records (Timestream, or the embedded DuckDB store). */
  sink: TimeSeriesSink;
  /** Error archive for malformed partials and records the sink rejected. */
  archiver: FirehoseArchiver;
  /** Publisher for one shard, restored from its dedupe snapshot; omitted = alerts only logged. */
  alertPublisher?: (snapshot: AlertDedupeSnapshot | undefined) => AlertPublisherLike;
  /** The metrics stream's shard ids, for control events without `shards`. */
  listShards?: () => Promise<string[]>;
  logger?: PipelineLogger;
  /** Wall clock (idleness, telemetry). Default `Date.now`. */
  now?: () => number;
}

/** The detect handler. */
export type DetectHandler = {
  (event: KinesisEvent, context?: LambdaContextLike): Promise<KinesisBatchResponse>;
  (event: DetectControlEvent, context?: LambdaContextLike): Promise<DetectControlResult>;
};

interface ShardRun {
  records: number;
  events: number;
  rejected: number;
  late: number;
  windowsWritten: number;
  timestreamRejected: number;
  alerts: number;
  /** Index of the first record not folded in when the run failed. */
  failedAt: number | undefined;
}

/** Logs since the last snapshot after which an invocation snapshots anyway (bounds restore work). */
const MAX_LOGS_PER_SNAPSHOT = 32;
/** Log payload bytes since the last snapshot after which an invocation snapshots anyway. */
const MAX_LOG_BYTES_PER_SNAPSHOT = 32 * 1024 * 1024;

/** What one invocation does to the shard state: merge, close (or flush), score. */
interface Folded {
  stats: AddStats;
  closed: CloseResult;
  scored: ScoredWindows;
}

/**
 * The state transition of one invocation. Deterministic given the state, the partials, `nowMs` and
 * the mode — which is what lets a batch log stand in for a snapshot.
 */
function fold(
  state: DetectShardState,
  partials: readonly WindowPartial[],
  nowMs: number,
  mode: 'batch' | 'tick' | 'flush',
  config: HandlerConfig,
): Folded {
  const stats = state.merger.add(partials, nowMs);
  const closed = mode === 'flush' ? state.merger.flush(nowMs) : state.merger.close(nowMs);
  const scored = scoreWindows(state, closed.closed, closed.corrections, state.merger.watermarkMs, config);
  return { stats, closed, scored };
}

/** Whether an invocation changed only open windows (its input replays to the same state). */
function onlyMerged(f: Folded, mode: 'batch' | 'tick' | 'flush'): boolean {
  return (
    mode === 'batch' &&
    f.closed.closed.length === 0 &&
    f.closed.corrections.length === 0 &&
    f.closed.evicted === 0 &&
    f.scored.scored === 0 &&
    f.scored.records.length === 0 &&
    f.scored.alerts.length === 0
  );
}

function writeId(): string {
  return randomBytes(6).toString('hex');
}

function toSinkAlert(e: AlertEvent, dimensions: Record<string, string>): SinkAlertEvent {
  const out: SinkAlertEvent = {
    kind: e.kind,
    service: e.service,
    metric: e.metric,
    windowStartMs: e.windowStartMs,
    windowEndMs: e.windowEndMs,
    value: e.value,
    expectedLow: e.expectedLow,
    expectedHigh: e.expectedHigh,
    score: e.score,
    threshold: e.threshold,
  };
  const extra: Record<string, string> = {};
  for (const [k, v] of Object.entries(dimensions)) {
    if (k !== Dimension.service && k !== Dimension.windowMs) extra[k] = v;
  }
  if (Object.keys(extra).length > 0) out.dimensions = extra;
  return out;
}

/**
 * Creates the detect handler. Shard state lives in the closure (per container) and is reloaded from
 * the state store on a cold start or after any failure. Calls for one shard are serialized.
 *
 * @example
 * const handler = createDetectHandler({ config, states, sink, archiver, alertPublisher });
 * await handler(kinesisEvent, context);          // { batchItemFailures }
 * await handler({ tidewatch: 'flush' });        // close everything (shutdown)
 */
export function createDetectHandler(deps: DetectDeps): DetectHandler {
  const { config, states, sink, archiver } = deps;
  const log = deps.logger ?? silentLogger;
  const now = deps.now ?? Date.now;
  const cache = new Map<string, DetectShardState>();
  /**
   * Records and alerts a log replay produced. Under the code and configuration that wrote a log its
   * replay closes nothing (only-merge invocations are logged); after a change in between (a deploy
   * and a cold start within a window) it may, and what it closed must still reach the sinks: the
   * next invocation writes it, then snapshots.
   */
  const replayed = new Map<string, ScoredWindows>();
  const locks = new Map<string, Promise<unknown>>();

  const stateRef = (shard: string) => ({ kind: DetectStateKind, key: `${config.metricsStream}/${shard}` });

  function withLock<T>(shard: string, fn: () => Promise<T>): Promise<T> {
    const prev = locks.get(shard) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const settled = run.catch(() => undefined);
    locks.set(shard, settled);
    settled.then(() => {
      if (locks.get(shard) === settled) locks.delete(shard);
    });
    return run;
  }

  async function load(shard: string, budget: number, create: boolean): Promise<DetectShardState | undefined> {
    const cached = cache.get(shard);
    if (cached !== undefined) return cached;
    const blob = await states.load(stateRef(shard), { budgetMs: budget });
    let state: DetectShardState;
    if (blob === undefined) {
      if (!create) return undefined;
      state = newDetectShardState(config.window);
    } else if (isCheckpointHead(blob.data)) state = await restore(shard, blob.data, blob.version, budget);
    // A head written before snapshots and logs existed holds the whole state.
    else state = decodeDetectState(blob.data, blob.version, config.window);
    cache.set(shard, state);
    return state;
  }

  /** The state a head names: its snapshot, then its logs replayed in order. */
  async function restore(
    shard: string,
    headBytes: Uint8Array,
    version: number,
    budget: number,
  ): Promise<DetectShardState> {
    const head = decodeCheckpointHead(headBytes);
    const [snapshot, ...logs] = await Promise.all([
      states.load({ kind: DetectSnapshotKind, key: head.snapshotKey }, { budgetMs: budget }),
      ...head.logKeys.map((key) => states.load({ kind: DetectLogKind, key }, { budgetMs: budget })),
    ]);
    if (snapshot === undefined) throw new CheckpointError(`detect snapshot ${head.snapshotKey} is missing`);
    const state = decodeDetectState(snapshot.data, version, config.window);
    state.stored.snapshotKey = head.snapshotKey;
    for (let i = 0; i < logs.length; i++) {
      const key = head.logKeys[i]!;
      const blob = logs[i];
      if (blob === undefined) throw new CheckpointError(`detect batch log ${key} is missing`);
      const entry = decodeBatchLog(blob.data);
      const partials: WindowPartial[] = [];
      for (const payload of entry.payloads) {
        const decoded = decodePartials(payload);
        if (decoded.kind !== 'ok') throw new CheckpointError(`detect batch log ${key} holds a bad payload`);
        for (const p of decoded.value) partials.push(p);
      }
      const { scored } = fold(state, partials, entry.nowMs, 'batch', config);
      if (scored.records.length > 0 || scored.alerts.length > 0) {
        let pending = replayed.get(shard);
        if (pending === undefined) {
          pending = { records: [], alerts: [], scored: 0, zeroFilled: 0 };
          replayed.set(shard, pending);
        }
        pending.records.push(...scored.records);
        pending.alerts.push(...scored.alerts);
        log.warn('replaying a batch log closed windows (code or configuration changed since)', {
          shard,
          log: key,
          records: scored.records.length,
        });
      }
      state.lastSeq = entry.lastSeq;
      state.stored.logKeys.push(key);
      state.stored.logBytes += blob.data.length;
    }
    return state;
  }

  /**
   * Stores the checkpoint of `state` as `version`: a batch log when the invocation only merged (and
   * the logs since the snapshot stay small), else a snapshot; then the head, conditionally.
   */
  async function checkpoint(
    shard: string,
    state: DetectShardState,
    version: number,
    input: { nowMs: number; payloads: Uint8Array[]; logOnly: boolean },
    budget: number,
  ): Promise<StatePutOutcome> {
    const stored = state.stored;
    const key = `${config.metricsStream}/${shard}#${version}.${writeId()}`;
    // Level 1: snapshots and logs are binary already; the fastest level still makes them several times
    // smaller (DynamoDB bills writes per KB and splits items over 400 KB), for ~6 µs per series.
    const options = { budgetMs: budget, gzipLevel: 1 };
    let logBytes = 0;
    for (const p of input.payloads) logBytes += p.length;
    const asLog =
      input.logOnly &&
      stored.snapshotKey !== undefined &&
      stored.logKeys.length < MAX_LOGS_PER_SNAPSHOT &&
      stored.logBytes + logBytes <= MAX_LOG_BYTES_PER_SNAPSHOT;
    if (asLog) {
      const ref = { kind: DetectLogKind, key };
      const log = encodeBatchLog({
        nowMs: input.nowMs,
        lastSeq: state.lastSeq ?? '0',
        payloads: input.payloads,
      });
      let out = await states.save(ref, 1, log, options);
      if (out.kind !== 'ok') return out;
      const head = encodeCheckpointHead({
        snapshotKey: stored.snapshotKey!,
        logKeys: [...stored.logKeys, key],
      });
      out = await states.save(stateRef(shard), version, head, options);
      if (out.kind === 'ok') {
        stored.logKeys.push(key);
        stored.logBytes += log.length;
      } else if (out.kind === 'conflict') await states.delete(ref);
      return out;
    }
    const ref = { kind: DetectSnapshotKind, key };
    let out = await states.save(ref, 1, encodeDetectState(state), options);
    if (out.kind !== 'ok') return out;
    out = await states.save(
      stateRef(shard),
      version,
      encodeCheckpointHead({ snapshotKey: key, logKeys: [] }),
      options,
    );
    if (out.kind === 'conflict') await states.delete(ref);
    if (out.kind !== 'ok') return out;
    // The previous snapshot and its logs are referenced by nothing now.
    const garbage = stored.logKeys.map((k) => states.delete({ kind: DetectLogKind, key: k }));
    if (stored.snapshotKey !== undefined) {
      garbage.push(states.delete({ kind: DetectSnapshotKind, key: stored.snapshotKey }));
    }
    await Promise.all(garbage);
    stored.snapshotKey = key;
    stored.logKeys.length = 0;
    stored.logBytes = 0;
    return out;
  }

  /** Merges `records` (may be empty) into the shard, writes, alerts and checkpoints. */
  async function runShard(
    shard: string,
    records: readonly KinesisEventRecord[],
    mode: 'batch' | 'tick' | 'flush',
    budget: number,
    selfHealth?: (run: ShardRun) => SeriesWindowRecord,
  ): Promise<ShardRun> {
    const run: ShardRun = {
      records: records.length,
      events: 0,
      rejected: 0,
      late: 0,
      windowsWritten: 0,
      timestreamRejected: 0,
      alerts: 0,
      failedAt: undefined,
    };
    const fail = (at: number, why: string, detail?: Record<string, unknown>): ShardRun => {
      cache.delete(shard);
      // The reload replays the logs again, and finds the same again.
      replayed.delete(shard);
      run.failedAt = at;
      log.warn(`detect ${mode} failed: ${why}; state reloads from the last checkpoint`, { shard, ...detail });
      return run;
    };
    let state: DetectShardState | undefined;
    try {
      state = await load(shard, budget, mode === 'batch');
    } catch (err) {
      return fail(0, 'cannot load the checkpoint', { error: (err as Error).message });
    }
    if (state === undefined) return run;
    const nowMs = now();

    let start = 0;
    if (state.lastSeq !== null) {
      while (
        start < records.length &&
        compareSequenceNumbers(records[start]!.kinesis.sequenceNumber, state.lastSeq) <= 0
      ) {
        start++;
      }
    }
    const partials: WindowPartial[] = [];
    /** Payloads that decoded to partials: what a batch log stores. */
    const payloads: Uint8Array[] = [];
    const rejects: ArchiveReject[] = [];
    const healthRecords: SeriesWindowRecord[] = [];
    for (let i = start; i < records.length; i++) {
      const k = records[i]!.kinesis;
      const bytes = Buffer.from(k.data, 'base64');
      if (isHealthRecord(bytes)) {
        const h = decodeHealthRecord(bytes);
        if (h !== undefined) healthRecords.push(h);
        else {
          // Health magic but not a record: counted and archived like any malformed partial, never dropped.
          run.rejected++;
          rejects.push({
            data: bytes,
            code: RejectCode.partialMalformed,
            detail: 'pipeline-health record is not valid JSON of a SeriesWindowRecord',
            source: `${config.metricsStream}/${shard}/${k.sequenceNumber}`,
          });
        }
        continue;
      }
      const decoded = decodePartials(bytes);
      if (decoded.kind === 'ok') {
        payloads.push(bytes);
        for (const p of decoded.value) {
          partials.push(p);
          run.events += p.count;
        }
      } else if (decoded.kind === 'reject') {
        run.rejected++;
        rejects.push({
          data: bytes,
          code: decoded.code,
          ...(decoded.detail === undefined ? {} : { detail: decoded.detail }),
          source: `${config.metricsStream}/${shard}/${k.sequenceNumber}`,
        });
      }
    }

    const phases = { mergeMs: 0, writeMs: 0, alertMs: 0, saveMs: 0 };
    let t = now();
    const folded = fold(state, partials, nowMs, mode, config);
    const pending = replayed.get(shard);
    if (pending !== undefined) {
      // Written first, as if they had closed in the invocation that logged them.
      folded.scored.records.unshift(...pending.records);
      folded.scored.alerts.unshift(...pending.alerts);
    }
    const { stats, scored } = folded;
    const closedResult = folded.closed;
    run.late = stats.lateEvents + stats.conflictEvents;
    if (stats.conflicts > 0) {
      log.warn('partials overlapping merged ranges were skipped', {
        shard,
        conflicts: stats.conflicts,
        events: stats.conflictEvents,
      });
    }
    const changed = records.length > start || scored.records.length > 0 || closedResult.evicted > 0;
    phases.mergeMs = now() - t;
    t = now();

    const toWrite =
      healthRecords.length === 0 && selfHealth === undefined
        ? scored.records
        : [...scored.records, ...healthRecords, ...(selfHealth === undefined ? [] : [selfHealth(run)])];
    if (toWrite.length > 0) {
      const written = await sink.write(toWrite, { budgetMs: budget });
      for (let i = 0; i < written.outcomes.length; i++) {
        const o = written.outcomes[i]!;
        if (i >= scored.records.length) {
          // Health records are telemetry: a failed one never fails the batch.
          if (o.kind !== 'ok') log.warn('pipeline health record not written', { shard, outcome: o.kind });
          continue;
        }
        if (o.kind === 'retry') return fail(start, 'windows not written', { reason: o.reason });
        if (o.kind === 'reject') {
          run.timestreamRejected++;
          const r = scored.records[i]!;
          rejects.push({
            data: JSON.stringify(r),
            code: RejectCode.timestreamRejected,
            ...(o.detail === undefined ? {} : { detail: o.detail }),
            source: `${config.timestreamDatabase}.${r.table}`,
          });
        } else run.windowsWritten++;
      }
    }

    phases.writeMs = now() - t;
    t = now();
    if (scored.alerts.length > 0) {
      const events = scored.alerts.map((a) => toSinkAlert(a.event, a.dimensions));
      for (const e of events) log.info(`${e.kind} ${e.service} ${e.metric}`, { shard, ...e });
      if (deps.alertPublisher !== undefined) {
        const publisher = deps.alertPublisher(state.dedupe);
        const published = await publisher.publish(events, { budgetMs: budget });
        for (let i = 0; i < published.outcomes.length; i++) {
          const o = published.outcomes[i]!;
          if (o.kind === 'retry') return fail(start, 'alert not published', { reason: o.reason });
          if (o.kind === 'reject') {
            rejects.push({
              data: JSON.stringify(events[i]),
              code: o.code,
              ...(o.detail === undefined ? {} : { detail: o.detail }),
              source: 'sns',
            });
          }
        }
        state.dedupe = publisher.snapshot();
        run.alerts += published.stats.published;
      } else run.alerts += events.length;
    }

    phases.alertMs = now() - t;
    t = now();
    if (rejects.length > 0) {
      const archived = await archiver.archiveRejects(rejects, { budgetMs: budget });
      if (archived.outcomes.some((o) => o.kind === 'retry')) return fail(start, 'rejects not archived');
    }

    if (changed) {
      if (records.length > 0) state.lastSeq = records[records.length - 1]!.kinesis.sequenceNumber;
      const version = state.version + 1;
      const logOnly = onlyMerged(folded, mode);
      const saved = await checkpoint(shard, state, version, { nowMs, payloads, logOnly }, budget);
      if (saved.kind !== 'ok') return fail(start, `checkpoint not stored (${saved.kind})`);
      state.version = version;
      replayed.delete(shard);
    }
    phases.saveMs = now() - t;
    if (mode === 'batch' || scored.records.length > 0) {
      log.info(`detect ${mode}`, {
        shard,
        records: records.length,
        skipped: start,
        partials: partials.length,
        duplicates: stats.duplicates,
        closed: closedResult.closed.length,
        corrections: closedResult.corrections.length,
        zeroFilled: scored.zeroFilled,
        written: run.windowsWritten,
        alerts: run.alerts,
        ...phases,
        watermark: Number.isFinite(state.merger.watermarkMs)
          ? new Date(state.merger.watermarkMs).toISOString()
          : null,
      });
    }
    return run;
  }

  /** The detect stage's own health record (written with the windows, so before its sink call ends). */
  function healthRecord(shard: string, startedMs: number, records: readonly KinesisEventRecord[]) {
    return (run: ShardRun): SeriesWindowRecord => {
      let newest = Number.NaN;
      for (const r of records) {
        const t = r.kinesis.approximateArrivalTimestamp * 1000;
        if (!(t <= newest)) newest = t;
      }
      return {
        table: config.pipelineTable,
        dimensions: { [Dimension.stage]: 'detect', [Dimension.shard]: shard },
        timeMs: startedMs,
        version: 1,
        measures: {
          [PipelineMeasure.records.name]: run.records,
          [PipelineMeasure.events.name]: run.events,
          [PipelineMeasure.rejected.name]: run.rejected,
          [PipelineMeasure.late.name]: run.late,
          [PipelineMeasure.iteratorAgeMs.name]: Number.isFinite(newest) ? Math.max(0, startedMs - newest) : 0,
          [PipelineMeasure.durationMs.name]: now() - startedMs,
        },
      };
    };
  }

  async function control(
    event: DetectControlEvent,
    context?: LambdaContextLike,
  ): Promise<DetectControlResult> {
    const budget = budgetMs(context);
    let shards = event.shards;
    if (shards === undefined) {
      shards = deps.listShards === undefined ? [...cache.keys()] : await deps.listShards();
    }
    const result: DetectControlResult = {
      shards: shards.length,
      windowsWritten: 0,
      alerts: 0,
      failed: [],
      openWindows: 0,
      series: 0,
    };
    for (const shard of shards) {
      const run = await withLock(shard, () => runShard(shard, [], event.tidewatch, budget));
      result.windowsWritten += run.windowsWritten;
      result.alerts += run.alerts;
      if (run.failedAt !== undefined) result.failed.push(shard);
      const memory = cache.get(shard)?.merger.memoryStats();
      if (memory !== undefined) {
        result.openWindows += memory.openWindows;
        result.series += memory.series;
      }
    }
    return result;
  }

  async function batch(event: KinesisEvent, context?: LambdaContextLike): Promise<KinesisBatchResponse> {
    const records = event.Records;
    if (records.length === 0) return { batchItemFailures: [] };
    const startedMs = now();
    const shard = shardIdOf(records[0]);
    const budget = budgetMs(context);
    const run = await withLock(shard, () =>
      runShard(shard, records, 'batch', budget, healthRecord(shard, startedMs, records)),
    );
    if (run.failedAt === undefined || run.failedAt >= records.length) return { batchItemFailures: [] };
    return { batchItemFailures: [{ itemIdentifier: records[run.failedAt]!.kinesis.sequenceNumber }] };
  }

  return (async (event: KinesisEvent | DetectControlEvent, context?: LambdaContextLike) => {
    if (isKinesisEvent(event)) return batch(event, context);
    if (event?.tidewatch === 'tick' || event?.tidewatch === 'flush') return control(event, context);
    throw new TypeError('detect handler: expected a Kinesis event or {"tidewatch":"tick"|"flush"}');
  }) as DetectHandler;
}
