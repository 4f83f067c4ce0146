/**
 * The Numenta Anomaly Benchmark (NAB v1.1) scoring method: application profiles, probation period,
 * σ-weighted true and false positives, and the corpus-wide threshold sweep.
 *
 * Reference: Lavin & Ahmad, "Evaluating Real-time Anomaly Detection Algorithms — the Numenta Anomaly
 * Benchmark", ICMLA 2015, and `nab/sweeper.py` in github.com/numenta/NAB. The rules implemented here
 * are the ones written down in `data/anomaly-dev/README.md`; where the README is silent we follow
 * `sweeper.py` (documented inline):
 * - a window all of whose rows fall in the probation period is not counted at all (NAB never
 *   creates a score part for it);
 * - σ(y) is clamped to −1 for y ≥ 3 (`scaledSigmoid`); the unclamped value differs by < 1e-6.
 */

/** Weights of one NAB application profile. */
export interface NabProfile {
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
}

/** The three NAB application profiles (NAB `config/profiles.json`). */
export const NabProfiles = {
  standard: { tp: 1, fp: 0.11, fn: 1 },
  rewardLowFp: { tp: 1, fp: 0.22, fn: 1 },
  rewardLowFn: { tp: 1, fp: 0.11, fn: 2 },
} as const satisfies Record<string, NabProfile>;
export type NabProfileName = keyof typeof NabProfiles;

/** Threshold reported when the best choice is "never detect" (NAB starts its sweep at 1.1). */
export const NEVER_THRESHOLD = 1.1;

/** One scored file: row timestamps, the detector's score per row and the labeled windows. */
export interface NabFileInput {
  readonly name: string;
  /** Row timestamps in ms, file order. */
  readonly timestampsMs: ArrayLike<number>;
  /** Detector score per row, in [0, 1]. */
  readonly scores: ArrayLike<number>;
  /** Labeled anomaly windows as inclusive `[startMs, endMs]` timestamps. */
  readonly windows: ReadonlyArray<readonly [number, number]>;
}

/** Result of scoring one file at a given threshold under one profile. */
export interface NabFileResult {
  readonly name: string;
  readonly rows: number;
  readonly probationRows: number;
  /** Windows that have at least one scorable (post-probation) row. */
  readonly windows: number;
  readonly truePositives: number;
  readonly falseNegatives: number;
  readonly falsePositives: number;
  /** Raw NAB score S of this file. */
  readonly score: number;
}

/** Corpus result for one profile: the swept threshold, raw and normalised score, per-file detail. */
export interface NabProfileResult {
  readonly profile: NabProfileName;
  readonly threshold: number;
  readonly rawScore: number;
  readonly nullScore: number;
  readonly perfectScore: number;
  /** `100 · (S − S_null) / (S_perfect − S_null)`. */
  readonly normalisedScore: number;
  readonly files: NabFileResult[];
}

export type NabCorpusResult = Record<NabProfileName, NabProfileResult>;

/**
 * The NAB scaled sigmoid `σ(y) = 2 / (1 + e^{5y}) − 1`, clamped to −1 for `y ≥ 3` as in `sweeper.py`.
 *
 * @example
 * scaledSigmoid(-1); // ≈ 0.98661 (left edge of a window)
 * scaledSigmoid(0); // 0
 */
export function scaledSigmoid(y: number): number {
  if (y >= 3) return -1;
  return 2 / (1 + Math.exp(5 * y)) - 1;
}

/**
 * Probation length in rows: `min(floor(0.15 · rows), 750)`.
 *
 * @example
 * probationRows(4032); // 604
 */
export function probationRows(rows: number): number {
  return Math.min(Math.floor(0.15 * rows), 750);
}

/** Per-row scoring context of one file, independent of the profile. */
export interface NabRowLabels {
  /** Number of probation rows at the start of the file. */
  readonly probation: number;
  /** Window index per row (−1 outside every window). */
  readonly window: Int32Array;
  /**
   * Unweighted σ per row: inside a window, `σ(−(right − i + 1)/w) / σ(−1)` (TP weight before `A_TP`);
   * outside, σ of the distance past the preceding window (negative), or −1 if none precedes.
   */
  readonly sigma: Float64Array;
  /** Which windows have at least one scorable row. */
  readonly windowCounted: Uint8Array;
  readonly windowCount: number;
}

