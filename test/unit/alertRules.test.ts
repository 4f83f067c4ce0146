import { describe, expect, it } from 'vitest';
import type { AlertInput, AlertRule } from '../../processors/transforms/detect/alertRules.ts';
import {
  DEFAULT_ALERT_CONFIG,
  DEFAULT_ALERT_RULE,
  decideAlert,
  newAlertState,
  parseAlertConfig,
  resolveAlertRule,
} from '../../processors/transforms/detect/alertRules.ts';

const WINDOW_MS = 10_000;

function input(i: number, score: number, value = 1, eventCount = 100, damped = score): AlertInput {
  return {
    service: 'checkout',
    metric: 'error_rate',
    windowStartMs: i * WINDOW_MS,
    windowEndMs: (i + 1) * WINDOW_MS,
    value,
    eventCount,
    detector: { score: damped, rawScore: score, expected: 1, expectedLow: 0.5, expectedHigh: 1.5 },
  };
}

function run(rule: AlertRule, scores: number[], values?: number[], counts?: number[]) {
  const state = newAlertState();
  const events: { i: number; kind: string; reason: string }[] = [];
  scores.forEach((s, i) => {
    const e = decideAlert(state, rule, input(i, s, values?.[i] ?? 1, counts?.[i] ?? 100));
    if (e !== undefined) events.push({ i, kind: e.kind, reason: e.reason });
  });
  return events;
}

describe('decideAlert', () => {
  it('decides on the undamped score: an incident damped by the detector after its alarm stays alerting', () => {
    // Prepare: the detector halves the points after an alarm (one detection per incident for NAB), but
    // the incident goes on: the raw score stays high.
    const rule = { ...DEFAULT_ALERT_RULE, scoreThreshold: 0.7, recoveryWindows: 3 };
    const state = newAlertState();
    const raw = [0.1, 0.8, 0.8, 0.8, 0.8, 0.8, 0.1, 0.1, 0.1];
    const damped = [0.1, 0.8, 0.4, 0.4, 0.4, 0.4, 0.05, 0.05, 0.05];
    // Act
    const events = raw.flatMap((r, i) => {
      const e = decideAlert(state, rule, input(i, r, 1, 100, damped[i]));
      return e === undefined ? [] : [{ i, kind: e.kind, score: e.score }];
    });
    // Assess: no recovery while the raw score is above the threshold; the event carries the raw score.
    expect(events).toEqual([
      { i: 1, kind: 'alert', score: 0.8 },
      { i: 8, kind: 'recovery', score: 0.1 },
    ]);
  });

  it('keeps a score alert open while the value stays outside the range expected when it fired', () => {
    // Prepare: expected 0.5–1.5 at the alert; the score adapts (falls) while the value stays at 8.
    const rule = { ...DEFAULT_ALERT_RULE, scoreThreshold: 0.7, recoveryWindows: 2 };
    const state = newAlertState();
    const steps: [score: number, value: number][] = [
      [0.1, 1],
      [0.9, 8],
      [0.3, 8],
      [0.2, 8],
      [0.1, 8],
      [0.1, 1.2],
      [0.1, 0.9],
    ];
    // Act
    const events = steps.flatMap(([score, value], i) => {
      const e = decideAlert(state, rule, input(i, score, value));
      return e === undefined ? [] : [{ i, kind: e.kind }];
    });
    // Assess: recovery only after two windows back inside [0.5, 1.5].
    expect(events).toEqual([
      { i: 1, kind: 'alert' },
      { i: 6, kind: 'recovery' },
    ]);
    expect(state.openLow).toBeNaN();
  });

  it('holds nothing for a static-bound alert or a window with too few events', () => {
    // Prepare
    const rule = {
      ...DEFAULT_ALERT_RULE,
      scoreThreshold: 0.7,
      recoveryWindows: 1,
      staticAbove: 5,
      minEventCount: 10,
    };
    const staticState = newAlertState();
    const fewState = newAlertState();
    // Act
    const staticEvents = [
      decideAlert(staticState, rule, input(0, 0.1, 9)),
      decideAlert(staticState, rule, input(1, 0.1, 4)), // below the bound, outside the band: recovers
    ].map((e) => e?.kind);
    const fewEvents = [
      decideAlert(fewState, rule, input(0, 0.9, 3)),
      decideAlert(fewState, rule, input(1, 0.1, 3, 2)), // 2 events < minEventCount: not evidence
    ].map((e) => e?.kind);
    // Assess
    expect(staticEvents).toEqual(['alert', 'recovery']);
    expect(fewEvents).toEqual(['alert', 'recovery']);
  });

  it('alerts on the first window at or above the threshold and recovers after recoveryWindows quiet ones', () => {
    // Prepare
    const rule = { ...DEFAULT_ALERT_RULE, scoreThreshold: 0.5, recoveryWindows: 2 };
    // Act
    const events = run(rule, [0.1, 0.5, 0.9, 0.1, 0.2, 0.1]);
    // Assess
    expect(events).toEqual([
      { i: 1, kind: 'alert', reason: 'score' },
      { i: 4, kind: 'recovery', reason: 'score' },
    ]);
  });

  it('carries the event shape the SNS sink publishes', () => {
    const state = newAlertState();
    const e = decideAlert(state, { ...DEFAULT_ALERT_RULE, scoreThreshold: 0.5 }, input(3, 0.8, 7));
    expect(e).toEqual({
      kind: 'alert',
      service: 'checkout',
      metric: 'error_rate',
      windowStartMs: 30_000,
      windowEndMs: 40_000,
      value: 7,
      expectedLow: 0.5,
      expectedHigh: 1.5,
      score: 0.8,
      threshold: 0.5,
      reason: 'score',
    });
  });

  it('needs consecutiveWindows anomalous windows in a row', () => {
    const rule = { ...DEFAULT_ALERT_RULE, scoreThreshold: 0.5, consecutiveWindows: 3 };
    const events = run(rule, [0.9, 0.9, 0.1, 0.9, 0.9, 0.9]);
    expect(events).toEqual([{ i: 5, kind: 'alert', reason: 'score' }]);
  });

  it('does not re-alert within the cooldown after an alert', () => {
    const rule = {
      ...DEFAULT_ALERT_RULE,
      scoreThreshold: 0.5,
      recoveryWindows: 1,
      cooldownMs: 5 * WINDOW_MS,
    };
    const events = run(rule, [0.9, 0.1, 0.9, 0.1, 0.9, 0.9, 0.1]);
    // alert at 0, recovery at 1, window 2 and 4 are inside the cooldown (start − 0 < 50 s), 5 is not.
    expect(events.map((e) => `${e.kind}@${e.i}`)).toEqual(['alert@0', 'recovery@1', 'alert@5', 'recovery@6']);
  });

  it('static bounds always alert, whatever the score', () => {
    const rule = { ...DEFAULT_ALERT_RULE, scoreThreshold: 0.99, staticAbove: 0.05, recoveryWindows: 1 };
    const events = run(rule, [0, 0, 0], [0.01, 0.2, 0.01]);
    expect(events).toEqual([
      { i: 1, kind: 'alert', reason: 'static_above' },
      { i: 2, kind: 'recovery', reason: 'static_above' },
    ]);
    const below = run({ ...rule, staticAbove: undefined as never, staticBelow: 1 }, [0, 0], [5, 0]);
    expect(below).toEqual([{ i: 1, kind: 'alert', reason: 'static_below' }]);
  });

  it('windows with fewer than minEventCount events never alert', () => {
    const rule = { ...DEFAULT_ALERT_RULE, scoreThreshold: 0.5, minEventCount: 20, staticAbove: 0.05 };
    const events = run(rule, [0.9, 0.9, 0.9], [1, 1, 1], [1, 19, 20]);
    expect(events).toEqual([{ i: 2, kind: 'alert', reason: 'static_above' }]);
  });
});

