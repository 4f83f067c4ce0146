import type { Detector, DetectorOutput } from './detector.ts';
import { DetectorKind } from './detector.ts';
import { StateReader, StateWriter } from './stateCodec.ts';

const VERSION = 1;

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
/**
 * Time-of-day buckets (5 min each) and hour-of-week buckets. Seasonality is keyed by event time, not by
 * point index, so the same tables serve a 10 s series and a 1 h series, and gaps do not shift the phase.
 */
const DAY_BUCKETS = 288;
const WEEK_BUCKETS = 168;
/** Recent raw values kept for the robust (median) level model. */
const RECENT = 32;
/** Forecasting models: 0 = median of recent values, 1 = level + daily profile, 2 = level + weekly profile. */
const MODELS = 3;
/** Score channels: 0 = point residual, 1 = short average of residuals (sustained deviation). */
const CHANNELS = 2;

/** Tunables of the default detector. One set for every series: no per-series tuning. */
export interface DefaultDetectorOptions {
  /** Smoothing of a seasonal bucket, per visit of that bucket (≈ 4 periods of memory). */
  readonly seasonalAlpha: number;
  /** Smoothing of the deseasonalised level. */
  readonly levelAlpha: number;
  /** Smoothing of each model's mean absolute error (which model wins, and the residual scale). */
  readonly errorAlpha: number;
  /** Smoothing of the sustained-deviation channel (average of recent |z|). */
  readonly sustainedAlpha: number;
  /** Exceedance thresholds (in residual-scale units) of the point and sustained channels' tail models. */
  readonly pointTailStart: number;
  readonly sustainedTailStart: number;
  /** Smoothing of the tail models' exceedance rate (per point) and mean excess (per exceedance). */
  readonly tailRateAlpha: number;
  readonly tailExcessAlpha: number;
  /** −ln p at which the score is 0.5. */
  readonly halfScoreSurprise: number;
  /** Points before any score is emitted. */
  readonly warmupPoints: number;
}

