import type { Detector, DetectorOutput } from './detector.ts';
import { DetectorKind } from './detector.ts';
import { StateReader, StateWriter } from './stateCodec.ts';

/** Checkpoint layout version: 2 = 48 half-hour daily buckets (version 1 had 288 five-minute ones). */
const VERSION = 2;

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
/**
 * Time-of-day buckets (30 min each) and hour-of-week buckets. Seasonality is keyed by event time, not by
 * point index, so the same tables serve a 10 s series and a 1 h series, and gaps do not shift the phase.
 *
 * Why 30 minutes: a bucket learns from the mean of each visit, so its noise shrinks with the points per
 * visit — one point per visit with 5 min buckets and 5 min data (the common CloudWatch cadence), which
 * made the daily forecast as noisy as the data itself; six with 30 min buckets. Shape inside a bucket is
 * followed by the fast offset. (Bias–variance of the profile resolution; on the dev set 24–96 buckets all
 * beat 288, see docs/detection.md.)
 */
const DAY_BUCKETS = 48;
const WEEK_BUCKETS = 168;
/** Recent raw values kept for the robust (median) level model. */
const RECENT = 32;
/** Forecasting models: 0 = median of recent values, 1 = offset + daily profile, 2 = offset + weekly profile. */
const MODELS = 3;
/** Score channels: 0 = point residual, 1 = median of the last 5 residuals (sustained deviation). */
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
  /** Smoothing of a seasonal bucket, once per visit of that bucket (≈ 4 periods of memory). */
  readonly seasonalAlpha: number;
  /** Smoothing of the daily and weekly models' offsets (value − profile). */
  readonly levelAlpha: number;
  /** Smoothing of each model's mean absolute error (which model wins, and the residual scale). */
  readonly errorAlpha: number;
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
  /** Score at which the detector considers it has raised an alarm (= the score of a p ≈ 1/400 surprise). */
  readonly alarmScore: number;
  /** Points after an alarm during which scores are halved (one alarm per incident). */
  readonly suppressPoints: number;
  /** A score this much above the alarm's own re-alarms during suppression (the incident got worse). */
  readonly escalation: number;
  /** Forecast errors are capped at this many scales before the error and scale estimates learn them. */
  readonly errorCap: number;
}

