/**
 * Alert rules as configuration, and the per-series decision that turns detector output into alert and
 * recovery events for the SNS sink.
 *
 * A window is *anomalous* when the series had enough events (`minEventCount`) and either the detector's
 * score reaches the threshold or the value breaks a static bound. An alert fires after
 * `consecutiveWindows` anomalous windows in a row, unless the previous alert of the series started less
 * than `cooldownMs` earlier; it recovers after `recoveryWindows` non-anomalous windows in a row.
 */
import type { MetricName } from '../../schema.ts';
import { Metric } from '../../schema.ts';
import type { DetectorOutput } from './detector.ts';

/**
 * Score threshold used when the configuration does not set one. The NAB backtest's best threshold for the
 * default detector is ≈ 0.5 (its alarm level, p ≈ 1/400), but NAB tolerates far more false alarms than a
 * pager; 0.7 raised none on 200,000 points of Gaussian or Laplace noise (docs/detection.md).
 */
export const DEFAULT_SCORE_THRESHOLD = 0.7;

/** One alert rule (all fields resolved). */
export interface AlertRule {
  /** Anomaly score at or above which a window is anomalous. */
  readonly scoreThreshold: number;
  /** Values strictly above this always count as anomalous (e.g. error rate 0.05). */
  readonly staticAbove?: number;
  /** Values strictly below this always count as anomalous (e.g. event rate 0). */
  readonly staticBelow?: number;
  /** Windows with fewer events never count as anomalous (a 1-request window with 1 error is not 100 %). */
  readonly minEventCount: number;
  /** Anomalous windows in a row before an alert fires. */
  readonly consecutiveWindows: number;
  /** Non-anomalous windows in a row before a recovery fires. */
  readonly recoveryWindows: number;
  /** Minimum time between the window starts of two alerts of the same series. */
  readonly cooldownMs: number;
}

/** A partial rule applied to matching series; the most specific match wins field by field. */
export interface AlertRuleOverride extends Partial<AlertRule> {
  readonly service?: string;
  readonly metric?: MetricName;
}

/** Which metrics are scored, the global rule and its overrides. */
export interface AlertConfig {
  readonly metrics: readonly MetricName[];
  readonly rule: AlertRule;
  readonly overrides: readonly AlertRuleOverride[];
}

export const DEFAULT_ALERT_RULE: AlertRule = {
  scoreThreshold: DEFAULT_SCORE_THRESHOLD,
  minEventCount: 10,
  consecutiveWindows: 1,
  recoveryWindows: 3,
  cooldownMs: 15 * 60_000,
};

/**
 * Defaults: every service's error rate, event rate and latency p99 are scored; the event rate may alert
 * with no events at all (a service going silent is the incident).
 */
export const DEFAULT_ALERT_CONFIG: AlertConfig = {
  metrics: [Metric.errorRate, Metric.eventRate, Metric.latencyP99],
  rule: DEFAULT_ALERT_RULE,
  overrides: [{ metric: Metric.eventRate, minEventCount: 0 }],
};

/** Event published to the alert topic. */
export interface AlertEvent {
  readonly kind: 'alert' | 'recovery';
  readonly service: string;
  readonly metric: MetricName;
  readonly windowStartMs: number;
  readonly windowEndMs: number;
  readonly value: number;
  readonly expectedLow: number;
  readonly expectedHigh: number;
  readonly score: number;
  readonly threshold: number;
  /** What made the alert's window anomalous (for recoveries: what the alert was about). */
  readonly reason: AlertReasonName;
}

export const AlertReason = {
  score: 'score',
  staticAbove: 'static_above',
  staticBelow: 'static_below',
} as const;
export type AlertReasonName = (typeof AlertReason)[keyof typeof AlertReason];

/** Per-series decision state; a plain object so it checkpoints as JSON beside the detector state. */
export interface AlertState {
  alerting: boolean;
  anomalousRun: number;
  normalRun: number;
  /** Window start of the last alert (−∞ when none). */
  lastAlertMs: number;
  lastReason: AlertReasonName;
  /**
   * The range the detector expected when the open alert fired (NaN when none): the alert stays open
   * while the value is outside it, however the score has adapted since.
   */
  openLow: number;
  openHigh: number;
}

/**
 * A fresh decision state.
 *
 * @example
 * const state = newAlertState();
 */
export function newAlertState(): AlertState {
  return {
    alerting: false,
    anomalousRun: 0,
    normalRun: 0,
    lastAlertMs: Number.NEGATIVE_INFINITY,
    lastReason: AlertReason.score,
    openLow: Number.NaN,
    openHigh: Number.NaN,
  };
}

