import { describe, expect, it } from 'vitest';
import {
  FirehoseLimits,
  firehoseBilledBytes,
  ndjsonLineBytes,
  packNdjson,
  resolvePackLimits,
} from '../../processors/sinks/packNdjson.ts';

const enc = new TextEncoder();

/** A line whose NDJSON size (with the added newline) is exactly `bytes`. */
function lineOf(bytes: number, fill = 'a'): Uint8Array {
  return enc.encode(fill.repeat(bytes - 1));
}

function concat(parts: Uint8Array[]): string {
  return Buffer.concat(parts).toString('utf8');
}

describe('firehoseBilledBytes (5 KB billing steps)', () => {
  it('rounds every record up to the next 5 KiB step, minimum one step', () => {
    // Prepare
    const cases: Array<[number, number]> = [
      [0, 5120],
      [1, 5120],
      [5119, 5120],
      [5120, 5120],
      [5121, 10_240],
      [10_240, 10_240],
      [10_241, 15_360],
      [FirehoseLimits.maxRecordBytes, 1_024_000],
    ];
    // Act / Assess
    for (const [bytes, billed] of cases) expect(firehoseBilledBytes(bytes)).toBe(billed);
  });

  it('packs 1,000 small lines into one record billed once instead of 1,000 times', () => {
    // Prepare
    const lines = Array.from({ length: 1000 }, (_, i) => enc.encode(`{"i":${i},"msg":"hello"}`));
    // Act
    const packed = packNdjson(lines);
    // Assess
    expect(packed.records).toBe(1);
    expect(packed.billedBytes).toBe(firehoseBilledBytes(packed.bytes));
    expect(packed.billedBytes).toBeLessThan(1000 * FirehoseLimits.billingIncrementBytes);
  });
});

describe('packNdjson record limit (1,000 KiB = 1,024,000 bytes)', () => {
  it('fills a record to exactly 1,024,000 bytes and starts a new one at 1,024,001', () => {
    // Prepare: two lines that sum to exactly the limit, then one more byte.
    const exact = [lineOf(1_000_000), lineOf(24_000)];
    const over = [lineOf(1_000_000), lineOf(24_001)];
    // Act
    const a = packNdjson(exact);
    const b = packNdjson(over);
    // Assess
    expect(a.records).toBe(1);
    expect(a.batches[0]![0]!.data.length).toBe(1_024_000);
    expect(b.records).toBe(2);
    expect(b.batches[0]!.map((r) => r.data.length)).toEqual([1_000_000, 24_001]);
  });

  it('accepts a single line of exactly 1,024,000 bytes and rejects one of 1,024,001 as oversized', () => {
    // Prepare
    const lines = [lineOf(1_024_000), lineOf(1_024_001), enc.encode('ok')];
    // Act
    const packed = packNdjson(lines);
    // Assess
    expect(packed.oversized).toEqual([1]);
    expect(packed.records).toBe(2);
    const all = packed.batches.flat();
    expect(all[0]!.data.length).toBe(1_024_000);
    expect(Buffer.from(all[1]!.data).toString()).toBe('ok\n');
  });

  it('counts a line that already ends in a newline without adding another', () => {
    expect(ndjsonLineBytes(enc.encode('abc\n'))).toBe(4);
    expect(ndjsonLineBytes(enc.encode('abc'))).toBe(4);
    expect(ndjsonLineBytes(new Uint8Array(0))).toBe(1);
    expect(concat(packNdjson([enc.encode('a\n'), enc.encode('b')]).batches[0]!.map((r) => r.data))).toBe(
      'a\nb\n',
    );
  });
});

describe('packNdjson batch limits (500 records, 4 MiB)', () => {
  it('puts 500 records in one call and the 501st in a second', () => {
    // Prepare: records of one line each, forced by a small record limit.
    const limits = { maxRecordBytes: 100 };
    const lines500 = Array.from({ length: 500 }, () => lineOf(100));
    const lines501 = Array.from({ length: 501 }, () => lineOf(100));
    // Act
    const a = packNdjson(lines500, limits);
    const b = packNdjson(lines501, limits);
    // Assess
    expect(a.batches.map((x) => x.length)).toEqual([500]);
    expect(b.batches.map((x) => x.length)).toEqual([500, 1]);
  });

  it('keeps a call at or below 4 MiB (4,194,304 bytes) and splits one byte above', () => {
    // Prepare: 4 full records = 4,096,000 bytes; the 5th record decides.
    const fill = 4 * 1024 * 1024 - 4 * 1_024_000; // 98,304 bytes left in the call
    const exact = [...Array.from({ length: 4 }, () => lineOf(1_024_000)), lineOf(fill)];
    const over = [...Array.from({ length: 4 }, () => lineOf(1_024_000)), lineOf(fill + 1)];
    // Act
    const a = packNdjson(exact);
    const b = packNdjson(over);
    // Assess
    const sum = (batch: { data: Uint8Array }[]) => batch.reduce((n, r) => n + r.data.length, 0);
    expect(a.batches.length).toBe(1);
    expect(sum(a.batches[0]!)).toBe(4 * 1024 * 1024);
    expect(b.batches.length).toBe(2);
    expect(sum(b.batches[0]!)).toBe(4_096_000);
    expect(sum(b.batches[1]!)).toBe(fill + 1);
  });

  it('maps every input to the record that carries it, in order', () => {
    // Prepare
    const lines = Array.from({ length: 50 }, (_, i) => enc.encode(`line-${i}`));
    // Act
    const packed = packNdjson(lines, { maxRecordBytes: 64 });
    // Assess
    let expectedFirst = 0;
    for (const r of packed.batches.flat()) {
      expect(r.firstItem).toBe(expectedFirst);
      expect(Buffer.from(r.data).toString()).toBe(
        lines
          .slice(r.firstItem, r.endItem)
          .map((l) => `${Buffer.from(l).toString()}\n`)
          .join(''),
      );
      expectedFirst = r.endItem;
    }
    expect(expectedFirst).toBe(50);
  });
});

describe('resolvePackLimits', () => {
  it('refuses limits above the Firehose maxima', () => {
    expect(() => resolvePackLimits({ maxBatchRecords: 501 })).toThrow(/maxBatchRecords/);
    expect(() => resolvePackLimits({ maxRecordBytes: 1_024_001 })).toThrow(/maxRecordBytes/);
    expect(() => resolvePackLimits({ maxBatchBytes: 4 * 1024 * 1024 + 1 })).toThrow(/maxBatchBytes/);
    expect(resolvePackLimits()).toEqual({
      maxRecordBytes: 1_024_000,
      maxBatchRecords: 500,
      maxBatchBytes: 4_194_304,
    });
  });
});
