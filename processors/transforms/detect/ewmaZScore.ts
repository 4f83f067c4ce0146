import type { Detector, DetectorOutput } from './detector.ts';
import { DetectorKind } from './detector.ts';
import { twoSidedTail } from './normal.ts';
import { StateReader, StateWriter } from './stateCodec.ts';

const VERSION = 1;

/** Settings of {@link EwmaZScoreDetector}. */
export interface EwmaZScoreOptions {
  /** Smoothing factor of the exponentially weighted mean and variance (effective memory ≈ 2/α points). */
  readonly alpha: number;
  /** Points before the detector scores anything. */
  readonly warmupPoints: number;
}

export const EWMA_Z_SCORE_DEFAULTS: EwmaZScoreOptions = { alpha: 0.02, warmupPoints: 30 };

/**
 * Baseline: exponentially weighted mean and variance (West 1979 incremental form); the score is
 * `1 − P(|Z| ≥ |z|)` of the value against the estimate before it was seen. 32 bytes of state.
 *
 * @example
 * const d = new EwmaZScoreDetector();
 * d.update(0, 1).score; // 0 during warm-up
 */
export class EwmaZScoreDetector implements Detector {
  readonly kind = 'ewma' as const;
  private readonly out: DetectorOutput = {
    score: 0,
    rawScore: 0,
    expected: 0,
    expectedLow: 0,
    expectedHigh: 0,
  };
  private readonly alpha: number;
  private readonly warmupPoints: number;
  private count = 0;
  private mean = 0;
  private variance = 0;

  constructor(options: EwmaZScoreOptions = EWMA_Z_SCORE_DEFAULTS) {
    this.alpha = options.alpha;
    this.warmupPoints = options.warmupPoints;
  }

  update(timeMs: number, value: number): Readonly<DetectorOutput> {
    // A missing or non-finite value (NaN from a 0/0 rate) is not evidence: score 0, state untouched.
    if (!Number.isFinite(value) || !Number.isFinite(timeMs)) {
      this.out.score = 0;
      this.out.rawScore = 0;
      return this.out;
    }
    const out = this.out;
    const sd = Math.sqrt(this.variance);
    out.expected = this.count > 0 ? this.mean : value;
    out.expectedLow = out.expected - 3 * sd;
    out.expectedHigh = out.expected + 3 * sd;
    if (this.count < this.warmupPoints) out.score = 0;
    // Rounding: a spread below 1e-9 of the magnitude means "constant" (a flat series never scores).
    else if (sd <= 1e-9 * Math.abs(this.mean)) {
      out.score = Math.abs(value - this.mean) <= 1e-9 * Math.abs(this.mean) ? 0 : 1;
    } else out.score = 1 - twoSidedTail((value - this.mean) / sd);
    out.rawScore = out.score; // never damped
    if (this.count === 0) {
      this.mean = value;
    } else {
      // During warm-up use 1/n so the first values are averaged, not dominated by the first one.
      const a = Math.max(this.alpha, 1 / (this.count + 1));
      const diff = value - this.mean;
      const incr = a * diff;
      this.mean += incr;
      this.variance = (1 - a) * (this.variance + diff * incr);
    }
    this.count++;
    return out;
  }

  saveState(): Uint8Array {
    const w = new StateWriter(DetectorKind.ewma, VERSION, 48);
    w.f64(this.alpha);
    w.f64(this.warmupPoints);
    w.f64(this.count);
    w.f64(this.mean);
    w.f64(this.variance);
    return w.finish();
  }

  /**
   * Restores a detector from {@link saveState} output.
   *
   * @example
   * const again = EwmaZScoreDetector.restore(d.saveState());
   */
  static restore(bytes: Uint8Array): EwmaZScoreDetector {
    const r = new StateReader(bytes, DetectorKind.ewma, VERSION);
    const d = new EwmaZScoreDetector({ alpha: r.f64(), warmupPoints: r.f64() });
    d.count = r.f64();
    d.mean = r.f64();
    d.variance = r.f64();
    return d;
  }
}