function specificity(o: AlertRuleOverride): number {
  return (o.service !== undefined ? 2 : 0) + (o.metric !== undefined ? 1 : 0);
}

/**
 * The rule for one series: global rule, then matching overrides from least to most specific
 * (metric < service < service + metric), later ones of equal specificity winning.
 *
 * @example
 * resolveAlertRule(DEFAULT_ALERT_CONFIG, 'checkout', 'event_rate').minEventCount; // 0
 */
export function resolveAlertRule(config: AlertConfig, service: string, metric: MetricName): AlertRule {
  const matching = config.overrides
    .filter(
      (o) =>
        (o.service === undefined || o.service === service) && (o.metric === undefined || o.metric === metric),
    )
    .map((o, i) => ({ o, i }))
    .sort((a, b) => specificity(a.o) - specificity(b.o) || a.i - b.i);
  let rule: AlertRule = config.rule;
  for (const { o } of matching) {
    const { service: _s, metric: _m, ...fields } = o;
    rule = { ...rule, ...fields };
  }
  return rule;
}

/** One closed window of one series, scored. */
export interface AlertInput {
  readonly service: string;
  readonly metric: MetricName;
  readonly windowStartMs: number;
  readonly windowEndMs: number;
  readonly value: number;
  /** Events the window aggregated (for `minEventCount`). */
  readonly eventCount: number;
  readonly detector: Readonly<DetectorOutput>;
}

/**
 * Updates `state` with one window and returns the alert or recovery event it causes, if any.
 * Windows must be fed in time order per series (the detect handler closes them in order).
 *
 * @example
 * const state = newAlertState();
 * const rule = resolveAlertRule(DEFAULT_ALERT_CONFIG, 'checkout', 'error_rate');
 * const event = decideAlert(state, rule, { service: 'checkout', metric: 'error_rate', windowStartMs: 0,
 *   windowEndMs: 10_000, value: 0.2, eventCount: 500, detector: { score: 0.9, rawScore: 0.9, expected: 0.01,
 *   expectedLow: 0, expectedHigh: 0.03 } });
 * event?.kind; // 'alert'
 */
export function decideAlert(state: AlertState, rule: AlertRule, input: AlertInput): AlertEvent | undefined {
  const enough = input.eventCount >= rule.minEventCount;
  let reason: AlertReasonName | undefined;
  if (enough) {
    if (rule.staticAbove !== undefined && input.value > rule.staticAbove) reason = AlertReason.staticAbove;
    else if (rule.staticBelow !== undefined && input.value < rule.staticBelow)
      reason = AlertReason.staticBelow;
    // The undamped score: the rule has its own dedupe (consecutive windows, recovery, cooldown).
    else if (input.detector.rawScore >= rule.scoreThreshold) reason = AlertReason.score;
  }
  // A detector adapts to a level it keeps seeing, so a few windows into a long incident its score falls
  // below the threshold while the metric is as bad as ever. An open score alert therefore stays open
  // while the value is outside the range expected when it fired (NaN bounds: never held).
  const held =
    enough &&
    reason === undefined &&
    state.alerting &&
    state.lastReason === AlertReason.score &&
    (input.value < state.openLow || input.value > state.openHigh);
  if (reason !== undefined || held) {
    state.anomalousRun++;
    state.normalRun = 0;
  } else {
    state.normalRun++;
    state.anomalousRun = 0;
  }
  let kind: AlertEvent['kind'] | undefined;
  if (!state.alerting) {
    if (
      reason !== undefined &&
      state.anomalousRun >= rule.consecutiveWindows &&
      input.windowStartMs - state.lastAlertMs >= rule.cooldownMs
    ) {
      kind = 'alert';
      state.alerting = true;
      state.lastAlertMs = input.windowStartMs;
      state.lastReason = reason;
      state.openLow = input.detector.expectedLow;
      state.openHigh = input.detector.expectedHigh;
    }
  } else if (state.normalRun >= rule.recoveryWindows) {
    kind = 'recovery';
    state.alerting = false;
    state.openLow = Number.NaN;
    state.openHigh = Number.NaN;
  }
  if (kind === undefined) return undefined;
  return {
    kind,
    service: input.service,
    metric: input.metric,
    windowStartMs: input.windowStartMs,
    windowEndMs: input.windowEndMs,
    value: input.value,
    expectedLow: input.detector.expectedLow,
    expectedHigh: input.detector.expectedHigh,
    score: input.detector.rawScore,
    threshold: rule.scoreThreshold,
    reason: kind === 'alert' ? reason! : state.lastReason,
  };
}