describe('resolveAlertRule', () => {
  it('applies overrides from least to most specific', () => {
    // Prepare
    const config = {
      ...DEFAULT_ALERT_CONFIG,
      overrides: [
        { service: 'checkout', metric: 'error_rate' as const, scoreThreshold: 0.9 },
        { metric: 'error_rate' as const, scoreThreshold: 0.6, staticAbove: 0.05 },
        { service: 'checkout', scoreThreshold: 0.7, cooldownMs: 1 },
      ],
    };
    // Act
    const r = resolveAlertRule(config, 'checkout', 'error_rate');
    const other = resolveAlertRule(config, 'search', 'error_rate');
    const latency = resolveAlertRule(config, 'checkout', 'latency_p99');
    // Assess
    expect(r).toMatchObject({ scoreThreshold: 0.9, staticAbove: 0.05, cooldownMs: 1 });
    expect(other).toMatchObject({ scoreThreshold: 0.6, staticAbove: 0.05 });
    expect(latency).toMatchObject({ scoreThreshold: 0.7, cooldownMs: 1 });
    expect(latency.staticAbove).toBeUndefined();
  });

  it('by default lets the event rate alert with no events', () => {
    expect(resolveAlertRule(DEFAULT_ALERT_CONFIG, 'x', 'event_rate').minEventCount).toBe(0);
    expect(resolveAlertRule(DEFAULT_ALERT_CONFIG, 'x', 'error_rate').minEventCount).toBe(10);
    expect(DEFAULT_ALERT_CONFIG.metrics).toEqual(['error_rate', 'event_rate', 'latency_p99']);
  });
});

describe('parseAlertConfig', () => {
  it('fills defaults and keeps overrides', () => {
    const r = parseAlertConfig({
      rule: { scoreThreshold: 0.6 },
      overrides: [{ metric: 'error_rate', staticAbove: 0.05 }],
    });
    expect(r.kind).toBe('ok');
    if (r.kind !== 'ok') return;
    expect(r.config.rule).toEqual({ ...DEFAULT_ALERT_RULE, scoreThreshold: 0.6 });
    expect(r.config.metrics).toEqual(DEFAULT_ALERT_CONFIG.metrics);
  });

  it('rejects bad values with a message naming the field', () => {
    expect(parseAlertConfig({ rule: { scoreThreshold: 2 } })).toEqual({
      kind: 'error',
      message: 'alerts.rule.scoreThreshold must be within [0, 1]',
    });
    expect(parseAlertConfig({ metrics: ['cpu'] }).kind).toBe('error');
    expect(parseAlertConfig({ overrides: [{ metric: 'error_rate', consecutiveWindows: 0 }] })).toEqual({
      kind: 'error',
      message: 'alerts.overrides[0].consecutiveWindows must be an integer ≥ 1',
    });
  });
});
