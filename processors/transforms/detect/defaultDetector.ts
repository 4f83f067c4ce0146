import type { Detector, DetectorOutput } from './detector.ts';
import { DetectorKind } from './detector.ts';
import { upperTail } from './normal.ts';
import { StateReader, StateWriter } from './stateCodec.ts';

const VERSION = 1;

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
/** Time-of-day buckets: 5 min each. Period-agnostic in points: a 10 s or a 1 h series uses the same table. */
const DAY_BUCKETS = 288;
/** Hour-of-week buckets. */
const WEEK_BUCKETS = 168;
/** Recent raw values kept for the robust (median) level. */
const RECENT = 32;
/** Models: 0 = robust recent level, 1 = level + daily profile, 2 = level + weekly profile. */
const MODELS = 3;

/** Tunables of the default detector. One set for every series: no per-series tuning. */
export interface DefaultDetectorOptions {
  /** Smoothing of the seasonal profile per bucket (one update per visit of the bucket). */
  readonly seasonalAlpha: number;
  /** Smoothing of the level of the seasonal models. */
  readonly levelAlpha: number;
  /** Smoothing of each model's mean absolute error (which model wins, and the residual scale). */
  readonly errorAlpha: number;
  /** Short average of surprise (points). */
  readonly shortAlpha: number;
  /** Long average and variance of the short-average surprise. */
  readonly longAlpha: number;
  /** Points before any score is emitted. */
  readonly warmupPoints: number;
}

export const DEFAULT_DETECTOR_OPTIONS: DefaultDetectorOptions = {
  seasonalAlpha: 0.25,
  levelAlpha: 0.1,
  errorAlpha: 0.02,
  shortAlpha: 0.3,
  longAlpha: 0.005,
  warmupPoints: 30,
};

/** Median of the first `n` items of `src`, using `scratch` (length ≥ n) for sorting. */
function median(src: Float64Array, n: number, scratch: Float64Array): number {
  for (let i = 0; i < n; i++) scratch[i] = src[i]!;
  const view = scratch.subarray(0, n);
  view.sort();
  const h = n >> 1;
  return n % 2 === 1 ? view[h]! : 0.5 * (view[h - 1]! + view[h]!);
}

/**
 * The default detector: robust forecasting models compete online, the residual of the best one is
 * turned into a surprise, and an anomaly likelihood over recent surprises gives the score.
 *
 * @example
 * const d = new DefaultDetector();
 * for (const [t, v] of points) if (d.update(t, v).score > 0.5) console.log('anomaly at', t);
 */
export class DefaultDetector implements Detector {
  readonly kind = 'default' as const;
  private readonly out: DetectorOutput = { score: 0, expected: 0, expectedLow: 0, expectedHigh: 0 };
  private readonly o: DefaultDetectorOptions;
  private readonly scratch = new Float64Array(RECENT);

  private count = 0;
  private firstTimeMs = 0;
  private recent = new Float64Array(RECENT);
  private recentHead = 0;
  private level = 0;
  private daily = new Float32Array(DAY_BUCKETS);
  private dailySeen = new Float32Array(DAY_BUCKETS);
  private weekly = new Float32Array(WEEK_BUCKETS);
  private weeklySeen = new Float32Array(WEEK_BUCKETS);
  private modelErr = new Float64Array(MODELS);
  private shortSurprise = 0;
  private longMean = 1;
  private longVar = 0.1;

  constructor(options: DefaultDetectorOptions = DEFAULT_DETECTOR_OPTIONS) {
    this.o = options;
  }

