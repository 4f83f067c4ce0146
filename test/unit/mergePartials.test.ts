import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../../processors/schema.ts';
import { aggregateBatch } from '../../processors/transforms/window/aggregateBatch.ts';
import { WindowMerger } from '../../processors/transforms/window/mergePartials.ts';
import { chunkPartials, decodePartials } from '../../processors/transforms/window/partialCodec.ts';
import { defaultWindowConfig } from '../../processors/transforms/window/windowConfig.ts';

const T0 = 1_700_000_000_000;

function ev(offsetMs: number, extra: Partial<LogEvent> = {}): LogEvent {
  return { timeMs: T0 + offsetMs, service: 'checkout', level: 'info', message: 'ok', ...extra };
}

function stageOne(events: LogEvent[], shard: string, first: string, last: string, nowMs = T0 + 120_000) {
  const config = defaultWindowConfig({ allowedLatenessMs: 1_000 });
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
});
