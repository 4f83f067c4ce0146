import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../../processors/schema.ts';
import {
  aggregateBatch,
  rulesReadAttributes,
  StageOneState,
} from '../../processors/transforms/window/aggregateBatch.ts';
import { defaultWindowConfig } from '../../processors/transforms/window/windowConfig.ts';

const T0 = 1_700_000_000_000;
const ctxBase = {
  sourceShard: 'shardId-000000000001',
  firstSequenceNumber: '49590338271490256608559692538361571095921575989136588898',
  lastSequenceNumber: '49590338271490256608559692538361571095921575989136589999',
  nowMs: T0 + 60_000,
};

function ev(offsetMs: number, extra: Partial<LogEvent> = {}): LogEvent {
  return { timeMs: T0 + offsetMs, service: 'checkout', level: 'info', message: 'ok', ...extra };
}

describe('aggregateBatch', () => {
  it('counts events, errors, status classes, bytes and latency per series and window', () => {
    // Prepare
    const config = defaultWindowConfig();
    const events = [
      ev(1_000, { status: 200, durationMs: 10 }),
      ev(2_000, { status: 404, durationMs: 20 }),
      ev(3_000, { status: 503, durationMs: 30 }),
      ev(4_000, { level: 'error' }),
      ev(12_000, { service: 'search', durationMs: 5 }),
    ];
    // Act
    const r = aggregateBatch(events, { ...ctxBase, config, eventBytes: [100, 100, 100, 100, 50] });
    // Assess
    expect(r.partials.map((p) => [p.seriesKey, p.windowStartMs])).toEqual([
      ['checkout', T0],
      ['search', T0 + 10_000],
    ]);
    const p = r.partials[0]!;
    expect([p.count, p.errors, p.status4xx, p.status5xx, p.bytes]).toEqual([4, 2, 1, 1, 400]);
    expect([p.latency.count, p.latency.sum, p.latency.min, p.latency.max]).toEqual([3, 60, 10, 30]);
    expect(p.sourceShard).toBe(ctxBase.sourceShard);
    expect(p.firstSequenceNumber).toBe(ctxBase.firstSequenceNumber);
    expect(p.lastSequenceNumber).toBe(ctxBase.lastSequenceNumber);
    expect(p.sourceWatermarkMs).toBe(T0 + 12_000 - 30_000);
    expect(r.late).toEqual([]);
  });

  it('returns events behind the watermark in `late`, with their index, and keeps the state it was given', () => {
    // Prepare
    const config = defaultWindowConfig({ allowedLatenessMs: 5_000 });
    const state = new StageOneState(T0 + 40_000, StageOneState.initial().guard);
    // Act
    const r = aggregateBatch([ev(40_500), ev(30_000), ev(36_000)], { ...ctxBase, config, state });
    // Assess
    expect(r.late).toEqual([{ index: 1, timeMs: T0 + 30_000, watermarkMs: T0 + 35_500 }]);
    expect(r.partials.reduce((n, p) => n + p.count, 0)).toBe(2);
    expect(state.maxEventTimeMs).toBe(T0 + 40_000);
    expect(r.state.maxEventTimeMs).toBe(T0 + 40_500);
  });

  it('keys series like seriesKey(dimensions), escaping separators, and folds the long tail into other', () => {
    // Prepare
    const config = defaultWindowConfig({ dimensions: ['route', 'status_class'], maxDistinctPerDimension: 2 });
    const events = ['/a', '/b', '/c', '/a', '/d'].map((route) =>
      ev(1_000, { service: 'auth|v2', route, status: 200 }),
    );
    // Act
    const r = aggregateBatch(events, { ...ctxBase, config });
    // Assess
    expect(r.partials.map((p) => [p.seriesKey, p.count])).toEqual([
      ['auth%7Cv2|route=/a|status_class=2xx', 2],
      ['auth%7Cv2|route=/b|status_class=2xx', 1],
      ['auth%7Cv2|route=other|status_class=2xx', 2],
    ]);
    expect(r.state.guard.toJSON()).toEqual({
      route: { 'auth|v2': ['/a', '/b'] },
      status_class: { 'auth|v2': ['2xx'] },
    });
  });

  it('rejects non-finite and far-future timestamps with invalid_timestamp', () => {
    const config = defaultWindowConfig();
    const r = aggregateBatch(
      [ev(0, { timeMs: Number.NaN }), ev(0, { timeMs: ctxBase.nowMs + 16 * 60_000 }), ev(0)],
      {
        ...ctxBase,
        config,
      },
    );
    expect(r.rejected).toEqual([
      { index: 0, code: 'invalid_timestamp' },
      { index: 1, code: 'invalid_timestamp' },
    ]);
    expect(r.partials).toHaveLength(1);
  });

  it('rulesReadAttributes: true only when a rule field or condition names something beyond the event fields', () => {
    // Prepare
    const none = defaultWindowConfig().rules;
    const eventOnly = [
      { name: 'slow', kind: 'count' as const, where: [{ field: 'durationMs', gte: 1_000 }] },
      {
        name: 'latency_sum',
        kind: 'sum' as const,
        field: 'durationMs',
        where: [{ field: 'route', equals: '/a' }],
      },
    ];
    const byValue = [{ name: 'bytes', kind: 'sum' as const, field: 'attributes.http.bytes' }];
    const byCondition = [
      { name: 'paid', kind: 'count' as const, where: [{ field: 'attributes.plan', equals: 'pro' }] },
    ];
    // Act + Assess
    expect(rulesReadAttributes(none)).toBe(false);
    expect(rulesReadAttributes(eventOnly)).toBe(false);
    expect(rulesReadAttributes(byValue)).toBe(true);
    expect(rulesReadAttributes(byCondition)).toBe(true);
  });
});
