/**
 * Scoring of closed windows (detect stage): per series, in window order, each scored metric's value
 * goes through its detector and alert rule; the window's record carries the highest anomaly score,
 * the expected band of the metric that scored it, and whether the series is alerting.
 *
 * A window with no events never reaches stage two, so a service that goes silent would produce no
 * window at all and its traffic drop would go unseen. Windows the merged watermark has passed with no
 * data are therefore zero-filled for known series — a record with count 0 and the event rate scored
 * as 0 — for at most `maxSilentWindows` windows after the series' last data.
 */
import { Measure, MetricMeasure, type MetricName, Names } from '../schema.ts';
import type { SeriesWindowRecord } from '../sinks/timeSeriesRecord.ts';
import { type AlertEvent, decideAlert, resolveAlertRule } from '../transforms/detect/alertRules.ts';
import type { ClosedWindow } from '../transforms/window/mergePartials.ts';
import {
  alertStateOf,
  type DetectShardState,
  type SeriesScoring,
  seriesScoring,
  updateDetector,
  type WindowScore,
} from './detectState.ts';
import type { HandlerConfig } from './handlerConfig.ts';

/** Output of {@link scoreWindows}. */
export interface ScoredWindows {
  /** Records for the windows table, in series then time order. */
  records: SeriesWindowRecord[];
  /** Alert and recovery events, in the same order, with their series' dimensions. */
  alerts: Array<{ event: AlertEvent; dimensions: Record<string, string> }>;
  /** Windows fed to the detectors (real and zero-filled). */
  scored: number;
  zeroFilled: number;
}

/**
 * Adds the score measures to `m` in place: every measures object reaching here was built for this
 * record alone (by the merger's close, or a zero-fill), so copying it per record bought nothing.
 */
function withScore(m: Partial<Record<string, number>>, s: WindowScore | undefined) {
  if (s !== undefined) {
    if (Number.isFinite(s.score)) {
      m[Measure.anomalyScore.name] = s.score;
      m[Measure.expectedLow.name] = s.expectedLow;
      m[Measure.expectedHigh.name] = s.expectedHigh;
    }
    m[Measure.alerting.name] = s.alerting;
  }
  return m;
}

/**
 * Scores the windows a merger just closed and builds their records (corrections keep the score their
 * window got when it first closed). Mutates `state` (detectors, alert states, scores) and records
 * which series it changed in `state.touched` (the incremental checkpoint re-encodes those).
 *
 * @example
 * const { closed, corrections, watermarkMs } = state.merger.merge(partials, Date.now());
 * const { records, alerts } = scoreWindows(state, closed, corrections, watermarkMs, config);
 */
