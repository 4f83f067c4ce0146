/**
 * End-to-end property of the two-stage aggregation: any event sequence, split across any number of
 * shards and batches, with redelivered batches, retries from the middle, bisected retries, duplicated
 * and reordered metrics records and detect crashes restored from checkpoints, merges to exactly
 * what the single-threaded reference aggregator computes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LevelName, LogEvent } from '../../processors/schema.ts';
import { aggregateBatch, StageOneState } from '../../processors/transforms/window/aggregateBatch.ts';
import { type ClosedWindow, WindowMerger } from '../../processors/transforms/window/mergePartials.ts';
import { chunkPartials, decodePartials } from '../../processors/transforms/window/partialCodec.ts';
import {
  exactQuantile,
  referenceAggregate,
  referenceKey,
} from '../../processors/transforms/window/referenceAggregate.ts';
import { defaultWindowConfig, type WindowConfig } from '../../processors/transforms/window/windowConfig.ts';

const T0 = 1_700_000_000_000;
const SEQ_BASE = 49590338271490256608559692538361571095921575989136588898n;

const eventArb = fc.record({
  dt: fc.integer({ min: 0, max: 90_000 }),
  service: fc.constantFrom('checkout', 'search', 'auth|v2'),
  level: fc.constantFrom<LevelName>('info', 'info', 'warn', 'error', 'debug'),
  status: fc.option(fc.constantFrom(200, 201, 302, 404, 429, 500, 503), { nil: undefined }),
  durationMs: fc.option(fc.oneof(fc.integer({ min: 0, max: 5_000 }), fc.constant(0.5)), { nil: undefined }),
  route: fc.option(fc.constantFrom('/pay', '/cart', '/search'), { nil: undefined }),
  big: fc.boolean(),
});

type Ev = { e: LogEvent; bytes: number };
type RawEvent = typeof eventArb extends fc.Arbitrary<infer T> ? T : never;

function toEvents(raw: RawEvent[]): Ev[] {
  return raw.map((r) => {
    const e: LogEvent = {
      timeMs: T0 + r.dt,
      service: r.service,
      level: r.level,
      message: r.big ? 'payment declined' : 'ok',
    };
    if (r.status !== undefined) e.status = r.status;
    if (r.durationMs !== undefined) e.durationMs = r.durationMs;
    if (r.route !== undefined) e.route = r.route;
    if (r.big) e.attributes = { amount: 12.5 };
    return { e, bytes: r.big ? 180 : 40 };
  });
}

/** How ingest handles one delivered batch. */
const Action = {
  ok: 0,
  /** Emits partials, then crashes: Lambda redelivers the same batch. */
  crashAfterEmit: 1,
  /** Record k of the batch returns `retry`: partials for the prefix only, Lambda restarts at k. */
  partialFailure: 2,
  /** Crashes before emitting: Lambda bisects the batch. */
  crashBeforeEmit: 3,
  /** Emits, crashes, then Lambda bisects: the halves are redelivered (contained ranges). */
  crashAfterEmitThenBisect: 4,
} as const;

interface IngestPlan {
  shards: number;
  eventsPerRecord: number[];
  batchSizes: number[];
  actions: number[];
  cut: number[];
}

