import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ALERT_RULE,
  decideAlert,
  newAlertState,
} from '../../processors/transforms/detect/alertRules.ts';
import {
  createDetector,
  DETECTOR_NAMES,
  restoreDetector,
} from '../../processors/transforms/detect/createDetector.ts';
import type { DetectorKindName } from '../../processors/transforms/detect/detector.ts';

const START_MS = Date.UTC(2024, 0, 1);

/** A series: increasing (sometimes repeated) timestamps with gaps, and finite values of any sign and scale. */
const series = fc
  .record({
    scale: fc.constantFrom(1e-6, 1, 1e3, 1e9),
    points: fc.array(
      fc.record({
        stepMs: fc.oneof(fc.constant(10_000), fc.constant(300_000), fc.integer({ min: 0, max: 86_400_000 })),
        value: fc.double({ min: -1000, max: 1000, noNaN: true, noDefaultInfinity: true }),
      }),
      { minLength: 1, maxLength: 400 },
    ),
  })
  .map(({ scale, points }) => {
    let t = START_MS;
    return points.map((p) => {
      t += p.stepMs;
      return { timeMs: t, value: p.value * scale };
    });
  });

const detectorName = fc.constantFrom<DetectorKindName>(...DETECTOR_NAMES);

function scoreAll(kind: DetectorKindName, pts: { timeMs: number; value: number }[]) {
  const d = createDetector(kind);
  return pts.map((p) => ({ ...d.update(p.timeMs, p.value) }));
}

describe('detector properties', () => {
  it('scores are in [0, 1] and expected ranges are ordered', () => {
    fc.assert(
      fc.property(detectorName, series, (kind, pts) => {
        for (const o of scoreAll(kind, pts)) {
          expect(o.score).toBeGreaterThanOrEqual(0);
          expect(o.score).toBeLessThanOrEqual(1);
          expect(o.expectedLow).toBeLessThanOrEqual(o.expectedHigh);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('is deterministic: the same input gives the same outputs', () => {
    fc.assert(
      fc.property(detectorName, series, (kind, pts) => {
        expect(scoreAll(kind, pts)).toEqual(scoreAll(kind, pts));
      }),
      { numRuns: 100 },
    );
  });

  it('state round-trips: a restored detector continues with identical outputs', () => {
    fc.assert(
      fc.property(detectorName, series, fc.double({ min: 0, max: 1, noNaN: true }), (kind, pts, at) => {
        // Prepare
        const cut = Math.floor(at * pts.length);
        const straight = createDetector(kind);
        const before = createDetector(kind);
        for (let i = 0; i < cut; i++) {
          straight.update(pts[i]!.timeMs, pts[i]!.value);
          before.update(pts[i]!.timeMs, pts[i]!.value);
        }
        // Act
        const restored = restoreDetector(before.saveState());
        // Assess
        expect(restored.kind).toBe(kind);
        for (let i = cut; i < pts.length; i++) {
          const a = { ...straight.update(pts[i]!.timeMs, pts[i]!.value) };
          const b = { ...restored.update(pts[i]!.timeMs, pts[i]!.value) };
          expect(b).toEqual(a);
        }
        expect(restored.saveState()).toEqual(straight.saveState());
      }),
      { numRuns: 100 },
    );
  });

  it('a constant series never alerts', () => {
    fc.assert(
      fc.property(
        detectorName,
        fc.double({ min: -1e9, max: 1e9, noNaN: true }),
        fc.integer({ min: 1, max: 3000 }),
        fc.constantFrom(10_000, 60_000, 300_000, 3_600_000),
        (kind, value, n, stepMs) => {
          const d = createDetector(kind);
          const state = newAlertState();
          for (let i = 0; i < n; i++) {
            const out = d.update(START_MS + i * stepMs, value);
            const event = decideAlert(state, DEFAULT_ALERT_RULE, {
              service: 's',
              metric: 'error_rate',
              windowStartMs: START_MS + i * stepMs,
              windowEndMs: START_MS + (i + 1) * stepMs,
              value,
              eventCount: 1000,
              detector: out,
            });
            expect(event).toBeUndefined();
            expect(out.score).toBe(0);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a non-finite value scores 0 and does not change the state', () => {
    fc.assert(
      fc.property(
        detectorName,
        series,
        fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY),
        (kind, pts, bad) => {
          const d = createDetector(kind);
          for (const p of pts) d.update(p.timeMs, p.value);
          const state = d.saveState();
          expect(d.update(pts.at(-1)!.timeMs + 1, bad).score).toBe(0);
          expect(d.saveState()).toEqual(state);
        },
      ),
      { numRuns: 50 },
    );
  });
});