export function scoreWindows(
  state: DetectShardState,
  closed: readonly ClosedWindow[],
  corrections: readonly ClosedWindow[],
  watermarkMs: number,
  config: HandlerConfig,
): ScoredWindows {
  const out: ScoredWindows = { records: [], alerts: [], scored: 0, zeroFilled: 0 };
  const windowMs = config.window.windowMs;
  const stepMs = config.window.slideMs ?? windowMs;
  const metrics = config.alerts.metrics;
  const table = config.windowsTable;

  const bySeries = new Map<string, ClosedWindow[]>();
  for (const w of closed) {
    let list = bySeries.get(w.seriesKey);
    if (list === undefined) {
      list = [];
      bySeries.set(w.seriesKey, list);
    }
    list.push(w);
  }

  const score = (
    s: SeriesScoring,
    startMs: number,
    measures: Partial<Record<string, number>>,
  ): WindowScore => {
    const count = measures[Measure.count.name] ?? 0;
    const service = s.dimensions.service ?? '';
    let best: WindowScore = {
      score: Number.NaN,
      expectedLow: Number.NaN,
      expectedHigh: Number.NaN,
      alerting: 0,
    };
    for (const metric of metrics) {
      const value = measures[MetricMeasure[metric as MetricName]];
      if (value === undefined || !Number.isFinite(value)) continue;
      const d = updateDetector(s, metric, config.detector, startMs, value);
      // The stored score is the undamped one, the score the alert rules decide on (detector.ts).
      if (!(d.rawScore <= best.score)) {
        best = { score: d.rawScore, expectedLow: d.expectedLow, expectedHigh: d.expectedHigh, alerting: 0 };
      }
      const event = decideAlert(alertStateOf(s, metric), resolveAlertRule(config.alerts, service, metric), {
        service,
        metric,
        windowStartMs: startMs,
        windowEndMs: startMs + windowMs,
        value,
        eventCount: count,
        detector: d,
      });
      if (event !== undefined) out.alerts.push({ event, dimensions: s.dimensions });
    }
    for (const a of s.alerts.values()) if (a.alerting) best.alerting = 1;
    s.lastScoredStartMs = startMs;
    out.scored++;
    s.scores.set(startMs, best);
    state.touched.add(s.key);
    return best;
  };

  const zeroFill = (s: SeriesScoring, untilStartMs: number): void => {
    if (config.maxSilentWindows === 0 || !Number.isFinite(s.lastScoredStartMs)) return;
    for (let t = s.lastScoredStartMs + stepMs; t < untilStartMs; t += stepMs) {
      if (t - s.lastDataStartMs > config.maxSilentWindows * stepMs) return;
      const measures: Partial<Record<string, number>> = {
        [Measure.count.name]: 0,
        [Measure.errors.name]: 0,
        [Measure.status4xx.name]: 0,
        [Measure.status5xx.name]: 0,
        [Measure.bytes.name]: 0,
        [Measure.eventRate.name]: 0,
        [Measure.latencyCount.name]: 0,
      };
      const sc = score(s, t, measures);
      out.zeroFilled++;
      // Version 0: any real data for this window later (a late source) has count ≥ 1 and replaces it.
      out.records.push({
        table,
        dimensions: s.dimensions,
        timeMs: t,
        version: 0,
        measures: withScore(measures, sc),
      });
    }
  };

  const zeroFillUntil = Number.isFinite(watermarkMs) ? watermarkMs - windowMs + 1 : undefined;
  // Series with closed windows first (in closing order), then every other known series (zero-fill).
  for (const [key, list] of bySeries) {
    let s = state.series.get(key);
    list.sort((a, b) => a.windowStartMs - b.windowStartMs);
    if (s === undefined) s = seriesScoring(state, key, list[0]!.dimensions);
    for (const w of list) {
      const rec: SeriesWindowRecord = {
        table: w.table === Names.windowsTable ? table : w.table,
        dimensions: w.dimensions,
        timeMs: w.timeMs,
        version: w.version,
        measures: w.measures,
      };
      if (w.windowStartMs <= s.lastScoredStartMs) {
        // Closed after a later window was scored (late source): keep the detectors in time order.
        rec.measures = withScore(w.measures, s.scores.get(w.windowStartMs));
      } else {
        zeroFill(s, w.windowStartMs);
        rec.measures = withScore(w.measures, score(s, w.windowStartMs, w.measures));
      }
      if ((w.measures[Measure.count.name] ?? 0) > 0 && w.windowStartMs > s.lastDataStartMs) {
        s.lastDataStartMs = w.windowStartMs;
        state.touched.add(key);
      }
      out.records.push(rec);
    }
    if (zeroFillUntil !== undefined) zeroFill(s, zeroFillUntil);
  }
  if (zeroFillUntil !== undefined) {
    for (const [key, s] of state.series) if (!bySeries.has(key)) zeroFill(s, zeroFillUntil);
  }

  for (const w of corrections) {
    out.records.push({
      table: w.table === Names.windowsTable ? table : w.table,
      dimensions: w.dimensions,
      timeMs: w.timeMs,
      version: w.version,
      measures: withScore(w.measures, state.series.get(w.seriesKey)?.scores.get(w.windowStartMs)),
    });
  }

  // Scores are needed only while a window can still be corrected (merger retention). A series' scores
  // are in time order (windows are scored in order), so pruning stops at the first one kept; and only
  // a horizon that moved can prune anything (scores are only added above it).
  const horizon = watermarkMs - config.window.closedRetentionMs - 2 * windowMs;
  if (Number.isFinite(watermarkMs) && horizon > state.scoresPrunedBelowMs) {
    state.scoresPrunedBelowMs = horizon;
    for (const s of state.series.values()) {
      for (const start of s.scores.keys()) {
        if (start >= horizon) break;
        s.scores.delete(start);
        state.touched.add(s.key);
      }
    }
  }
  return out;
}
