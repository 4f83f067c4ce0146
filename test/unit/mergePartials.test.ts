import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../../processors/schema.ts';
import { aggregateBatch } from '../../processors/transforms/window/aggregateBatch.ts';
import { WindowMerger } from '../../processors/transforms/window/mergePartials.ts';
import { chunkPartials, decodePartials } from '../../processors/transforms/window/partialCodec.ts';
import { ByteWriter } from '../../processors/transforms/window/sketch.ts';
import { defaultWindowConfig } from '../../processors/transforms/window/windowConfig.ts';

const T0 = 1_700_000_000_000;

function ev(offsetMs: number, extra: Partial<LogEvent> = {}): LogEvent {
  return { timeMs: T0 + offsetMs, service: 'checkout', level: 'info', message: 'ok', ...extra };
}

function stageOne(
  events: LogEvent[],
  shard: string,
  first: string,
  last: string,
  nowMs = T0 + 120_000,
  config = defaultWindowConfig({ allowedLatenessMs: 1_000 }),
) {
  const r = aggregateBatch(events, {
    sourceShard: shard,
    firstSequenceNumber: first,
    lastSequenceNumber: last,
    nowMs,
    config,
  });
  return chunkPartials(r.partials).flatMap((c) => {
    const d = decodePartials(c.data);
    if (d.kind !== 'ok') throw new Error('decode failed');
    return d.value;
  });
}

