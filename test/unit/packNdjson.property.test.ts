import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ndjsonLineBytes, packNdjson } from '../../processors/sinks/packNdjson.ts';

const enc = new TextEncoder();

describe('packNdjson properties', () => {
  it('loses, duplicates and reorders nothing, and respects every limit', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ maxLength: 300 }).map((s) => enc.encode(s.replace(/\n/g, ' '))),
          { maxLength: 400 },
        ),
        fc.integer({ min: 16, max: 2_000 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 2_000, max: 20_000 }),
        (lines, maxRecordBytes, maxBatchRecords, maxBatchBytes) => {
          // Act
          const packed = packNdjson(lines, { maxRecordBytes, maxBatchRecords, maxBatchBytes });
          // Assess: limits
          for (const batch of packed.batches) {
            expect(batch.length).toBeGreaterThan(0);
            expect(batch.length).toBeLessThanOrEqual(maxBatchRecords);
            expect(batch.reduce((n, r) => n + r.data.length, 0)).toBeLessThanOrEqual(maxBatchBytes);
            for (const r of batch) expect(r.data.length).toBeLessThanOrEqual(maxRecordBytes);
          }
          // Assess: content is the NDJSON of the non-oversized lines, in order.
          const oversized = new Set(packed.oversized);
          const expected = lines
            .filter((_, i) => !oversized.has(i))
            .map((l) => `${Buffer.from(l).toString()}\n`)
            .join('');
          const actual = Buffer.concat(packed.batches.flat().map((r) => r.data)).toString();
          expect(actual).toBe(expected);
          for (const i of packed.oversized)
            expect(ndjsonLineBytes(lines[i]!)).toBeGreaterThan(maxRecordBytes);
        },
      ),
      { numRuns: 200, seed: 20_240_601 },
    );
  });
});