/**
 * Computes window membership and the unweighted σ of every row of one file.
 *
 * @example
 * const l = labelRows([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [[4, 6]]);
 * l.window[5]; // 0
 */
export function labelRows(
  timestampsMs: ArrayLike<number>,
  windows: ReadonlyArray<readonly [number, number]>,
): NabRowLabels {
  const n = timestampsMs.length;
  const probation = probationRows(n);
  const window = new Int32Array(n).fill(-1);
  const sigma = new Float64Array(n);
  const windowCounted = new Uint8Array(windows.length);
  // Resolve each window to the row range it covers: rows with start ≤ t ≤ end. With labels equal to row
  // timestamps (as NAB requires) this is exactly NAB's `timestamps.index(...)`.
  const left = new Int32Array(windows.length).fill(-1);
  const right = new Int32Array(windows.length).fill(-1);
  for (let w = 0; w < windows.length; w++) {
    const [startMs, endMs] = windows[w]!;
    for (let i = 0; i < n; i++) {
      const t = timestampsMs[i]!;
      if (t >= startMs && t <= endMs) {
        if (left[w] === -1) left[w] = i;
        right[w] = i;
      }
    }
  }
  for (let w = 0; w < windows.length; w++) {
    const l = left[w]!;
    const r = right[w]!;
    if (l === -1) continue;
    for (let i = l; i <= r; i++) window[i] = w;
    if (r >= probation) windowCounted[w] = 1;
  }
  const maxTp = scaledSigmoid(-1);
  let prevRight = -1;
  let prevWidth = 0;
  for (let i = 0; i < n; i++) {
    const w = window[i]!;
    if (w >= 0) {
      const r = right[w]!;
      const width = r - left[w]! + 1;
      sigma[i] = scaledSigmoid(-(r - i + 1) / width) / maxTp;
      if (i === r) {
        prevRight = r;
        prevWidth = width;
      }
    } else if (prevRight < 0) {
      sigma[i] = -1;
    } else {
      // A one-row window has width − 1 = 0: NAB divides by zero (→ ∞ → σ = −1); we say so explicitly.
      sigma[i] = prevWidth > 1 ? scaledSigmoid((i - prevRight) / (prevWidth - 1)) : -1;
    }
  }
  let windowCount = 0;
  for (let w = 0; w < windows.length; w++) windowCount += windowCounted[w]!;
  return { probation, window, sigma, windowCounted, windowCount };
}

/**
 * Scores one file at a fixed threshold (rows with `score ≥ threshold` are detections).
 *
 * @example
 * const r = scoreFile({ name: 'f', timestampsMs: ts, scores, windows }, 0.5, NabProfiles.standard);
 */
export function scoreFile(
  file: NabFileInput,
  threshold: number,
  profile: NabProfile,
  labels: NabRowLabels = labelRows(file.timestampsMs, file.windows),
): NabFileResult {
  const n = file.timestampsMs.length;
  const best = new Float64Array(file.windows.length).fill(-profile.fn);
  const detected = new Uint8Array(file.windows.length);
  let fpScore = 0;
  let falsePositives = 0;
  for (let i = labels.probation; i < n; i++) {
    if (!(file.scores[i]! >= threshold)) continue;
    const w = labels.window[i]!;
    if (w >= 0) {
      const s = labels.sigma[i]! * profile.tp;
      if (s > best[w]!) best[w] = s;
      detected[w] = 1;
    } else {
      fpScore += labels.sigma[i]! * profile.fp;
      falsePositives++;
    }
  }
  let score = fpScore;
  let truePositives = 0;
  for (let w = 0; w < file.windows.length; w++) {
    if (labels.windowCounted[w] === 0) continue;
    score += best[w]!;
    truePositives += detected[w]!;
  }
  return {
    name: file.name,
    rows: n,
    probationRows: labels.probation,
    windows: labels.windowCount,
    truePositives,
    falseNegatives: labels.windowCount - truePositives,
    falsePositives,
    score,
  };
}

