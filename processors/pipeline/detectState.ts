/**
 * Everything the detect stage remembers about one metrics shard, and its checkpoint format:
 * the window merger (stage two), one detector and one alert-decision state per series·metric, the
 * scores of recently closed windows (so a correction keeps its window's score), the SNS dedupe state,
 * and the last metrics-stream sequence number folded in.
 *
 * One blob per shard (gzip JSON, `StateBlobStore` splits it when above the item limit) written with
 * one conditional put: merger, detectors and alert states always move together, so a redelivered
 * batch re-scores from the same point and writes identical records (Timestream accepts them
 * idempotently).
 */
import type { AlertDedupeSnapshot } from '../sinks/alertDeduper.ts';
import { type AlertState, newAlertState } from '../transforms/detect/alertRules.ts';
import { createDetector, restoreDetector } from '../transforms/detect/createDetector.ts';
import type { Detector, DetectorKindName } from '../transforms/detect/detector.ts';
import { WindowMerger, type WindowMergerState } from '../transforms/window/mergePartials.ts';
import type { WindowConfig } from '../transforms/window/windowConfig.ts';
import { CheckpointError } from './errors.ts';

/** State kind of detect checkpoints in the state table. */
export const DetectStateKind = 'detect';

/** Scoring state of one series. */
export interface SeriesScoring {
  readonly key: string;
  /** Dimensions of the series' records (`service`, configured dimensions, `window_ms`). */
  readonly dimensions: Record<string, string>;
  /** Start of the last window fed to the detectors (−∞ when none). */
  lastScoredStartMs: number;
  /** Start of the last window that had events (−∞ when none): bounds zero-filling of a silent series. */
  lastDataStartMs: number;
  readonly detectors: Map<string, Detector>;
  readonly alerts: Map<string, AlertState>;
}

/** Score measures of one closed window, kept for corrections. */
export interface WindowScore {
  score: number;
  expectedLow: number;
  expectedHigh: number;
  alerting: number;
}

/** In-memory state of one shard. */
export interface DetectShardState {
  /** Version of the stored checkpoint this state was loaded from or saved as (0 = none yet). */
  version: number;
  lastSeq: string | null;
  merger: WindowMerger;
  series: Map<string, SeriesScoring>;
  /** `<seriesKey>\u0000<windowStartMs>` → score, pruned to the merger's retention. */
  scores: Map<string, WindowScore>;
  dedupe: AlertDedupeSnapshot | undefined;
}

interface SeriesJson {
  key: string;
  dims: Record<string, string>;
  lastScored: number | null;
  lastData: number | null;
  detectors: [metric: string, state: string][];
  alerts: [metric: string, state: Omit<AlertState, 'lastAlertMs'> & { lastAlertMs: number | null }][];
}

interface DetectStateJson {
  v: 1;
  lastSeq: string | null;
  merger: WindowMergerState;
  series: SeriesJson[];
  scores: [key: string, score: number, low: number, high: number, alerting: number][];
  dedupe: AlertDedupeSnapshot | null;
}

/**
 * A fresh shard state.
 *
 * @example
 * const state = newDetectShardState(config.window);
 */
export function newDetectShardState(config: WindowConfig): DetectShardState {
  return {
    version: 0,
    lastSeq: null,
    merger: new WindowMerger(config),
    series: new Map(),
    scores: new Map(),
    dedupe: undefined,
  };
}

/**
 * The scoring state of a series, created on first use.
 *
 * @example
 * const s = seriesScoring(state, 'checkout', { service: 'checkout', window_ms: '10000' });
 */
export function seriesScoring(
  state: DetectShardState,
  key: string,
  dimensions: Record<string, string>,
): SeriesScoring {
  let s = state.series.get(key);
  if (s === undefined) {
    s = {
      key,
      dimensions,
      lastScoredStartMs: Number.NEGATIVE_INFINITY,
      lastDataStartMs: Number.NEGATIVE_INFINITY,
      detectors: new Map(),
      alerts: new Map(),
    };
    state.series.set(key, s);
  }
  return s;
}

