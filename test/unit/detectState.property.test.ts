/**
 * The detect checkpoint (format 2, incremental): for any traffic, a shard state restored from the
 * checkpoint of every invocation (a cold start each time) produces exactly the records and alerts of
 * the state that stayed in memory; the incremental encoding is byte-identical to encoding every series
 * afresh; a format-1 (JSON) checkpoint still restores to the same behaviour.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DetectShardState,
  decodeDetectState,
  encodeDetectState,
  invalidateEncodedRecords,
  newDetectShardState,
} from '../../processors/pipeline/detectState.ts';
import { readHandlerConfig } from '../../processors/pipeline/handlerConfig.ts';
import { type ScoredWindows, scoreWindows } from '../../processors/pipeline/scoreWindows.ts';
import type { LevelName, LogEvent } from '../../processors/schema.ts';
import {
  aggregateBatch,
  StageOneState,
  type WindowPartial,
} from '../../processors/transforms/window/aggregateBatch.ts';

const T0 = 1_800_000_000_000;
const config = readHandlerConfig({ TW_WINDOW_MS: '1000', TW_ALLOWED_LATENESS_MS: '2000' });

const batchArb = fc.record({
  /** Source shard of the batch (two logs shards feed the metrics shard). */
  shard: fc.integer({ min: 0, max: 1 }),
  /** Seconds the batch advances event time by. */
  advanceS: fc.integer({ min: 0, max: 3 }),
  events: fc.array(
    fc.record({
      service: fc.constantFrom<string>('checkout', 'search', 'auth', 'cart', 'pay'),
      dtMs: fc.integer({ min: -1_500, max: 999 }),
      level: fc.constantFrom<LevelName>('info', 'info', 'warn', 'error'),
      status: fc.constantFrom(200, 200, 200, 404, 500),
      durationMs: fc.integer({ min: 1, max: 2_000 }),
    }),
    { maxLength: 12 },
  ),
  /** Close by watermark (false) or flush everything (true). */
  flush: fc.boolean(),
});

type Batch = typeof batchArb extends fc.Arbitrary<infer T> ? T : never;

/** Stage one's partials for each batch (sequence numbers increase per source shard). */
function partialsOf(
  batches: readonly Batch[],
): { partials: WindowPartial[]; nowMs: number; flush: boolean }[] {
  const stageOne = [StageOneState.initial(), StageOneState.initial()];
  const seq = [0, 0];
  let t = T0;
  return batches.map((b) => {
    t += b.advanceS * 1000;
    const events: LogEvent[] = b.events.map((e) => ({
      timeMs: t + e.dtMs,
      service: e.service,
      level: e.level,
      message: 'x',
      status: e.status,
      durationMs: e.durationMs,
    }));
    const first = `${100_000 + seq[b.shard]!}`;
    seq[b.shard]! += 10;
    const r = aggregateBatch(events, {
      sourceShard: `shardId-00000000000${b.shard}`,
      firstSequenceNumber: first,
      lastSequenceNumber: `${100_000 + seq[b.shard]! - 1}`,
      nowMs: t + 1_000,
      config: config.window,
      state: stageOne[b.shard]!,
    });
    stageOne[b.shard] = r.state;
    // Heartbeats (count 0) keep the idle source's watermark moving, as stage one does.
    return { partials: r.partials, nowMs: t + 1_000, flush: b.flush && b.advanceS === 0 };
  });
}

/** One detect invocation on `state`, as the handler does it (merge, close, score). */
function invoke(state: DetectShardState, step: ReturnType<typeof partialsOf>[number]): ScoredWindows {
  state.merger.add(step.partials, step.nowMs);
  const closed = step.flush ? state.merger.flush(step.nowMs) : state.merger.close(step.nowMs);
  return scoreWindows(state, closed.closed, closed.corrections, state.merger.watermarkMs, config);
}

/** A format-1 checkpoint of `state`, as the previous encoder wrote it (gzip aside). */
function encodeFormat1(state: DetectShardState): Uint8Array {
  const series = [...state.series.values()].map((s) => ({
    key: s.key,
    dims: s.dimensions,
    lastScored: Number.isFinite(s.lastScoredStartMs) ? s.lastScoredStartMs : null,
    lastData: Number.isFinite(s.lastDataStartMs) ? s.lastDataStartMs : null,
    detectors: [...s.detectors].map(([m, d]) => [m, Buffer.from(d.saveState()).toString('base64')]),
    alerts: [...s.alerts].map(([m, a]) => [
      m,
      { ...a, lastAlertMs: Number.isFinite(a.lastAlertMs) ? a.lastAlertMs : null },
    ]),
  }));
  const scores: [string, number, number, number, number][] = [];
  for (const s of state.series.values()) {
    for (const [start, w] of s.scores) {
      scores.push([`${s.key}\u0000${start}`, w.score, w.expectedLow, w.expectedHigh, w.alerting]);
    }
  }
  const json = {
    v: 1,
    lastSeq: state.lastSeq,
    merger: state.merger.toState(),
    series,
    scores,
    dedupe: state.dedupe ?? null,
  };
  return Buffer.from(JSON.stringify(json), 'utf8');
}