describe('WindowMerger', () => {
  it('merges across shards, ignores a redelivered partial and closes when the watermark passes', () => {
    // Prepare
    const config = defaultWindowConfig({ allowedLatenessMs: 1_000 });
    const merger = new WindowMerger(config);
    const a = stageOne([ev(1_000, { durationMs: 10 }), ev(20_000)], 'shard-a', '100', '200');
    const b = stageOne([ev(2_000, { durationMs: 30, status: 500 }), ev(25_000)], 'shard-b', '100', '150');
    // Act
    const out1 = merger.merge([...a, ...b, ...a], T0 + 30_000);
    // Assess
    expect(out1.stats.merged).toBe(4);
    expect(out1.stats.duplicates).toBe(2);
    expect(out1.closed).toHaveLength(1);
    const w = out1.closed[0]!;
    expect(w.timeMs).toBe(T0);
    expect(w.measures.count).toBe(2);
    expect(w.measures.errors).toBe(1);
    expect(w.measures.latency_count).toBe(2);
    expect(w.dimensions).toEqual({ service: 'checkout', window_ms: '10000' });
    expect(w.version).toBe(2);
  });

  it('emits a correction with a higher version when late data reaches a closed window', () => {
    // Prepare
    const config = defaultWindowConfig({ allowedLatenessMs: 1_000, closedRetentionMs: 60_000 });
    const merger = new WindowMerger(config);
    merger.merge(stageOne([ev(1_000), ev(20_000)], 'shard-a', '1', '2'), T0 + 30_000);
    // Act: shard-b was idle, then reports an event for the closed window
    const out = merger.merge(stageOne([ev(5_000)], 'shard-b', '7', '7'), T0 + 31_000);
    // Assess
    expect(out.corrections).toHaveLength(1);
    expect(out.corrections[0]!.measures.count).toBe(2);
    expect(out.corrections[0]!.version).toBe(2);
    expect(out.corrections[0]!.correction).toBe(true);
  });

  it('round-trips its state through JSON', () => {
    // Prepare
    const config = defaultWindowConfig({ allowedLatenessMs: 1_000 });
    const merger = new WindowMerger(config);
    const parts = stageOne(
      [ev(1_000, { durationMs: 12 }), ev(2_000, { durationMs: 40 })],
      'shard-a',
      '1',
      '2',
    );
    merger.add(parts, T0);
    // Act
    const restored = WindowMerger.fromState(config, JSON.parse(JSON.stringify(merger.toState())));
    // Assess
    expect(restored.kind).toBe('ok');
    if (restored.kind !== 'ok') return;
    expect(restored.value.add(parts, T0).duplicates).toBe(1);
    expect(restored.value.flush(T0).closed[0]!.measures).toEqual(merger.flush(T0).closed[0]!.measures);
  });

  it('round-trips its state through the binary checkpoint, sequence numbers and rules included', () => {
    // Prepare: two shards, odd and even digit counts (and "0"), rules, a closed and an open window.
    const config = defaultWindowConfig({
      allowedLatenessMs: 1_000,
      rules: [
        { name: 'amount', kind: 'sum', field: 'attributes.amount' },
        { name: 'size', kind: 'sketch', field: 'attributes.size' },
      ],
    });
    const merger = new WindowMerger(config);
    merger.add(
      stageOne(
        [ev(1_000, { durationMs: 12, attributes: { amount: 3, size: 40 } }), ev(20_000)],
        'shard-a',
        '49590338271490256608559692538361571095921575989136588898',
        '49590338271490256608559692538361571095921575989136588899',
        T0 + 120_000,
        config,
      ),
      T0,
    );
    merger.add(stageOne([ev(2_000, { durationMs: 40, route: '/pay' })], 'shard-b', '0', '10'), T0);
    merger.close(T0 + 30_000);
    const keys = [...merger.seriesKeys()];
    // Act
    const restored = WindowMerger.fromBinary(
      config,
      merger.encodeGlobals(),
      keys.map((k) => merger.encodeSeries(k)!),
    );
    // Assess
    expect(restored.kind).toBe('ok');
    if (restored.kind !== 'ok') return;
    expect(merger.toState().series[0]!.windows[0]!.rules.map((r) => r[1])).toEqual(['sum', 'sketch']);
    expect(restored.value.toState()).toEqual(merger.toState());
    expect(restored.value.touchedSeries().size).toBe(0);
    expect(WindowMerger.fromBinary(config, Uint8Array.of(9), [])).toMatchObject({ kind: 'invalid' });
  });

  it('reports the series changed since its last checkpoint, and copies the records of the others', () => {
    // Prepare
    const config = defaultWindowConfig({ allowedLatenessMs: 1_000 });
    const merger = new WindowMerger(config);
    const checkpoint = () => {
      const w = new ByteWriter();
      const written = merger.writeSeriesRecords(w);
      const blob = w.finish();
      merger.adoptSeriesRecords(blob, written);
      return blob;
    };
    merger.add(stageOne([ev(1_000), ev(1_500, { service: 'search' })], 'shard-a', '1', '2'), T0);
    const afterAdd = [...merger.touchedSeries()].sort();
    const first = checkpoint();
    // Act: a redelivery changes nothing; a new partial for one series changes that one.
    merger.add(stageOne([ev(1_000), ev(1_500, { service: 'search' })], 'shard-a', '1', '2'), T0);
    const afterDuplicate = [...merger.touchedSeries()];
    merger.add(stageOne([ev(2_000, { service: 'search' })], 'shard-a', '3', '3'), T0);
    const afterMerge = [...merger.touchedSeries()];
    const second = checkpoint();
    merger.invalidateSeriesRecords();
    const cold = checkpoint();
    // Assess
    expect(afterAdd).toEqual(['checkout', 'search']);
    expect(afterDuplicate).toEqual([]);
    expect(afterMerge).toEqual(['search']);
    expect(merger.touchedSeries().size).toBe(0);
    expect(Buffer.from(second).equals(Buffer.from(first))).toBe(false);
    expect(Buffer.from(cold).equals(Buffer.from(second))).toBe(true);
  });

  it('skips a partial overlapping a merged range without being contained in it (a conflict), never double counting', () => {
    // Prepare: ingest emitted the half [1, 5] first, then (contract broken) the whole [1, 9]
    const config = defaultWindowConfig({ allowedLatenessMs: 1_000 });
    const merger = new WindowMerger(config);
    merger.add(stageOne([ev(1_000)], 'shard-a', '1', '5'), T0);
    // Act
    const stats = merger.add(stageOne([ev(1_000), ev(2_000)], 'shard-a', '1', '9'), T0);
    // Assess
    expect(stats).toMatchObject({ merged: 0, conflicts: 1, conflictEvents: 2 });
    expect(merger.flush(T0).closed[0]!.measures.count).toBe(1);
  });

  it('counts partials for evicted windows as late, or as duplicates when behind the sequence frontier', () => {
    // Prepare: window [T0, T0+10s) closes and is evicted once the watermark passes T0+10s+retention
    const config = defaultWindowConfig({ allowedLatenessMs: 1_000, closedRetentionMs: 0 });
    const merger = new WindowMerger(config);
    const first = stageOne([ev(1_000)], 'shard-a', '10', '10');
    merger.merge(first, T0);
    const out = merger.merge(stageOne([ev(30_000)], 'shard-a', '20', '20'), T0 + 1);
    expect(out.closed).toHaveLength(1);
    expect(out.evicted).toBe(1);
    // Act
    const again = merger.add(first, T0 + 2);
    const tooLate = merger.add(stageOne([ev(2_000)], 'shard-b', '5', '5'), T0 + 3);
    // Assess
    expect(again).toMatchObject({ duplicates: 1, late: 0 });
    expect(tooLate).toMatchObject({ merged: 0, late: 1, lateEvents: 1 });
  });

  it('stops waiting for an idle source after idleSourceTimeoutMs', () => {
    // Prepare: shard-b reports once with an old watermark, then only shard-a keeps reporting
    const config = defaultWindowConfig({ allowedLatenessMs: 1_000, idleSourceTimeoutMs: 5_000 });
    const merger = new WindowMerger(config);
    merger.merge(stageOne([ev(1_000)], 'shard-b', '1', '1'), T0);
    const held = merger.merge(stageOne([ev(2_000), ev(25_000)], 'shard-a', '1', '1'), T0 + 1_000);
    expect(held.closed).toEqual([]);
    // Act
    const later = merger.merge(stageOne([ev(26_000)], 'shard-a', '2', '2'), T0 + 6_000);
    // Assess
    expect(later.closed.map((w) => [w.timeMs, w.measures.count])).toEqual([[T0, 2]]);
  });

  it('closes everything once every source has been idle for idleSourceTimeoutMs', () => {
    const config = defaultWindowConfig({ allowedLatenessMs: 30_000, idleSourceTimeoutMs: 5_000 });
    const merger = new WindowMerger(config);
    // stage one's watermark (lateness 1 s) stays at T0 + 4 s: the window cannot close by watermark
    merger.merge(stageOne([ev(1_000), ev(5_000)], 'shard-a', '1', '1'), T0 + 12_000);
    expect(merger.close(T0 + 16_000).closed).toEqual([]);
    expect(merger.close(T0 + 17_000).closed.map((w) => w.timeMs)).toEqual([T0]);
  });

  it('emits rule measures and latency quantiles', () => {
    const config = defaultWindowConfig({
      rules: [
        { name: 'declines', kind: 'count', where: [{ field: 'message', matches: 'declined' }] },
        { name: 'amount', kind: 'sum', field: 'attributes.amount' },
        { name: 'size', kind: 'sketch', field: 'attributes.size' },
      ],
    });
    const r = aggregateBatch(
      [
        {
          ...ev(1_000, { durationMs: 100 }),
          message: 'payment declined',
          attributes: { amount: 5, size: 10 },
        },
        { ...ev(2_000, { durationMs: 300 }), attributes: { amount: 2.5 } },
      ],
      { sourceShard: 's', firstSequenceNumber: '1', lastSequenceNumber: '1', nowMs: T0 + 5_000, config },
    );
    const merger = new WindowMerger(config);
    merger.add(r.partials, T0);
    const m = merger.flush(T0).closed[0]!.measures;
    expect(m).toMatchObject({
      declines: 1,
      amount: 7.5,
      size_count: 1,
      latency_count: 2,
      latency_sum_ms: 400,
    });
    expect(Math.abs(m.size_p50! - 10)).toBeLessThanOrEqual(0.1);
    // rank ⌊0.99 · (2 − 1)⌋ = 0: the sketch's (and the library's) lower-rank rule
    expect(Math.abs(m.latency_p99_ms! - 100)).toBeLessThanOrEqual(1);
    expect(m.event_rate_per_s).toBe(0.2);
    expect(m.error_rate).toBe(0);
  });

  it('refuses a state it cannot restore instead of throwing', () => {
    const config = defaultWindowConfig();
    expect(WindowMerger.fromState(config, { v: 2 })).toMatchObject({ kind: 'invalid' });
    expect(WindowMerger.fromState(config, 'x')).toMatchObject({ kind: 'invalid' });
    const bad = {
      v: 1,
      watermarkMs: null,
      horizonMs: null,
      sources: [],
      series: [{ dims: { service: 's' }, horizonEndMs: null, frontier: [['a', 'nope']], windows: [] }],
    };
    expect(WindowMerger.fromState(config, bad)).toMatchObject({ kind: 'invalid' });
  });
});