/**
 * The detector of one series·metric, created on first use.
 *
 * @example
 * detectorOf(series, 'error_rate', 'default').update(windowStartMs, 0.02);
 */
export function detectorOf(s: SeriesScoring, metric: string, kind: DetectorKindName): Detector {
  let d = s.detectors.get(metric);
  if (d === undefined) {
    d = createDetector(kind);
    s.detectors.set(metric, d);
  }
  return d;
}

/**
 * The alert-decision state of one series·metric, created on first use.
 *
 * @example
 * decideAlert(alertStateOf(series, 'error_rate'), rule, input);
 */
export function alertStateOf(s: SeriesScoring, metric: string): AlertState {
  let a = s.alerts.get(metric);
  if (a === undefined) {
    a = newAlertState();
    s.alerts.set(metric, a);
  }
  return a;
}

function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

function orNegInf(v: number | null | undefined): number {
  return typeof v === 'number' ? v : Number.NEGATIVE_INFINITY;
}

/**
 * Serializes a shard state (JSON bytes; the blob store compresses).
 *
 * @example
 * await blobs.save(ref, state.version + 1, encodeDetectState(state));
 */
export function encodeDetectState(state: DetectShardState): Uint8Array {
  const series: SeriesJson[] = [];
  for (const s of state.series.values()) {
    series.push({
      key: s.key,
      dims: s.dimensions,
      lastScored: finiteOrNull(s.lastScoredStartMs),
      lastData: finiteOrNull(s.lastDataStartMs),
      detectors: [...s.detectors].map(([m, d]) => [m, Buffer.from(d.saveState()).toString('base64')]),
      alerts: [...s.alerts].map(([m, a]) => [m, { ...a, lastAlertMs: finiteOrNull(a.lastAlertMs) }]),
    });
  }
  const json: DetectStateJson = {
    v: 1,
    lastSeq: state.lastSeq,
    merger: state.merger.toState(),
    series,
    scores: [...state.scores].map(([k, w]) => [k, w.score, w.expectedLow, w.expectedHigh, w.alerting]),
    dedupe: state.dedupe ?? null,
  };
  return Buffer.from(JSON.stringify(json), 'utf8');
}

/**
 * Restores a shard state written by {@link encodeDetectState}.
 * @throws CheckpointError when the bytes are not a detect checkpoint.
 * @example
 * const state = decodeDetectState(blob.data, blob.version, config.window);
 */
export function decodeDetectState(
  bytes: Uint8Array,
  version: number,
  config: WindowConfig,
): DetectShardState {
  let json: DetectStateJson;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8')) as DetectStateJson;
  } catch (err) {
    throw new CheckpointError('detect state is not JSON', { cause: err });
  }
  if (json?.v !== 1 || !Array.isArray(json.series) || !Array.isArray(json.scores)) {
    throw new CheckpointError('detect state does not have {v:1, merger, series, scores}');
  }
  const merger = WindowMerger.fromState(config, json.merger);
  if (merger.kind === 'invalid') throw new CheckpointError(`detect state: ${merger.problems.join('; ')}`);
  const state: DetectShardState = {
    version,
    lastSeq: typeof json.lastSeq === 'string' ? json.lastSeq : null,
    merger: merger.value,
    series: new Map(),
    scores: new Map(),
    dedupe: json.dedupe ?? undefined,
  };
  try {
    for (const sj of json.series) {
      const s = seriesScoring(state, sj.key, sj.dims);
      s.lastScoredStartMs = orNegInf(sj.lastScored);
      s.lastDataStartMs = orNegInf(sj.lastData);
      for (const [m, b64] of sj.detectors) s.detectors.set(m, restoreDetector(Buffer.from(b64, 'base64')));
      for (const [m, a] of sj.alerts) s.alerts.set(m, { ...a, lastAlertMs: orNegInf(a.lastAlertMs) });
    }
  } catch (err) {
    throw new CheckpointError(`detect state: ${(err as Error).message}`, { cause: err });
  }
  for (const [k, score, low, high, alerting] of json.scores) {
    state.scores.set(k, { score, expectedLow: low, expectedHigh: high, alerting });
  }
  return state;
}
