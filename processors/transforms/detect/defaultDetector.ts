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
/**
 * The sustained channel is the median |z| of the last 5 points: a single spike does not move it (the point
 * channel covers spikes), three deviating points out of five do — a level shift, a missing peak.
 */
const SUSTAINED = 5;
/** Residuals beyond this many scales grow only logarithmically (see `update`). */
const Z_SOFT = 10;

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
  /** Robust filtering: values are clipped to forecast ± huberK scales before the models learn from them. */
  readonly huberK: number;
  readonly alarmScore: number;
  readonly suppressPoints: number;
  readonly escalation: number;
  /** Forecast errors are capped at this many scales before the error and scale estimates learn them. */
  readonly errorCap: number;
}

export const DEFAULT_DETECTOR_OPTIONS: DefaultDetectorOptions = {
  seasonalAlpha: 0.25,
  levelAlpha: 0.1,
  errorAlpha: 0.02,
  sustainedAlpha: 0.25,
  pointTailStart: 2,
  sustainedTailStart: 1.5,
  tailRateAlpha: 0.005,
  tailExcessAlpha: 0.02,
  halfScoreSurprise: 6,
  warmupPoints: 30,
  huberK: 3,
  alarmScore: 0.5,
  suppressPoints: 10,
  escalation: 0.1,
  errorCap: 2,
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
  private lastAlarm = Number.NEGATIVE_INFINITY;
  private alarmPeak = 0;
  private recent = new Float64Array(RECENT);
  private recentZ = new Float64Array(SUSTAINED);
  /** Current bucket visits: [dayBucket, sum, n, weekBucket, sum, n, unused, |err| sum, n]. */
  private acc = new Float64Array(9).fill(-1);
  private modelErr = new Float64Array(MODELS);
  /** Per channel: exceedance rate and mean excess of the tail model. */
  private tailRate = new Float64Array(CHANNELS);
  private tailExcess = new Float64Array(CHANNELS);
  /** Seasonal profiles (deviation from the level); NaN = bucket not seen yet. */
  private daily = new Float32Array(DAY_BUCKETS).fill(Number.NaN);
  private weekly = new Float32Array(WEEK_BUCKETS).fill(Number.NaN);
  /** Mean absolute forecast error per time-of-day bucket; NaN = not seen yet. */
  private dailyErr = new Float32Array(DAY_BUCKETS).fill(Number.NaN);

  constructor(options: DefaultDetectorOptions = DEFAULT_DETECTOR_OPTIONS) {
    this.o = options;
    // Prior tail: Laplace residuals (p(|z| > u) = e^{−u}, excess mean 1), worth ~1/α points of evidence.
    this.tailRate[0] = Math.exp(-options.pointTailStart);
    this.tailRate[1] = Math.exp(-options.sustainedTailStart);
    this.tailExcess[0] = 1;
    this.tailExcess[1] = 0.5;
  }

  /** −ln p of `z` under channel `c`'s tail model (0 below the tail start). */
  private surprise(c: number, z: number, start: number): number {
    if (!(z > start)) return 0;
    return -Math.log(this.tailRate[c]!) + (z - start) / this.tailExcess[c]!;
  }

  /** Learns channel `c`'s tail (exceedance rate per point, mean excess per exceedance) from `z`. */
  private learnTail(c: number, z: number, start: number): void {
    const o = this.o;
    const exceed = z > start ? 1 : 0;
    this.tailRate[c]! += o.tailRateAlpha * (exceed - this.tailRate[c]!);
    if (exceed === 1) this.tailExcess[c]! += o.tailExcessAlpha * (z - start - this.tailExcess[c]!);
  }

  /** Folds the finished bucket visits (daily, weekly, daily error) into their profiles. */
  private fold(dayBucket: number, weekBucket: number): void {
    const acc = this.acc;
    const a = this.o.seasonalAlpha;
    if (acc[0] !== dayBucket) {
      if (acc[2]! > 0) {
        const b = acc[0]!;
        const mean = acc[1]! / acc[2]!;
        const prev = this.daily[b]!;
        this.daily[b] = Number.isNaN(prev) ? mean : prev + a * (mean - prev);
        if (acc[8]! > 0) {
          const errMean = acc[7]! / acc[8]!;
          const prevErr = this.dailyErr[b]!;
          this.dailyErr[b] = Number.isNaN(prevErr) ? errMean : prevErr + a * (errMean - prevErr);
        }
      }
      acc[0] = dayBucket;
      acc[1] = 0;
      acc[2] = 0;
      acc[7] = 0;
      acc[8] = 0;
    }
    if (acc[3] !== weekBucket) {
      if (acc[5]! > 0) {
        const b = acc[3]!;
        const mean = acc[4]! / acc[5]!;
        const prev = this.weekly[b]!;
        this.weekly[b] = Number.isNaN(prev) ? mean : prev + a * (mean - prev);
      }
      acc[3] = weekBucket;
      acc[4] = 0;
      acc[5] = 0;
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
    this.fold(dayBucket, weekBucket);
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
    // Residual scale: the winning model's recent mean absolute error, but never below what this time of
    // day usually shows (heteroscedastic series: a busy hour is noisier than a quiet one).
    const bucketErr = this.dailyErr[dayBucket]!;
    const mae = dailyReady && bucketErr > this.modelErr[best]! ? bucketErr : this.modelErr[best]!;
    const scale = Math.max(mae, floor);
    // Residual in scale units, compressed logarithmically beyond Z_SOFT: a series that is flat between
    // spikes has a tiny scale, and its spikes would otherwise be 1e12 scales away and swamp the ranking.
    const zRaw = Math.abs(value - pred) / scale;
    const z = zRaw > Z_SOFT ? Z_SOFT * (1 + Math.log(zRaw / Z_SOFT)) : zRaw;
    this.recentZ[this.count % SUSTAINED] = z;
    const nz = Math.min(this.count + 1, SUSTAINED);
    this.sustained = median(this.recentZ, nz, this.scratch);

    const s0 = this.surprise(0, z, o.pointTailStart);
    const s1 = this.surprise(1, this.sustained, o.sustainedTailStart);
    const s = Math.max(s0, s1);
    let score = this.count < o.warmupPoints ? 0 : s / (s + o.halfScoreSurprise);
    // One alarm per incident: for `suppressPoints` points after a score reached the alarm level, scores are
    // halved, so the incident's following points stay below the alarm level unless they are far worse.
    // An escalation (a score above the one that raised the alarm) is never damped and restarts the period.
    if (
      score >= o.alarmScore &&
      (this.count - this.lastAlarm > o.suppressPoints || score > this.alarmPeak + o.escalation)
    ) {
      this.lastAlarm = this.count;
      this.alarmPeak = score;
    } else if (this.count - this.lastAlarm <= o.suppressPoints) {
      score *= 0.5;
    }
    out.score = score;
    out.expected = pred;
    out.expectedLow = pred - 3 * scale;
    out.expectedHigh = pred + 3 * scale;

    // Learn. Model errors are capped at 5 scales so an incident does not blow up the scale estimates.
    if (this.count >= o.warmupPoints) {
      this.learnTail(0, z, o.pointTailStart);
      this.learnTail(1, this.sustained, o.sustainedTailStart);
    }
    const cap = o.errorCap * scale;
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
    // Robust filtering (Gelper, Fried & Croux 2010, robust Holt–Winters): the value is first pulled to
    // within k scales of the forecast, so an incident moves the level and the profiles only a little while
    // a lasting level shift is still followed (the median model takes over meanwhile).
    const k = o.huberK * scale;
    const d = value - pred;
    const cleaned = this.count < o.warmupPoints ? value : d > k ? pred + k : d < -k ? pred - k : value;
    if (dailyReady) this.level += o.levelAlpha * (cleaned - dailyDev - this.level);
    if (weeklyReady) this.weekOffset += o.levelAlpha * (cleaned - weeklyDev - this.weekOffset);
    // Seasonal profiles learn once per visit of a bucket, from the mean of that visit, so a forecast only
    // ever uses previous periods (with 10 s points a 5 min bucket gets 30 points per visit).
    const acc = this.acc;
    acc[1]! += cleaned;
    acc[2]! += 1;
    acc[4]! += cleaned;
    acc[5]! += 1;
    if (dailyReady) {
      acc[7]! += Math.min(Math.abs(d), cap);
      acc[8]! += 1;
    }
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
    w.f64(o.huberK);
    w.f64(o.alarmScore);
    w.f64(o.suppressPoints);
    w.f64(o.escalation);
    w.f64(o.errorCap);
    w.f64(this.count);
    w.f64(this.firstTimeMs);
    w.f64(this.recentHead);
    w.f64(this.level);
    w.f64(this.weekOffset);
    w.f64(this.sustained);
    w.f64(this.lastAlarm);
    w.f64(this.alarmPeak);
    w.f64s(this.recent);
    w.f64s(this.recentZ);
    w.f64s(this.acc);
    w.f64s(this.modelErr);
    w.f64s(this.tailRate);
    w.f64s(this.tailExcess);
    w.f32s(this.daily);
    w.f32s(this.weekly);
    w.f32s(this.dailyErr);
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
      huberK: r.f64(),
      alarmScore: r.f64(),
      suppressPoints: r.f64(),
      escalation: r.f64(),
      errorCap: r.f64(),
    });
    d.count = r.f64();
    d.firstTimeMs = r.f64();
    d.recentHead = r.f64();
    d.level = r.f64();
    d.weekOffset = r.f64();
    d.sustained = r.f64();
    d.lastAlarm = r.f64();
    d.alarmPeak = r.f64();
    d.recent = r.f64s(RECENT);
    d.recentZ = r.f64s(SUSTAINED);
    d.acc = r.f64s(9);
    d.modelErr = r.f64s(MODELS);
    d.tailRate = r.f64s(CHANNELS);
    d.tailExcess = r.f64s(CHANNELS);
    d.daily = r.f32s(DAY_BUCKETS);
    d.weekly = r.f32s(WEEK_BUCKETS);
    d.dailyErr = r.f32s(DAY_BUCKETS);
    return d;
  }
}