/** Runs stage one over every shard; returns each shard's metrics-stream records in put order. */
function ingest(events: Ev[], shardOf: number[], plan: IngestPlan, config: WindowConfig): Uint8Array[][] {
  const perShard: Uint8Array[][] = [];
  let draw = 0;
  const pick = (arr: number[], dflt: number) => (arr.length === 0 ? dflt : arr[draw++ % arr.length]!);
  for (let shard = 0; shard < plan.shards; shard++) {
    const out: Uint8Array[] = [];
    perShard.push(out);
    const mine = events.filter((_, i) => shardOf[i] === shard);
    // Records: consecutive groups of events (KPL-aggregated or multi-line records).
    const records: { seq: string; events: Ev[] }[] = [];
    for (let i = 0, r = 0; i < mine.length; r++) {
      const n = 1 + (pick(plan.eventsPerRecord, 0) % 3);
      records.push({
        seq: (SEQ_BASE + BigInt(shard) * 10n ** 30n + BigInt(r) * 7919n).toString(),
        events: mine.slice(i, i + n),
      });
      i += n;
    }
    let state = StageOneState.initial();
    const emit = (from: number, to: number, st: StageOneState): StageOneState => {
      const batch = records.slice(from, to);
      const evs = batch.flatMap((r) => r.events);
      const res = aggregateBatch(
        evs.map((x) => x.e),
        {
          sourceShard: `shardId-${String(shard).padStart(12, '0')}`,
          firstSequenceNumber: batch[0]!.seq,
          lastSequenceNumber: batch.at(-1)!.seq,
          nowMs: T0 + 86_400_000,
          config,
          state: st,
          eventBytes: evs.map((x) => x.bytes),
        },
      );
      for (const c of chunkPartials(res.partials, { maxRecordBytes: 2_000 })) out.push(c.data);
      return res.state;
    };
    let p = 0;
    let crashes = 0;
    while (p < records.length) {
      const size = Math.min(records.length - p, 1 + (pick(plan.batchSizes, 0) % 8));
      const action = crashes > 3 ? Action.ok : pick(plan.actions, 0) % 5;
      if (action === Action.ok || size === 1) {
        state = emit(p, p + size, state);
        p += size;
      } else if (action === Action.crashAfterEmit) {
        emit(p, p + size, state); // state not committed: the retry starts from the same state
        crashes++;
        state = emit(p, p + size, state);
        p += size;
      } else if (action === Action.partialFailure) {
        const k = 1 + (pick(plan.cut, 0) % (size - 1));
        state = emit(p, p + k, state);
        p += k;
      } else if (action === Action.crashBeforeEmit) {
        const half = size >> 1;
        state = emit(p, p + half, state);
        state = emit(p + half, p + size, state);
        p += size;
      } else {
        emit(p, p + size, state);
        crashes++;
        const half = size >> 1;
        state = emit(p, p + half, state);
        state = emit(p + half, p + size, state);
        p += size;
      }
      crashes = action === Action.ok ? 0 : crashes;
    }
  }
  return perShard;
}

/** Upserts like Timestream: a higher version replaces; an equal version must carry equal measures. */
function upsert(table: Map<string, ClosedWindow>, windows: ClosedWindow[]): void {
  for (const w of windows) {
    const k = referenceKey(w.seriesKey, w.windowStartMs);
    const prev = table.get(k);
    if (prev === undefined || w.version > prev.version) table.set(k, w);
    else if (w.version === prev.version) expect(w.measures).toEqual(prev.measures);
  }
}