  update(timeMs: number, value: number): Readonly<DetectorOutput> {
    const o = this.o;
    const out = this.out;
    if (this.count === 0) {
      this.firstTimeMs = timeMs;
      this.level = value;
    }
    const nRecent = Math.min(this.count, RECENT);
    const recentLevel = nRecent > 0 ? median(this.recent, nRecent, this.scratch) : value;
    const dayBucket = Math.floor((((timeMs % DAY_MS) + DAY_MS) % DAY_MS) / (DAY_MS / DAY_BUCKETS));
    const weekBucket = Math.floor((((timeMs % WEEK_MS) + WEEK_MS) % WEEK_MS) / (WEEK_MS / WEEK_BUCKETS));
    const spanMs = timeMs - this.firstTimeMs;
    const dailyReady = spanMs >= DAY_MS && this.dailySeen[dayBucket]! > 0;
    const weeklyReady = spanMs >= WEEK_MS && this.weeklySeen[weekBucket]! > 0;
    const predRecent = recentLevel;
    const predDaily = dailyReady ? this.level + this.daily[dayBucket]! : predRecent;
    const predWeekly = weeklyReady ? this.level + this.weekly[weekBucket]! : predDaily;

    // Pick the model with the lowest recent mean absolute error (seasonal ones only once they have seen
    // a full period): the series tells us whether it is seasonal, no period is assumed in points.
    let best = 0;
    if (dailyReady && this.modelErr[1]! < this.modelErr[best]!) best = 1;
    if (weeklyReady && this.modelErr[2]! < this.modelErr[best]!) best = 2;
    const pred = best === 0 ? predRecent : best === 1 ? predDaily : predWeekly;
    const mad = this.modelErr[best]!;
    // Scale floor: relative to the magnitude so a flat series is not infinitely sensitive to rounding.
    const scale = Math.max(mad * 1.2533, 1e-9 * Math.max(1, Math.abs(pred)));
    const err = value - pred;
    const z = Math.abs(err) / scale;

    // Surprise −ln p with p the two-sided normal tail: exponential(1) when the model is right.
    const p = Math.max(2 * upperTail(z), 1e-300);
    const surprise = this.count < o.warmupPoints ? 1 : -Math.log(p);
    this.shortSurprise += o.shortAlpha * (surprise - this.shortSurprise);
    const sd = Math.sqrt(this.longVar);
    const t = (this.shortSurprise - this.longMean) / Math.max(sd, 0.05);
    const tail = upperTail(t);
    let score = Math.min(1, Math.max(0, -Math.log10(tail + 1e-12) / 12));
    if (this.count < o.warmupPoints) score = 0;
    out.score = score;
    out.expected = pred;
    out.expectedLow = pred - 3 * scale;
    out.expectedHigh = pred + 3 * scale;

    // Learn. Errors are clipped at 5 scales so an incident does not blow up the scale estimates.
    const lim = 5 * scale;
    const clip = (e: number) => (e > lim ? lim : e < -lim ? -lim : e);
    const eRecent = Math.abs(clip(value - predRecent));
    const eDaily = Math.abs(clip(value - predDaily));
    const eWeekly = Math.abs(clip(value - predWeekly));
    if (this.count === 0) {
      this.modelErr[0] = 0;
      this.modelErr[1] = 0;
      this.modelErr[2] = 0;
    } else {
      const a = Math.max(o.errorAlpha, 1 / (this.count + 1));
      this.modelErr[0]! += a * (eRecent - this.modelErr[0]!);
      this.modelErr[1]! += a * (eDaily - this.modelErr[1]!);
      this.modelErr[2]! += a * (eWeekly - this.modelErr[2]!);
    }
    const dSeen = this.dailySeen[dayBucket]!;
    const dDev = value - this.level;
    this.daily[dayBucket] =
      dSeen > 0 ? this.daily[dayBucket]! + o.seasonalAlpha * (dDev - this.daily[dayBucket]!) : dDev;
    this.dailySeen[dayBucket] = dSeen + 1;
    const wSeen = this.weeklySeen[weekBucket]!;
    this.weekly[weekBucket] =
      wSeen > 0 ? this.weekly[weekBucket]! + o.seasonalAlpha * (dDev - this.weekly[weekBucket]!) : dDev;
    this.weeklySeen[weekBucket] = wSeen + 1;
    const deseason = dailyReady ? value - this.daily[dayBucket]! : value;
    this.level += o.levelAlpha * (deseason - this.level);
    this.recent[this.recentHead] = value;
    this.recentHead = (this.recentHead + 1) % RECENT;
    if (this.count >= o.warmupPoints) {
      const la = o.longAlpha;
      const d = this.shortSurprise - this.longMean;
      this.longMean += la * d;
      this.longVar = (1 - la) * (this.longVar + la * d * d);
    }
    this.count++;
    return out;
  }

  saveState(): Uint8Array {
    const o = this.o;
    const w = new StateWriter(DetectorKind.default, VERSION, 4096);
    w.f64(o.seasonalAlpha);
    w.f64(o.levelAlpha);
    w.f64(o.errorAlpha);
    w.f64(o.shortAlpha);
    w.f64(o.longAlpha);
    w.f64(o.warmupPoints);
    w.f64(this.count);
    w.f64(this.firstTimeMs);
    w.f64(this.recentHead);
    w.f64(this.level);
    w.f64(this.shortSurprise);
    w.f64(this.longMean);
    w.f64(this.longVar);
    w.f64s(this.recent);
    w.f64s(this.modelErr);
    w.f32s(this.daily);
    w.f32s(this.dailySeen);
    w.f32s(this.weekly);
    w.f32s(this.weeklySeen);
    return w.finish();
  }

  /**
   * Restores a detector from {@link saveState} output.
   *
   * @example
   * const again = DefaultDetector.restore(d.saveState());
   */
  static restore(bytes: Uint8Array): DefaultDetector {
    const r = new StateReader(bytes, DetectorKind.default, VERSION);
    const d = new DefaultDetector({
      seasonalAlpha: r.f64(),
      levelAlpha: r.f64(),
      errorAlpha: r.f64(),
      shortAlpha: r.f64(),
      longAlpha: r.f64(),
      warmupPoints: r.f64(),
    });
    d.count = r.f64();
    d.firstTimeMs = r.f64();
    d.recentHead = r.f64();
    d.level = r.f64();
    d.shortSurprise = r.f64();
    d.longMean = r.f64();
    d.longVar = r.f64();
    d.recent = r.f64s(RECENT);
    d.modelErr = r.f64s(MODELS);
    d.daily = r.f32s(DAY_BUCKETS);
    d.dailySeen = r.f32s(DAY_BUCKETS);
    d.weekly = r.f32s(WEEK_BUCKETS);
    d.weeklySeen = r.f32s(WEEK_BUCKETS);
    return d;
  }
}
