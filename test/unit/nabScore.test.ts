import { describe, expect, it } from 'vitest';
import type { NabFileInput } from '../../processors/transforms/detect/nabScore.ts';
import {
  labelRows,
  NabProfiles,
  NEVER_THRESHOLD,
  probationRows,
  scaledSigmoid,
  scoreCorpus,
  scoreFile,
  sweepThreshold,
} from '../../processors/transforms/detect/nabScore.ts';

// Hand-computed with σ(y) = 2/(1+e^{5y}) − 1 (see data/anomaly-dev/README.md):
// σ(−1) = 0.98661429815143, σ(−0.5)/σ(−1) = 0.85979256690978, σ(−0.1)/σ(−1) = 0.24824154977543,
// σ(1/3) = −0.68226179023817.
const SIGMA_MINUS_1 = 0.9866142981514305;
const MIDDLE_TP = 0.8597925669097837;
const RIGHT_EDGE_TP = 0.24824154977542992;
const SIGMA_ONE_THIRD = -0.6822617902381697;

/** 100 rows at t = 0..99 ms (probation = 15 rows), one window covering rows 40..49 (width 10). */
function file(detectionRows: number[], windows: [number, number][] = [[40, 49]]): NabFileInput {
  const timestampsMs = Array.from({ length: 100 }, (_, i) => i);
  const scores = timestampsMs.map((i) => (detectionRows.includes(i) ? 1 : 0));
  return { name: 'f.csv', timestampsMs, scores, windows };
}

describe('scaledSigmoid', () => {
  it('matches the README values at the window edges and clamps far false positives to −1', () => {
    // Prepare / Act / Assess
    expect(scaledSigmoid(-1)).toBeCloseTo(SIGMA_MINUS_1, 12);
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(3)).toBe(-1);
    expect(scaledSigmoid(1 / 3)).toBeCloseTo(SIGMA_ONE_THIRD, 12);
  });
});

describe('probationRows', () => {
  it('is min(floor(0.15 · rows), 750)', () => {
    expect(probationRows(100)).toBe(15);
    expect(probationRows(4032)).toBe(604);
    expect(probationRows(22_000)).toBe(750);
  });
});

describe('scoreFile (standard profile)', () => {
  it('a detection at the left edge of a window earns the full A_TP', () => {
    // Prepare
    const f = file([40]);
    // Act
    const r = scoreFile(f, 0.5, NabProfiles.standard);
    // Assess
    expect(r.score).toBeCloseTo(1, 12);
    expect(r.truePositives).toBe(1);
    expect(r.falsePositives).toBe(0);
  });

  it('a detection in the middle earns σ(−0.5)/σ(−1)', () => {
    const r = scoreFile(file([45]), 0.5, NabProfiles.standard);
    expect(r.score).toBeCloseTo(MIDDLE_TP, 12);
  });

  it('a detection at the right edge earns almost nothing (σ(−1/w)/σ(−1))', () => {
    const r = scoreFile(file([49]), 0.5, NabProfiles.standard);
    expect(r.score).toBeCloseTo(RIGHT_EDGE_TP, 12);
  });

  it('only the first detection in a window counts; later ones add nothing', () => {
    const r = scoreFile(file([45, 46, 49]), 0.5, NabProfiles.standard);
    expect(r.score).toBeCloseTo(MIDDLE_TP, 12);
    expect(r.falsePositives).toBe(0);
  });

  it('a missed window costs −A_FN', () => {
    const r = scoreFile(file([]), 0.5, NabProfiles.standard);
    expect(r.score).toBe(-1);
    expect(r.falseNegatives).toBe(1);
  });

  it('a false positive just after a window is cheap: A_FP · σ((i − right)/(w − 1))', () => {
    // Row 52 is 3 rows past the right edge 49 of a width-10 window: y = 3/9.
    const r = scoreFile(file([45, 52]), 0.5, NabProfiles.standard);
    expect(r.score).toBeCloseTo(MIDDLE_TP + 0.11 * SIGMA_ONE_THIRD, 12);
    expect(r.falsePositives).toBe(1);
  });

  it('a false positive far from a window costs the full −A_FP', () => {
    // Row 90: y = 41/9 ≥ 3.
    const r = scoreFile(file([45, 90]), 0.5, NabProfiles.standard);
    expect(r.score).toBeCloseTo(MIDDLE_TP - 0.11, 12);
  });

  it('a false positive before any window costs −A_FP', () => {
    const r = scoreFile(file([20]), 0.5, NabProfiles.standard);
    expect(r.score).toBeCloseTo(-1 - 0.11, 12);
  });

  it('detections inside the probation period are never counted', () => {
    const r = scoreFile(file([3, 10, 14]), 0.5, NabProfiles.standard);
    expect(r.score).toBe(-1);
    expect(r.falsePositives).toBe(0);
    expect(r.probationRows).toBe(15);
  });

  it('a window entirely inside the probation period is not counted', () => {
    const r = scoreFile(
      file(
        [],
        [
          [2, 5],
          [40, 49],
        ],
      ),
      0.5,
      NabProfiles.standard,
    );
    expect(r.windows).toBe(1);
    expect(r.score).toBe(-1);
  });

  it('the first row after probation is scored', () => {
    const r = scoreFile(file([15]), 0.5, NabProfiles.standard);
    expect(r.score).toBeCloseTo(-0.11 - 1, 12);
  });
});

