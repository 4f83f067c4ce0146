import type { Detector, DetectorOutput } from './detector.ts';
import { DetectorKind } from './detector.ts';
import { twoSidedTail } from './normal.ts';
import { StateReader, StateWriter } from './stateCodec.ts';

const VERSION = 1;

/** Settings of {@link WindowedGaussianDetector}. */
export interface WindowedGaussianOptions {
  /** Number of most recent values the mean and standard deviation are computed over. */
  readonly windowPoints: number;
}

/** 256 points: ~21 h of 5-minute windows, 43 min of 10-second windows; 2 KB of state. */
export const WINDOWED_GAUSSIAN_DEFAULTS: WindowedGaussianOptions = { windowPoints: 256 };

/**
 * Baseline: the NAB "windowed Gaussian" detector. Each value is compared with the mean and standard
 * deviation of the previous `windowPoints` values; the score is `1 − P(|Z| ≥ |z|)`. No seasonality, no
 * adaptation beyond the sliding window. Kept as a reference point for the default detector.
 *
 * @example
 * const d = new WindowedGaussianDetector();
 * d.update(0, 1).score; // 0 during warm-up
 */
export class WindowedGaussianDetector implements Detector {
  readonly kind = 'gaussian' as const;
  private readonly out: DetectorOutput = {
    score: 0,
    rawScore: 0,
    expected: 0,
    expectedLow: 0,
    expectedHigh: 0,
  };
  private ring: Float64Array;
  private count = 0;
  private head = 0;

  constructor(options: WindowedGaussianOptions = WINDOWED_GAUSSIAN_DEFAULTS) {
    this.ring = new Float64Array(options.windowPoints);
  }

  update(timeMs: number, value: number): Readonly<DetectorOutput> {
    // A missing or non-finite value (NaN from a 0/0 rate) is not evidence: score 0, state untouched.
    if (!Number.isFinite(value) || !Number.isFinite(timeMs)) {
      this.out.score = 0;
      this.out.rawScore = 0;
      return this.out;
    }
    const n = Math.min(this.count, this.ring.length);
    // Two-pass mean/variance over the window: exact and order-independent, so a restored detector
    // reproduces scores bit for bit (running sums would drift with the history of additions).
    let mean = 0;
    for (let i = 0; i < n; i++) mean += this.ring[i]!;
    mean = n > 0 ? mean / n : value;
    let v = 0;
    for (let i = 0; i < n; i++) {
      const d = this.ring[i]! - mean;
      v += d * d;
    }
    const sd = n > 1 ? Math.sqrt(v / (n - 1)) : 0;
    const out = this.out;
    out.expected = mean;
    out.expectedLow = mean - 3 * sd;
    out.expectedHigh = mean + 3 * sd;
    if (n < 10) out.score = 0;
    // Rounding makes the mean of n equal values differ from them in the last bits: treat a spread below
    // 1e-9 of the magnitude as "constant" so a flat series never scores.
    else if (sd <= 1e-9 * Math.abs(mean)) out.score = Math.abs(value - mean) <= 1e-9 * Math.abs(mean) ? 0 : 1;
    else out.score = 1 - twoSidedTail((value - mean) / sd);
    out.rawScore = out.score; // never damped
    this.ring[this.head] = value;
    this.head = (this.head + 1) % this.ring.length;
    this.count++;
    return out;
  }

  saveState(): Uint8Array {
    const w = new StateWriter(DetectorKind.gaussian, VERSION, 16 + this.ring.length * 8);
    w.f64(this.ring.length);
    w.f64(this.count);
    w.f64(this.head);
    w.f64s(this.ring);
    return w.finish();
  }

  /**
   * Restores a detector from {@link saveState} output.
   *
   * @example
   * const again = WindowedGaussianDetector.restore(d.saveState());
   */
  static restore(bytes: Uint8Array): WindowedGaussianDetector {
    const r = new StateReader(bytes, DetectorKind.gaussian, VERSION);
    const windowPoints = r.f64();
    const d = new WindowedGaussianDetector({ windowPoints });
    d.count = r.f64();
    d.head = r.f64();
    d.ring = r.f64s(windowPoints);
    return d;
  }
}
