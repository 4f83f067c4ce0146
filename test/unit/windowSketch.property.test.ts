import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exactQuantile } from '../../processors/transforms/window/referenceAggregate.ts';
import { MAX_SKETCH_BINS, QuantileSketch } from '../../processors/transforms/window/sketch.ts';

const QS = [0, 0.5, 0.9, 0.99, 1];
// 1 µs … 10 min at ≥ 0.5 %: inside the bin limit, where the guarantee holds for every quantile.
const latency = fc.oneof(
  fc.double({ min: 0.001, max: 600_000, noNaN: true }),
  fc.integer({ min: 0, max: 5_000 }),
  fc.constant(0),
);

function withinRelativeError(estimate: number, exact: number, alpha: number): boolean {
  if (exact === 0) return estimate === 0;
  return Math.abs(estimate - exact) <= alpha * exact * (1 + 1e-9);
}

describe('QuantileSketch properties', () => {
  it('keeps every quantile within its relative accuracy of the exact quantile, after any split and merge', () => {
    fc.assert(
      fc.property(
        fc.array(latency, { minLength: 1, maxLength: 500 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.constantFrom(0.01, 0.02, 0.005),
        (values, cuts, alpha) => {
          // Prepare: split the values at arbitrary points into several sketches
          const points = [...new Set(cuts.map((c) => c % (values.length + 1)))].sort((a, b) => a - b);
          const bounds = [0, ...points, values.length];
          const merged = new QuantileSketch(alpha);
          // Act
          for (let i = 0; i + 1 < bounds.length; i++) {
            const part = new QuantileSketch(alpha);
            for (const v of values.slice(bounds[i], bounds[i + 1])) part.accept(v);
            merged.merge(QuantileSketch.decode(part.encode()));
          }
          // Assess
          expect(merged.count).toBe(values.length);
          for (const q of QS) {
            const exact = exactQuantile(values, q);
            const est = merged.quantile(q);
            expect(withinRelativeError(est, exact, alpha), `q=${q} exact=${exact} est=${est}`).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('computes several quantiles in one pass exactly as one at a time', () => {
    fc.assert(
      fc.property(
        fc.array(latency, { maxLength: 300 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }),
        (values, raw) => {
          const s = new QuantileSketch(0.01);
          for (const v of values) s.accept(v);
          const qs = [...raw].sort((a, b) => a - b);
          expect(s.quantiles(qs).map(String)).toEqual(qs.map((q) => String(s.quantile(q))));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('round-trips through its encoding exactly', () => {
    fc.assert(
      fc.property(fc.array(latency, { maxLength: 300 }), (values) => {
        const s = new QuantileSketch(0.01);
        for (const v of values) s.accept(v);
        const back = QuantileSketch.decode(s.encode());
        expect([back.count, back.zeroCount, back.sum, back.min, back.max]).toEqual([
          s.count,
          s.zeroCount,
          s.sum,
          s.min,
          s.max,
        ]);
        for (const q of QS) expect(Object.is(back.quantile(q), s.quantile(q))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('bounds its store by collapsing the lowest bins, keeping the count and the high quantiles', () => {
    // Prepare: values spanning far more than MAX_SKETCH_BINS keys
    const s = new QuantileSketch(0.01);
    const values: number[] = [];
    for (let e = -300; e <= 300; e += 0.25) values.push(10 ** (e / 10));
    // Act
    for (const v of values) s.accept(v);
    // Assess
    expect(s.count).toBe(values.length);
    expect(s.memoryBytes).toBeLessThanOrEqual(120 + 4 * MAX_SKETCH_BINS);
    expect(withinRelativeError(s.quantile(0.99), exactQuantile(values, 0.99), 0.01)).toBe(true);
  });

  it('ignores negative and non-finite values', () => {
    const s = new QuantileSketch(0.01);
    for (const v of [-1, Number.NaN, Number.POSITIVE_INFINITY, 5]) s.accept(v);
    expect(s.count).toBe(1);
  });
});