export const DEFAULT_DETECTOR_OPTIONS: DefaultDetectorOptions = {
  seasonalAlpha: 0.25,
  levelAlpha: 0.1,
  errorAlpha: 0.02,
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

/** Median of the first `n` items of `src`: insertion sort into `scratch` (n ≤ 32; no allocation). */
function median(src: Float64Array, n: number, scratch: Float64Array): number {
  for (let i = 0; i < n; i++) {
    const v = src[i]!;
    let j = i - 1;
    while (j >= 0 && scratch[j]! > v) {
      scratch[j + 1] = scratch[j]!;
      j--;
    }
    scratch[j + 1] = v;
  }
  const h = n >> 1;
  return n % 2 === 1 ? scratch[h]! : 0.5 * (scratch[h - 1]! + scratch[h]!);
}

/** Median of a sorted prefix of length `n`. */
function sortedMedian(sorted: Float64Array, n: number): number {
  const h = n >> 1;
  return n % 2 === 1 ? sorted[h]! : 0.5 * (sorted[h - 1]! + sorted[h]!);
}

/**
 * Replaces `out` by `inp` in the sorted prefix `sorted[0..n)` (or inserts `inp` when `n` grows: pass
 * `out = NaN`). O(n) shifts, no allocation: the recent-level median costs ~32 moves per point.
 */
function sortedReplace(sorted: Float64Array, n: number, out: number, inp: number): void {
  let len = n;
  if (!Number.isNaN(out)) {
    let i = 0;
    while (i < len && sorted[i] !== out) i++;
    for (; i < len - 1; i++) sorted[i] = sorted[i + 1]!;
    len--;
  }
  let j = len - 1;
  while (j >= 0 && sorted[j]! > inp) {
    sorted[j + 1] = sorted[j]!;
    j--;
  }
  sorted[j + 1] = inp;
}

/**
 * The default detector. Per point, in order:
 *
 * 1. **Forecast.** Three models compete online: the median of the last 32 values (robust level), a daily
 *    profile (48 half-hour buckets keyed by event time) plus a fast offset, and a weekly profile
 *    (168 hour-of-week buckets) plus its offset. The one with the lowest recent mean absolute error wins,
 *    seasonal ones once they have seen a full period — the series says whether it is seasonal, and no
 *    period is assumed in points, so 10 s and 1 h windows and gaps all work.
 * 2. **Residual scale.** The winner's recent mean absolute error, never below what this time of day usually
 *    shows (a per-bucket error profile: busy hours are noisier). Errors are winsorised at 2 scales before
 *    they are learned, and models learn from values clipped to forecast ± 3 scales (robust Holt–Winters,
 *    Gelper, Fried & Croux 2010), so an incident barely teaches the models that it is normal. A profile
 *    that has no forecast for a bucket yet (its first period) learns the raw value: there is nothing to
 *    clip around, and clipping around another model's forecast would bake that model's error into it.
 * 3. **Surprise.** Two channels: the point residual |z| (spikes) and the median |z| of the last 5 points
 *    (level shifts, missing peaks). Each channel's tail is learned per series by peaks over threshold —
 *    exceedance rate λ above a start u and mean excess β, the shape-0 case of SPOT (Siffer et al.,
 *    KDD 2017) — giving a calibrated surprise −ln p = −ln λ + (z − u)/β that means the same on every series.
 *    Residuals beyond 10 scales grow logarithmically, so flat-between-spikes series cannot swamp the rest.
 * 4. **Score.** `s / (s + 6)` of the larger surprise: 0.5 at p ≈ 1/400. After an alarm (score ≥ 0.5) the
 *    next 10 points are halved unless they escalate, so an incident raises one alarm, not one per point.
 *
 * State is ~1.7 KB (serialised), cost ~1 µs per point warm.
 *
 * @example
 * const d = new DefaultDetector();
 * for (const [t, v] of points) if (d.update(t, v).score > 0.5) console.log('anomaly at', t);
 */
export class DefaultDetector implements Detector {
  readonly kind = 'default' as const;
  private readonly out: DetectorOutput = {
    score: 0,
    rawScore: 0,
    expected: 0,
    expectedLow: 0,
    expectedHigh: 0,
  };
  private readonly o: DefaultDetectorOptions;
  private readonly scratch = new Float64Array(SUSTAINED);
  /** The recent values, sorted (derived from `recent`; rebuilt on restore, not stored). */
  private recentSorted = new Float64Array(RECENT);

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
  /** Seasonal profiles: mean value per bucket over previous periods; NaN = bucket not seen yet. */
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
      this.out.rawScore = 0;
      return this.out;
    }
    if (this.count === 0) this.firstTimeMs = timeMs;
    const nRecent = Math.min(this.count, RECENT);
    const predRecent = nRecent > 0 ? sortedMedian(this.recentSorted, nRecent) : value;
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
    out.rawScore = score;
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
    // `+ 0` turns −0 into 0: a restored detector's profiles can produce −0 where a warm one has 0.
    out.expected = pred + 0;
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
    // ever uses previous periods (with 10 s points a 30 min bucket gets 180 points per visit). Until a
    // profile can forecast this bucket it learns the raw value: the clip above is around the forecast of
    // whichever model won (at first the recent median), and learning a daily peak clipped to "the night's
    // level + 3 scales" left the profile unable to expect its own peak for several periods.
    const acc = this.acc;
    acc[1]! += dailyReady ? cleaned : value;
    acc[2]! += 1;
    acc[4]! += weeklyReady ? cleaned : value;
    acc[5]! += 1;
    if (dailyReady) {
      acc[7]! += Math.min(Math.abs(d), cap);
      acc[8]! += 1;
    }
    sortedReplace(
      this.recentSorted,
      nRecent,
      nRecent < RECENT ? Number.NaN : this.recent[this.recentHead]!,
      value,
    );
    this.recent[this.recentHead] = value;
    this.recentHead = (this.recentHead + 1) % RECENT;
    this.count++;
    return out;
  }

  saveState(): Uint8Array {
    const o = this.o;
    const w = new StateWriter(DetectorKind.default, VERSION, 2048);
    w.f64(o.seasonalAlpha);
    w.f64(o.levelAlpha);
    w.f64(o.errorAlpha);
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
    const n = Math.min(d.count, RECENT);
    d.recentSorted.set(d.recent.subarray(0, n));
    d.recentSorted.subarray(0, n).sort();
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
