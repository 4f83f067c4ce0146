import { describe, expect, it } from 'vitest';
import { DEFAULT_SCORE_THRESHOLD } from '../../processors/transforms/detect/alertRules.ts';
import {
  createDetector,
  DETECTOR_NAMES,
  restoreDetector,
} from '../../processors/transforms/detect/createDetector.ts';
import { DetectError } from '../../processors/transforms/detect/errors.ts';

const START_MS = Date.UTC(2024, 0, 1);
const STEP_MS = 300_000;
const DAY_POINTS = 288;

/** Deterministic pseudo-random normal noise (LCG + Box–Muller), so tests never flake. */
function noise(seed: number): () => number {
  let s = seed >>> 0;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

/** Daily sine around 100 with noise sd 2: `days` days of 5-minute points. */
function seasonal(days: number, seed = 1): number[] {
  const n = noise(seed);
  return Array.from(
    { length: days * DAY_POINTS },
    (_, i) => 100 + 30 * Math.sin((2 * Math.PI * i) / DAY_POINTS) + 2 * n(),
  );
}

describe('default detector', () => {
  it('flags a level shift on a noisy daily series at once, and not the noise before it', () => {
    // Prepare: 8 days, then a +25 shift (≈ 12 noise sd, within the daily range).
    const values = seasonal(10);
    const shiftAt = 8 * DAY_POINTS + 100;
    for (let i = shiftAt; i < values.length; i++) values[i]! += 25;
    const d = createDetector('default');
    // Act
    const scores = values.map((v, i) => d.update(START_MS + i * STEP_MS, v).score);
    // Assess
    const afterWarmup = scores.slice(2 * DAY_POINTS, shiftAt);
    expect(Math.max(...afterWarmup)).toBeLessThan(DEFAULT_SCORE_THRESHOLD);
    expect(Math.max(...scores.slice(shiftAt, shiftAt + 3))).toBeGreaterThanOrEqual(DEFAULT_SCORE_THRESHOLD);
  });

  it('flags a spike and keeps its expected range around the seasonal value', () => {
    const values = seasonal(6, 7);
    const at = 5 * DAY_POINTS + 40;
    values[at] = values[at]! + 40;
    const d = createDetector('default');
    let spikeOut = { score: 0, expected: 0, expectedLow: 0, expectedHigh: 0 };
    values.forEach((v, i) => {
      const o = d.update(START_MS + i * STEP_MS, v);
      if (i === at) spikeOut = { ...o };
    });
    expect(spikeOut.score).toBeGreaterThanOrEqual(DEFAULT_SCORE_THRESHOLD);
    const truth = 100 + 30 * Math.sin((2 * Math.PI * at) / DAY_POINTS);
    expect(spikeOut.expectedLow).toBeLessThan(truth);
    expect(spikeOut.expectedHigh).toBeGreaterThan(truth);
    expect(spikeOut.expectedHigh).toBeLessThan(truth + 40);
  });

  it('a gap of a day in a stable series does not alert', () => {
    const n = noise(3);
    const d = createDetector('default');
    let maxScore = 0;
    for (let i = 0; i < 4 * DAY_POINTS; i++) {
      const gapMs = i >= 2 * DAY_POINTS ? 86_400_000 : 0;
      const s = d.update(START_MS + i * STEP_MS + gapMs, 50 + n()).score;
      if (i > 300) maxScore = Math.max(maxScore, s);
    }
    expect(maxScore).toBeLessThan(DEFAULT_SCORE_THRESHOLD);
  });

  it('keeps its state within the 4 KB budget', () => {
    const d = createDetector('default');
    const values = seasonal(9);
    for (let i = 0; i < values.length; i++) d.update(START_MS + i * STEP_MS, values[i]!);
    expect(d.saveState().byteLength).toBeLessThanOrEqual(4096);
  });

  it('keeps its state under 2 KB with half-hour daily buckets (48 + 168 float32 profiles)', () => {
    // Prepare
    const d = createDetector('default');
    const values = seasonal(9);
    // Act
    for (let i = 0; i < values.length; i++) d.update(START_MS + i * STEP_MS, values[i]!);
    // Assess
    expect(d.saveState().byteLength).toBeLessThanOrEqual(2048);
  });
});

describe('restoreDetector', () => {
  it('restores every kind and rejects foreign bytes with a DetectError', () => {
    for (const kind of DETECTOR_NAMES) {
      const d = createDetector(kind);
      d.update(START_MS, 1);
      expect(restoreDetector(d.saveState()).kind).toBe(kind);
    }
    expect(() => restoreDetector(new Uint8Array([1, 2, 3, 4]))).toThrow(DetectError);
    const truncated = createDetector('default').saveState().slice(0, 40);
    expect(() => restoreDetector(truncated)).toThrow(/truncated/);
    const wrongKind = createDetector('ewma').saveState();
    wrongKind[1] = 99;
    expect(() => restoreDetector(wrongKind)).toThrow(/unknown kind 99/);
  });

  it('rejects a default-detector checkpoint of the previous layout (version 1) with a DetectError', () => {
    // Prepare: version 1 had 288 five-minute daily buckets; its bytes must not be read as version 2.
    const d = createDetector('default');
    d.update(START_MS, 1);
    const old = d.saveState();
    old[2] = 1;
    // Act / Assess
    expect(() => restoreDetector(old)).toThrow(DetectError);
    expect(() => restoreDetector(old)).toThrow(
      /version 1, expected kind 1 version 2; discard the checkpoint/,
    );
  });
});