describe('profiles', () => {
  it('reward-low-FP doubles the false-positive weight; reward-low-FN doubles the miss cost', () => {
    const f = file([20]);
    expect(scoreFile(f, 0.5, NabProfiles.rewardLowFp).score).toBeCloseTo(-1 - 0.22, 12);
    expect(scoreFile(f, 0.5, NabProfiles.rewardLowFn).score).toBeCloseTo(-2 - 0.11, 12);
  });
});

describe('labelRows', () => {
  it('marks window rows and the unweighted σ of every row', () => {
    const l = labelRows(
      Array.from({ length: 100 }, (_, i) => i),
      [[40, 49]],
    );
    expect(l.window[39]).toBe(-1);
    expect(l.window[40]).toBe(0);
    expect(l.window[49]).toBe(0);
    expect(l.window[50]).toBe(-1);
    expect(l.sigma[40]).toBeCloseTo(1, 12);
    expect(l.sigma[20]).toBe(-1);
  });
});

describe('sweepThreshold', () => {
  it('picks the threshold with the best corpus total, sweeping every distinct score', () => {
    // Prepare: the window's row 45 scores 0.6; a far false positive at row 90 scores 0.8.
    const f = file([]);
    const scores = Array.from(f.scores);
    scores[45] = 0.6;
    scores[90] = 0.8;
    // Act: ≥0.8 → −1 − 0.11; ≥0.6 → MIDDLE_TP − 0.11; never → −1.
    const r = sweepThreshold([{ ...f, scores }], NabProfiles.standard);
    // Assess
    expect(r.threshold).toBe(0.6);
    expect(r.rawScore).toBeCloseTo(MIDDLE_TP - 0.11, 12);
  });

  it('breaks ties towards the higher threshold', () => {
    // Rows 45 and 46 both in the window: thresholds 0.7 and 0.6 give the same total (row 46 adds nothing).
    const f = file([]);
    const scores = Array.from(f.scores);
    scores[45] = 0.7;
    scores[46] = 0.6;
    const r = sweepThreshold([{ ...f, scores }], NabProfiles.standard);
    expect(r.threshold).toBe(0.7);
  });

  it('returns the never-detect threshold when silence is best', () => {
    const f = file([]);
    const scores = Array.from(f.scores);
    scores[90] = 0.9;
    const r = sweepThreshold([{ ...f, windows: [], scores }], NabProfiles.standard);
    expect(r.threshold).toBe(NEVER_THRESHOLD);
    expect(r.rawScore).toBe(0);
  });
});

describe('scoreCorpus', () => {
  it('normalises a perfect detector to 100 and a silent one to 0', () => {
    // Prepare
    const perfect = file([40]);
    const silent = { ...file([]), name: 'g.csv' };
    // Act
    const p = scoreCorpus([perfect]);
    const s = scoreCorpus([silent]);
    // Assess
    expect(p.standard.normalisedScore).toBeCloseTo(100, 9);
    expect(p.rewardLowFn.normalisedScore).toBeCloseTo(100, 9);
    expect(s.standard.normalisedScore).toBeCloseTo(0, 9);
    expect(s.standard.threshold).toBe(NEVER_THRESHOLD);
  });

  it('sums files and normalises with S_null = −windows · A_FN and S_perfect = windows · A_TP', () => {
    // Two files, one window each: one detected in the middle, one missed with a far false positive.
    const a = file([45]);
    const b = { ...file([90]), name: 'b.csv' };
    const r = scoreCorpus([a, b]);
    const raw = MIDDLE_TP - 1 - 0.11;
    expect(r.standard.rawScore).toBeCloseTo(raw, 12);
    expect(r.standard.normalisedScore).toBeCloseTo((100 * (raw + 2)) / 4, 9);
    expect(r.standard.files.map((f) => f.falsePositives)).toEqual([0, 1]);
  });
});