/** Result of validating an alert configuration from JSON. */
export type AlertConfigResult =
  | { readonly kind: 'ok'; readonly config: AlertConfig }
  | { readonly kind: 'error'; readonly message: string };

const METRIC_NAMES = new Set<string>(Object.values(Metric));
const NUMBER_FIELDS = [
  'scoreThreshold',
  'staticAbove',
  'staticBelow',
  'minEventCount',
  'consecutiveWindows',
  'recoveryWindows',
  'cooldownMs',
] as const;

function checkRuleFields(where: string, o: Record<string, unknown>): string | undefined {
  for (const f of NUMBER_FIELDS) {
    const v = o[f];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v)) return `${where}.${f} must be a finite number`;
    if (f === 'scoreThreshold' && (v < 0 || v > 1)) return `${where}.scoreThreshold must be within [0, 1]`;
    if ((f === 'consecutiveWindows' || f === 'recoveryWindows') && (v < 1 || !Number.isInteger(v))) {
      return `${where}.${f} must be an integer ≥ 1`;
    }
    if ((f === 'minEventCount' || f === 'cooldownMs') && v < 0) return `${where}.${f} must be ≥ 0`;
  }
  return undefined;
}

/**
 * Validates an alert configuration (e.g. the `alerts` part of `TW_CONFIG`), filling defaults.
 * Accepts `{ metrics?: string[], rule?: Partial<AlertRule>, overrides?: AlertRuleOverride[] }`.
 *
 * @example
 * const r = parseAlertConfig({ rule: { scoreThreshold: 0.6 },
 *   overrides: [{ metric: 'error_rate', staticAbove: 0.05 }] });
 * if (r.kind === 'ok') r.config.rule.scoreThreshold; // 0.6
 */
export function parseAlertConfig(json: unknown): AlertConfigResult {
  if (json === undefined || json === null) return { kind: 'ok', config: DEFAULT_ALERT_CONFIG };
  if (typeof json !== 'object' || Array.isArray(json))
    return { kind: 'error', message: 'alerts must be an object' };
  const o = json as Record<string, unknown>;
  let metrics: MetricName[] = [...DEFAULT_ALERT_CONFIG.metrics];
  if (o.metrics !== undefined) {
    if (!Array.isArray(o.metrics) || !o.metrics.every((m) => typeof m === 'string' && METRIC_NAMES.has(m))) {
      return {
        kind: 'error',
        message: `alerts.metrics must list metric names from: ${[...METRIC_NAMES].join(', ')}`,
      };
    }
    metrics = o.metrics as MetricName[];
  }
  const ruleIn = o.rule ?? {};
  if (typeof ruleIn !== 'object' || ruleIn === null || Array.isArray(ruleIn)) {
    return { kind: 'error', message: 'alerts.rule must be an object' };
  }
  const ruleError = checkRuleFields('alerts.rule', ruleIn as Record<string, unknown>);
  if (ruleError !== undefined) return { kind: 'error', message: ruleError };
  const rule = { ...DEFAULT_ALERT_RULE, ...(ruleIn as Partial<AlertRule>) };
  const overridesIn = o.overrides ?? DEFAULT_ALERT_CONFIG.overrides;
  if (!Array.isArray(overridesIn)) return { kind: 'error', message: 'alerts.overrides must be an array' };
  for (let i = 0; i < overridesIn.length; i++) {
    const ov = overridesIn[i] as unknown;
    if (typeof ov !== 'object' || ov === null || Array.isArray(ov)) {
      return { kind: 'error', message: `alerts.overrides[${i}] must be an object` };
    }
    const rec = ov as Record<string, unknown>;
    if (rec.service !== undefined && typeof rec.service !== 'string') {
      return { kind: 'error', message: `alerts.overrides[${i}].service must be a string` };
    }
    if (rec.metric !== undefined && !(typeof rec.metric === 'string' && METRIC_NAMES.has(rec.metric))) {
      return {
        kind: 'error',
        message: `alerts.overrides[${i}].metric must be one of ${[...METRIC_NAMES].join(', ')}`,
      };
    }
    const err = checkRuleFields(`alerts.overrides[${i}]`, rec);
    if (err !== undefined) return { kind: 'error', message: err };
  }
  return { kind: 'ok', config: { metrics, rule, overrides: overridesIn as AlertRuleOverride[] } };
}
