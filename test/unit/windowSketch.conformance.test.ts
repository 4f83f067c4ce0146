/**
 * Conformance of our DDSketch store (`QuantileSketch`) with the reference implementation,
 * `@datadog/sketches-js`: same key mapping, same quantile rule, same merge result. We keep our own
 * store for its encoding and memory (bench/windows.bench.ts); the library stays the reference here.
 */
import { DDSketch } from '@datadog/sketches-js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QuantileSketch } from '../../processors/transforms/window/sketch.ts';

const QS = [0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];
// Within the bin limit (the library's DDSketch never collapses; ours does beyond MAX_SKETCH_BINS).
const latency = fc.oneof(fc.constant(0), fc.double({ min: 0.001, max: 600_000, noNaN: true }));

describe('QuantileSketch conforms to @datadog/sketches-js DDSketch', () => {
  it('gives the same quantiles as the library for the same values', () => {
    fc.assert(
      fc.property(
        fc.array(latency, { minLength: 1, maxLength: 400 }),
        fc.constantFrom(0.01, 0.02, 0.005),
        (values, alpha) => {
          // Prepare
          const ours = new QuantileSketch(alpha);
          const ref = new DDSketch({ relativeAccuracy: alpha });
          // Act
          for (const v of values) {
            ours.accept(v);
            ref.accept(v);
          }
          // Assess
          expect(ours.count).toBe(ref.count);
          expect(ours.min).toBe(ref.min);
          expect(ours.max).toBe(ref.max);
          for (const q of QS) expect(ours.quantile(q)).toBe(ref.getValueAtQuantile(q));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('merges like the library', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(latency, { maxLength: 100 }), { minLength: 1, maxLength: 6 }),
        (parts) => {
          // Prepare
          const ours = new QuantileSketch(0.01);
          const ref = new DDSketch({ relativeAccuracy: 0.01 });
          // Act
          for (const part of parts) {
            const a = new QuantileSketch(0.01);
            const b = new DDSketch({ relativeAccuracy: 0.01 });
            for (const v of part) {
              a.accept(v);
              b.accept(v);
            }
            ours.merge(QuantileSketch.decode(a.encode()));
            ref.merge(b);
          }
          // Assess
          expect(ours.count).toBe(ref.count);
          for (const q of QS) {
            const r = ref.getValueAtQuantile(q);
            if (Number.isNaN(r)) expect(ours.quantile(q)).toBeNaN();
            else expect(ours.quantile(q)).toBe(r);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('maps every value to the library key', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-6, max: 1e9, noNaN: true }), (v) => {
        const ours = new QuantileSketch(0.01);
        const ref = new DDSketch({ relativeAccuracy: 0.01 });
        expect(ours.key(v)).toBe(ref.mapping.key(v));
        expect(ours.value(ours.key(v))).toBe(ref.mapping.value(ref.mapping.key(v)));
      }),
      { numRuns: 500 },
    );
  });
});