export const DEFAULT_DETECTOR_OPTIONS: DefaultDetectorOptions = {
  seasonalAlpha: 0.25,
  levelAlpha: 0.1,
  errorAlpha: 0.02,
  sustainedAlpha: 0.25,
  pointTailStart: 2,
  sustainedTailStart: 1.5,
  tailRateAlpha: 0.005,
  tailExcessAlpha: 0.05,
  halfScoreSurprise: 10,
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
 * The default detector: three forecasting models compete online (robust recent level, daily and weekly
 * profiles keyed by event time); the residual of the currently best one, in units of its recent mean
 * absolute error, feeds two channels (the point itself and a short average, for sustained shifts); each
 * channel's tail is modelled per series by peaks over threshold (exceedance rate × exponential excess,
 * the shape-0 case of SPOT, Siffer et al., KDD 2017), giving a calibrated surprise −ln p that is
 * comparable across series; the score maps the larger surprise into [0, 1).
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
  private recentHead = 0;
  /** Offsets of the daily and weekly models (value − profile), fast EWMAs. */
  private level = 0;
  private weekOffset = 0;
  private sustained = 0;
  private recent = new Float64Array(RECENT);
  private modelErr = new Float64Array(MODELS);
  /** Per channel: exceedance rate and mean excess of the tail model. */
  private tailRate = new Float64Array(CHANNELS);
  private tailExcess = new Float64Array(CHANNELS);
  /** Seasonal profiles (deviation from the level); NaN = bucket not seen yet. */
  private daily = new Float32Array(DAY_BUCKETS).fill(Number.NaN);
  private weekly = new Float32Array(WEEK_BUCKETS).fill(Number.NaN);

  constructor(options: DefaultDetectorOptions = DEFAULT_DETECTOR_OPTIONS) {
    this.o = options;
    // Prior tail: Laplace residuals (p(|z| > u) = e^{−u}, excess mean 1), worth ~1/α points of evidence.
    this.tailRate[0] = Math.exp(-options.pointTailStart);
    this.tailRate[1] = Math.exp(-options.sustainedTailStart);
    this.tailExcess[0] = 0.35;
    this.tailExcess[1] = 0.3;
  }

  /** −ln p of `z` under channel `c`'s tail model (0 below the tail start). */
  private surprise(c: number, z: number, start: number): number {
    if (!(z > start)) return 0;
    return -Math.log(this.tailRate[c]!) + Math.log(z / start) / this.tailExcess[c]!;
  }

  /** Learns channel `c`'s tail from `z` (capped so one incident cannot swamp it). */
  private learnTail(c: number, z: number, start: number): void {
    const o = this.o;
    const exceed = z > start ? 1 : 0;
    this.tailRate[c]! += o.tailRateAlpha * (exceed - this.tailRate[c]!);
    if (exceed === 1) {
      const beta = this.tailExcess[c]!;
      const excess = Math.min(Math.log(z / start), 5 * beta);
      this.tailExcess[c] = beta + o.tailExcessAlpha * (excess - beta);
    }
  }

  update(timeMs: number, value: number): Readonly<DetectorOutput> {
    const o = this.o;
    const out = this.out;
    // A missing or non-finite value (NaN from a 0/0 rate) is not evidence: score 0, state untouched.
    if (!Number.isFinite(value) || !Number.isFinite(timeMs)) {
      this.out.score = 0;
      return this.out;
    }
    if (this.count === 0) this.firstTimeMs = timeMs;
    const nRecent = Math.min(this.count, RECENT);
    const predRecent = nRecent > 0 ? median(this.recent, nRecent, this.scratch) : value;
    const dayBucket = Math.floor((((timeMs % DAY_MS) + DAY_MS) % DAY_MS) / (DAY_MS / DAY_BUCKETS));
    const weekBucket = Math.floor((((timeMs % WEEK_MS) + WEEK_MS) % WEEK_MS) / (WEEK_MS / WEEK_BUCKETS));
    const spanMs = timeMs - this.firstTimeMs;
    const dailyDev = this.daily[dayBucket]!;
    const weeklyDev = this.weekly[weekBucket]!;
    const dailyReady = spanMs >= DAY_MS && !Number.isNaN(dailyDev);
    const weeklyReady = spanMs >= WEEK_MS && !Number.isNaN(weeklyDev);
    const predDaily = dailyReady ? dailyDev + this.level : predRecent;
    const predWeekly = weeklyReady ? weeklyDev + this.weekOffset : predDaily;

    // The model with the lowest recent mean absolute error wins (seasonal ones once they have seen a
    // full period): the series itself says whether it is seasonal; no period is assumed in points.
    let best = 0;
    if (dailyReady && this.modelErr[1]! < this.modelErr[best]!) best = 1;
    if (weeklyReady && this.modelErr[2]! < this.modelErr[best]!) best = 2;
    const pred = best === 0 ? predRecent : best === 1 ? predDaily : predWeekly;
    // Scale floor: a noiseless series would otherwise alarm on float rounding (profiles are float32).
    const floor = 1e-6 * Math.abs(pred) + 1e-12;
    const mae = this.modelErr[best]!;
    const scale = Math.max(mae, floor);
    const z = Math.abs(value - pred) / scale;
    this.sustained += o.sustainedAlpha * (z - this.sustained);

    const s0 = this.surprise(0, z, o.pointTailStart);
    const s1 = this.surprise(1, this.sustained, o.sustainedTailStart);
    const s = Math.max(s0, s1);
    out.score = this.count < o.warmupPoints ? 0 : s / (s + o.halfScoreSurprise);
    out.expected = pred;
    out.expectedLow = pred - 3 * scale;
    out.expectedHigh = pred + 3 * scale;

    // Learn. Model errors are capped at 5 scales so an incident does not blow up the scale estimates.
    if (this.count >= o.warmupPoints) {
      this.learnTail(0, z, o.pointTailStart);
      this.learnTail(1, this.sustained, o.sustainedTailStart);
    }
    const cap = 5 * scale;
    let eR = Math.abs(value - predRecent);
    let eD = Math.abs(value - predDaily);
    let eW = Math.abs(value - predWeekly);
    if (this.count > o.warmupPoints) {
      eR = Math.min(eR, cap);
      eD = Math.min(eD, cap);
      eW = Math.min(eW, cap);
    }
    if (this.count === 0) {
      this.modelErr.fill(0);
    } else {
      const a = Math.max(o.errorAlpha, 1 / (this.count + 1));
      this.modelErr[0]! += a * (eR - this.modelErr[0]!);
      this.modelErr[1]! += a * (eD - this.modelErr[1]!);
      this.modelErr[2]! += a * (eW - this.modelErr[2]!);
    }
    // Seasonal profiles hold the raw value per bucket (running mean over the first visits, then an EWMA);
    // the model adds a fast offset (EWMA of value − profile) so a level shift moves the forecast within a
    // few points while the profile keeps the shape. Offsets learn only once the profile is in use.
    if (dailyReady) this.level += o.levelAlpha * (value - dailyDev - this.level);
    if (weeklyReady) this.weekOffset += o.levelAlpha * (value - weeklyDev - this.weekOffset);
    this.daily[dayBucket] = !Number.isNaN(dailyDev) ? dailyDev + o.seasonalAlpha * (value - dailyDev) : value;
    this.weekly[weekBucket] = !Number.isNaN(weeklyDev)
      ? weeklyDev + o.seasonalAlpha * (value - weeklyDev)
      : value;
    this.recent[this.recentHead] = value;
    this.recentHead = (this.recentHead + 1) % RECENT;
    this.count++;
    return out;
  }

  saveState(): Uint8Array {
    const o = this.o;
    const w = new StateWriter(DetectorKind.default, VERSION, 2560);
    w.f64(o.seasonalAlpha);
    w.f64(o.levelAlpha);
    w.f64(o.errorAlpha);
    w.f64(o.sustainedAlpha);
    w.f64(o.pointTailStart);
    w.f64(o.sustainedTailStart);
    w.f64(o.tailRateAlpha);
    w.f64(o.tailExcessAlpha);
    w.f64(o.halfScoreSurprise);
    w.f64(o.warmupPoints);
    w.f64(this.count);
    w.f64(this.firstTimeMs);
    w.f64(this.recentHead);
    w.f64(this.level);
    w.f64(this.weekOffset);
    w.f64(this.sustained);
    w.f64s(this.recent);
    w.f64s(this.modelErr);
    w.f64s(this.tailRate);
    w.f64s(this.tailExcess);
    w.f32s(this.daily);
    w.f32s(this.weekly);
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
      sustainedAlpha: r.f64(),
      pointTailStart: r.f64(),
      sustainedTailStart: r.f64(),
      tailRateAlpha: r.f64(),
      tailExcessAlpha: r.f64(),
      halfScoreSurprise: r.f64(),
      warmupPoints: r.f64(),
    });
    d.count = r.f64();
    d.firstTimeMs = r.f64();
    d.recentHead = r.f64();
    d.level = r.f64();
    d.weekOffset = r.f64();
    d.sustained = r.f64();
    d.recent = r.f64s(RECENT);
    d.modelErr = r.f64s(MODELS);
    d.tailRate = r.f64s(CHANNELS);
    d.tailExcess = r.f64s(CHANNELS);
    d.daily = r.f32s(DAY_BUCKETS);
    d.weekly = r.f32s(WEEK_BUCKETS);
    return d;
  }
}