describe('detect checkpoint (format 2)', () => {
  it('restoring after every invocation changes no record, alert or checkpoint byte', () => {
    fc.assert(
      fc.property(fc.array(batchArb, { minLength: 1, maxLength: 40 }), (batches) => {
        // Prepare
        const steps = partialsOf(batches);
        const warm = newDetectShardState(config.window);
        let stored = encodeDetectState(newDetectShardState(config.window));
        for (const [i, step] of steps.entries()) {
          // Act: `warm` stays in memory; `cold` starts from the last checkpoint, as after a cold start.
          const cold = decodeDetectState(stored, i, config.window);
          const fromWarm = invoke(warm, step);
          const fromCold = invoke(cold, step);
          warm.lastSeq = `${i + 1}`;
          cold.lastSeq = `${i + 1}`;
          const incremental = encodeDetectState(warm);
          const coldBytes = encodeDetectState(cold);
          invalidateEncodedRecords(warm);
          const full = encodeDetectState(warm);
          // Assess
          expect(fromCold.records).toEqual(fromWarm.records);
          expect(fromCold.alerts).toEqual(fromWarm.alerts);
          expect(Buffer.from(incremental).equals(Buffer.from(full))).toBe(true);
          expect(Buffer.from(coldBytes).equals(Buffer.from(incremental))).toBe(true);
          stored = incremental;
        }
      }),
      { numRuns: 40 },
    );
  });

  it('restores a format-1 (JSON) checkpoint to the same subsequent outputs', () => {
    fc.assert(
      fc.property(
        fc.array(batchArb, { minLength: 2, maxLength: 30 }),
        fc.integer({ min: 1, max: 29 }),
        (batches, cutAt) => {
          // Prepare: run a prefix, checkpoint it in format 1.
          const steps = partialsOf(batches);
          const cut = Math.min(cutAt, steps.length - 1);
          const warm = newDetectShardState(config.window);
          for (const step of steps.slice(0, cut)) invoke(warm, step);
          const v1 = encodeFormat1(warm);
          // Act
          const restored = decodeDetectState(v1, 7, config.window);
          const after = steps.slice(cut).map((step) => [invoke(warm, step), invoke(restored, step)] as const);
          // Assess
          expect(restored.version).toBe(7);
          for (const [w, r] of after) {
            expect(r.records).toEqual(w.records);
            expect(r.alerts).toEqual(w.alerts);
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('re-encodes only the series an invocation touched', () => {
    // Prepare: three services, checkpointed; then a batch for one of them only.
    const steps = partialsOf([
      { shard: 0, advanceS: 0, flush: false, events: ['a', 'b', 'c'].map((service) => ev(service)) },
      { shard: 0, advanceS: 0, flush: false, events: [ev('b')] },
    ]);
    const state = newDetectShardState(config.window);
    invoke(state, steps[0]!);
    const first = encodeDetectState(state);
    // Act
    invoke(state, steps[1]!);
    const touched = [...state.merger.touchedSeries()];
    const second = encodeDetectState(state);
    // Assess: only 'b' is re-encoded; the others are copied, and nothing is pending afterwards.
    expect(touched).toEqual(['b']);
    expect(state.merger.touchedSeries().size).toBe(0);
    expect(state.touched.size).toBe(0);
    expect(second.length).toBeGreaterThan(first.length);
  });

  it('rejects bytes that are not a checkpoint with a CheckpointError', () => {
    // Prepare
    const good = encodeDetectState(newDetectShardState(config.window));
    // Act / Assess
    expect(() => decodeDetectState(good.subarray(0, good.length - 1), 1, config.window)).toThrow(
      /detect state/,
    );
    expect(() => decodeDetectState(Buffer.from('not json'), 1, config.window)).toThrow(/detect state/);
    expect(() => decodeDetectState(Uint8Array.of(0x54, 0x57, 0x44, 9), 1, config.window)).toThrow(/format 9/);
  });
});

function ev(service: string): Batch['events'][number] {
  return { service, dtMs: 100, level: 'info', status: 200, durationMs: 12 };
}
