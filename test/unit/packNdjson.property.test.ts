import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ndjsonLineBytes, packNdjson, packNdjsonSlices } from '../../processors/sinks/packNdjson.ts';

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

  it('packs ranges of shared buffers exactly as it packs the same lines as arrays', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ maxLength: 300 }).map((s) => s.replace(/\n/g, ' ')),
          { maxLength: 200 },
        ),
        fc.array(fc.boolean(), { maxLength: 200 }),
        fc.integer({ min: 16, max: 2_000 }),
        fc.nat({ max: 5 }),
        (texts, newline, maxRecordBytes, skip) => {
          // Prepare: lines (some already newline-terminated) laid out in a few shared buffers with
          // gaps, as a decoded KPL record holds its user records between protobuf framing.
          const lines = texts.map((t, i) => enc.encode(newline[i] === true ? `${t}\n` : t));
          const buffers: Buffer[] = [];
          const starts: number[] = [];
          const ends: number[] = [];
          for (let i = 0; i < lines.length; i += 7) {
            const group = lines.slice(i, i + 7);
            const buf = Buffer.concat(group.flatMap((l) => [Buffer.from('#~'), Buffer.from(l)]));
            let at = 0;
            for (const l of group) {
              at += 2;
              buffers.push(buf);
              starts.push(at);
              ends.push(at + l.length);
              at += l.length;
            }
          }
          const from = Math.min(skip, lines.length);
          const limits = { maxRecordBytes, maxBatchRecords: 7, maxBatchBytes: 8_000 };
          // Act
          const a = packNdjson(lines.slice(from), limits);
          const b = packNdjsonSlices(buffers, starts, ends, from, lines.length, limits);
          // Assess
          expect(b.oversized).toEqual(a.oversized);
          expect(b.oversizedBytes).toEqual(a.oversizedBytes);
          expect([b.records, b.bytes, b.billedBytes]).toEqual([a.records, a.bytes, a.billedBytes]);
          expect(b.batches.map((batch) => batch.map((r) => [r.firstItem, r.endItem]))).toEqual(
            a.batches.map((batch) => batch.map((r) => [r.firstItem, r.endItem])),
          );
          expect(b.batches.flat().map((r) => Buffer.from(r.data).toString('hex'))).toEqual(
            a.batches.flat().map((r) => Buffer.from(r.data).toString('hex')),
          );
        },
      ),
      { numRuns: 200, seed: 20_240_602 },
    );
  });
});
