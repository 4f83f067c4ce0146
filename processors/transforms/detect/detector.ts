/**
 * The streaming detector contract: one value per series·window, in time order, no look-ahead.
 */

/** What a detector says about the value it was just given. */
export interface DetectorOutput {
  /**
   * Anomaly score in [0, 1]; higher = more anomalous. Detectors may damp it after an alarm so one
   * incident reads as one detection (what NAB-style scoring and `tidewatch detect` / `backtest` use).
   */
  score: number;
  /**
   * The score before any such damping. The pipeline stores and alerts on this one: alert rules dedupe
   * with their own consecutive-window, recovery and cooldown settings, and a damped score would read
   * as "back to normal" a few windows into an incident that is still going on.
   */
  rawScore: number;
  /** The value the detector expected for this window (before seeing it). */
  expected: number;
  /** Lower and upper bound of the expected range (values inside it are unremarkable). */
  expectedLow: number;
  expectedHigh: number;
}

/** Detector kinds shipped; the numeric code is the state checkpoint's kind byte. */
export const DetectorKind = {
  default: 1,
  gaussian: 2,
  ewma: 3,
} as const;
export type DetectorKindName = keyof typeof DetectorKind;

/**
 * A streaming anomaly detector for one series.
 *
 * `update` returns an object owned by the detector and overwritten by the next call (no allocation per
 * point on the hot path); copy the fields if you keep them.
 *
 * @example
 * const d = createDetector('default');
 * const { score, expectedLow, expectedHigh } = d.update(Date.now(), 42);
 * const checkpoint = d.saveState(); // Uint8Array, a few KB at most
 */
export interface Detector {
  readonly kind: DetectorKindName;
  /** Feeds one value observed in the window starting at `timeMs` (event time) and scores it. */
  update(timeMs: number, value: number): Readonly<DetectorOutput>;
  /** Serializes the full state; `restoreDetector(saveState())` continues with identical scores. */
  saveState(): Uint8Array;
}