/** Small seeded PRNG (mulberry32), so fast-check shrinks a seed instead of a permutation. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('two-stage aggregation', () => {
  it('merges to the reference under any sharding, batching, retry, duplication and crash pattern', () => {
    fc.assert(
      fc.property(
        fc.array(eventArb, { minLength: 1, maxLength: 120 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 120 }),
        fc.record({
          eventsPerRecord: fc.array(fc.nat(), { maxLength: 10 }),
          batchSizes: fc.array(fc.nat(), { maxLength: 10 }),
          actions: fc.array(fc.nat(), { maxLength: 10 }),
          cut: fc.array(fc.nat(), { maxLength: 10 }),
        }),
        fc.record({
          seed: fc.integer(),
          dupRate: fc.constantFrom(0, 0.3, 1),
          detectBatch: fc.integer({ min: 1, max: 7 }),
          checkpointEvery: fc.integer({ min: 1, max: 4 }),
          crashRate: fc.constantFrom(0, 0.2),
        }),
        fc.constantFrom<Partial<WindowConfig>>(
          {},
          { dimensions: ['route', 'status_class'] },
          { slideMs: 5_000 },
          {
            rules: [
              { name: 'declines', kind: 'count', where: [{ field: 'message', matches: 'declin' }] },
              { name: 'amount', kind: 'sum', field: 'attributes.amount' },
              { name: 'slow', kind: 'sketch', field: 'durationMs', where: [{ field: 'status', gte: 200 }] },
            ],
          },
        ),
        (raw, shards, shardPick, plan, delivery, overrides) => {
          // Prepare: lateness longer than the data, so nothing is late and windows close at flush
          const config = defaultWindowConfig({
            allowedLatenessMs: 3_600_000,
            closedRetentionMs: 3_600_000,
            ...overrides,
          });
          const events = toEvents(raw);
          const shardOf = events.map((_, i) => shardPick[i % shardPick.length]! % shards);
          const records = ingest(events, shardOf, { shards, ...plan }, config);
          // Metrics stream: sources interleave arbitrarily, each source's records keep their put
          // order (Kinesis orders a shard by sequence number); a share is redelivered at any later point.
          const rand = mulberry32(delivery.seed);
          const delivered: Uint8Array[] = [];
          const queues = records.map((q) => [...q]).filter((q) => q.length > 0);
          while (queues.length > 0) {
            const qi = Math.floor(rand() * queues.length);
            delivered.push(queues[qi]!.shift()!);
            if (queues[qi]!.length === 0) queues.splice(qi, 1);
          }
          for (let i = delivered.length - 1; i >= 0; i--) {
            if (rand() < delivery.dupRate) {
              const at = i + 1 + Math.floor(rand() * (delivered.length - i));
              delivered.splice(at, 0, delivered[i]!);
            }
          }
          // Act: detect, with checkpoints and crashes that restore the last checkpoint and rewind
          const table = new Map<string, ClosedWindow>();
          let merger = new WindowMerger(config);
          let checkpoint = { state: JSON.stringify(merger.toState()), pos: 0 };
          let pos = 0;
          let step = 0;
          let crashes = 0;
          let conflicts = 0;
          let late = 0;
          while (pos < delivered.length) {
            const batch = delivered.slice(pos, pos + delivery.detectBatch).flatMap((b) => {
              const d = decodePartials(b);
              if (d.kind !== 'ok') throw new Error(`decode failed: ${d.kind}`);
              return d.value;
            });
            const out = merger.merge(batch, T0 + 1_000 * step++);
            conflicts += out.stats.conflicts;
            late += out.stats.late;
            upsert(table, [...out.closed, ...out.corrections]);
            pos += delivery.detectBatch;
            if (crashes < 3 && rand() < delivery.crashRate) {
              crashes++;
              const restored = WindowMerger.fromState(config, JSON.parse(checkpoint.state));
              if (restored.kind !== 'ok') throw new Error(restored.problems.join());
              merger = restored.value;
              pos = checkpoint.pos;
            } else if (step % delivery.checkpointEvery === 0) {
              checkpoint = { state: JSON.stringify(merger.toState()), pos };
            }
          }
          upsert(table, merger.flush(T0 + 1_000 * step).closed);
          // Assess: the ingest kept the contract (identical or disjoint ranges), so no conflict
          expect([conflicts, late]).toEqual([0, 0]);
          const ref = referenceAggregate(
            events.map((x) => x.e),
            config,
            events.map((x) => x.bytes),
          );
          expect([...table.keys()].sort()).toEqual([...ref.keys()].sort());
          for (const [k, r] of ref) {
            const m = table.get(k)!.measures;
            expect([m.count, m.errors, m.status_4xx, m.status_5xx, m.bytes], k).toEqual([
              r.count,
              r.errors,
              r.status4xx,
              r.status5xx,
              r.bytes,
            ]);
            expect(m.latency_count).toBe(r.latencies.length);
            if (r.latencies.length > 0) {
              expect(m.latency_sum_ms).toBeCloseTo(
                r.latencies.reduce((a, b) => a + b, 0),
                6,
              );
              expect(m.latency_min_ms).toBe(Math.min(...r.latencies));
              expect(m.latency_max_ms).toBe(Math.max(...r.latencies));
              for (const [q, name] of [
                [0.5, 'latency_p50_ms'],
                [0.9, 'latency_p90_ms'],
                [0.99, 'latency_p99_ms'],
              ] as const) {
                const exact = exactQuantile(r.latencies, q);
                expect(Math.abs(m[name]! - exact)).toBeLessThanOrEqual(
                  config.relativeAccuracy * exact * (1 + 1e-9),
                );
              }
            }
            for (const [name, v] of Object.entries(r.rules)) {
              if (Array.isArray(v)) expect(m[`${name}_count`]).toBe(v.length);
              else expect(m[name]).toBeCloseTo(v, 6);
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