/**
 * Sweeps every distinct score value over the whole corpus and returns the threshold with the best total
 * raw score (ties → the higher threshold; 1.1 = "never detect" when nothing beats silence).
 *
 * @example
 * const { threshold, rawScore } = sweepThreshold(files, NabProfiles.standard);
 */
export function sweepThreshold(
  files: readonly NabFileInput[],
  profile: NabProfile,
  labels: readonly NabRowLabels[] = files.map((f) => labelRows(f.timestampsMs, f.windows)),
): { threshold: number; rawScore: number } {
  // Flatten scorable rows of all files, with a global window id, then visit them by descending score.
  let total = 0;
  let windowBase = 0;
  const windowIds: number[] = [];
  const rowScores: number[] = [];
  const rowSigma: number[] = [];
  const windowScore: number[] = [];
  for (let f = 0; f < files.length; f++) {
    const file = files[f]!;
    const lab = labels[f]!;
    for (let w = 0; w < file.windows.length; w++) {
      windowScore.push(lab.windowCounted[w] === 1 ? -profile.fn : 0);
      if (lab.windowCounted[w] === 1) total -= profile.fn;
    }
    for (let i = lab.probation; i < file.timestampsMs.length; i++) {
      const w = lab.window[i]!;
      windowIds.push(w >= 0 ? windowBase + w : -1);
      rowScores.push(file.scores[i]!);
      rowSigma.push(lab.sigma[i]!);
    }
    windowBase += file.windows.length;
  }
  const order = Array.from(rowScores.keys()).sort((a, b) => rowScores[b]! - rowScores[a]!);
  let bestScore = total;
  let bestThreshold = NEVER_THRESHOLD;
  for (let k = 0; k < order.length; k++) {
    const idx = order[k]!;
    const w = windowIds[idx]!;
    if (w >= 0) {
      const s = rowSigma[idx]! * profile.tp;
      if (s > windowScore[w]!) {
        total += s - windowScore[w]!;
        windowScore[w] = s;
      }
    } else {
      total += rowSigma[idx]! * profile.fp;
    }
    const here = rowScores[idx]!;
    const next = k + 1 < order.length ? rowScores[order[k + 1]!]! : Number.NEGATIVE_INFINITY;
    // Evaluate only once every row with this score is in: threshold `here` includes all rows ≥ here.
    if (next !== here && total > bestScore) {
      bestScore = total;
      bestThreshold = here;
    }
  }
  return { threshold: bestThreshold, rawScore: bestScore };
}

/**
 * Scores a corpus under all three NAB profiles: threshold sweep per profile, normalised totals and
 * per-file results at the chosen threshold.
 *
 * @example
 * const result = scoreCorpus(files);
 * result.standard.normalisedScore; // e.g. 71.3
 */
export function scoreCorpus(files: readonly NabFileInput[]): NabCorpusResult {
  const labels = files.map((f) => labelRows(f.timestampsMs, f.windows));
  const windows = labels.reduce((a, l) => a + l.windowCount, 0);
  const out: Partial<NabCorpusResult> = {};
  for (const name of Object.keys(NabProfiles) as NabProfileName[]) {
    const profile = NabProfiles[name];
    const { threshold, rawScore } = sweepThreshold(files, profile, labels);
    const perfectScore = windows * profile.tp;
    const nullScore = -windows * profile.fn;
    const span = perfectScore - nullScore;
    out[name] = {
      profile: name,
      threshold,
      rawScore,
      nullScore,
      perfectScore,
      normalisedScore: span > 0 ? (100 * (rawScore - nullScore)) / span : 0,
      files: files.map((f, k) => scoreFile(f, threshold, profile, labels[k])),
    };
  }
  return out as NabCorpusResult;
}
