import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeAggregate,
  encodeAggregate,
  type KinesisPutEntry,
  KplAggregateBuilder,
  type KplUserRecord,
  MAX_KINESIS_RECORD_BYTES,
} from '../../sdk/kpl.ts';
import { aggDecode } from './kplReference.ts';

/** Partition keys: 1–256 code points anywhere in Unicode (well-formed), so UTF-8 is 1–4 bytes each. */
const partitionKey = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 256 }),
  fc.constantFrom('a', 'b', 'service-1'),
);
const explicitHashKey = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }).map(String);
const userRecord: fc.Arbitrary<KplUserRecord> = fc
  .record({
    partitionKey,
    explicitHashKey: fc.option(explicitHashKey, { nil: undefined }),
    data: fc.uint8Array({ maxLength: 2_000 }),
  })
  .map(({ partitionKey, explicitHashKey, data }) =>
    explicitHashKey === undefined ? { partitionKey, data } : { partitionKey, explicitHashKey, data },
  );
const userRecords = fc.array(userRecord, { minLength: 1, maxLength: 30 });

function plain(records: readonly KplUserRecord[]): unknown[] {
  return records.map((r) => ({ ...r, data: Buffer.from(r.data).toString('hex') }));
}

describe('KPL codec properties', () => {
  it('decode(encode(xs)) == xs for arbitrary keys, hash keys and payloads', () => {
    fc.assert(
      fc.property(userRecords, (records) => {
        // Act
        const decoded = decodeAggregate(encodeAggregate(records).data);
        // Assess
        expect(decoded.kind).toBe('ok');
        if (decoded.kind === 'ok') expect(plain(decoded.records)).toEqual(plain(records));
      }),
      { numRuns: 300 },
    );
  });

  it('aws-kinesis-agg reads our encoding of arbitrary records', () => {
    fc.assert(
      fc.property(userRecords, (records) => {
        // Act
        const theirs = aggDecode(encodeAggregate(records).data);
        // Assess
        expect(theirs.map((t) => [t.partitionKey, Buffer.from(t.data, 'base64').toString('hex')])).toEqual(
          records.map((r) => [r.partitionKey, Buffer.from(r.data).toString('hex')]),
        );
      }),
      { numRuns: 100 },
    );
  });

  it('a corrupted byte anywhere is rejected (or, inside the magic, seen as a plain record), never thrown', () => {
    fc.assert(
      fc.property(userRecords, fc.nat(), fc.integer({ min: 1, max: 255 }), (records, at, mask) => {
        // Prepare
        const data = Buffer.from(encodeAggregate(records).data);
        const index = at % data.length;
        data[index]! ^= mask;
        // Act
        const result = decodeAggregate(data);
        // Assess
        if (index < 4) expect(result).toEqual({ kind: 'not_aggregated' });
        else expect(result).toMatchObject({ kind: 'reject', code: 'kpl_checksum_mismatch' });
      }),
      { numRuns: 500 },
    );
  });

  it('a truncated aggregate is rejected, never thrown', () => {
    fc.assert(
      fc.property(userRecords, fc.nat(), (records, cut) => {
        // Prepare
        const data = encodeAggregate(records).data;
        const truncated = data.subarray(0, 4 + (cut % (data.length - 4)));
        // Act
        const result = decodeAggregate(truncated);
        // Assess
        expect(result.kind).toBe('reject');
        if (result.kind === 'reject')
          expect(['kpl_checksum_mismatch', 'kpl_malformed']).toContain(result.code);
      }),
      { numRuns: 300 },
    );
  });

  it('arbitrary bytes behind the magic with a valid MD5 decode or are malformed, never thrown', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (body) => {
        // Prepare
        const data = Buffer.concat([
          Buffer.of(0xf3, 0x89, 0x9a, 0xc2),
          body,
          createHash('md5').update(body).digest(),
        ]);
        // Act
        const result = decodeAggregate(data);
        // Assess
        if (result.kind === 'reject') expect(result.code).toBe('kpl_malformed');
        else expect(result.kind).toBe('ok');
      }),
      { numRuns: 2_000 },
    );
  });

  it('arbitrary bytes never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (data) => {
        expect(['ok', 'not_aggregated', 'reject']).toContain(decodeAggregate(data).kind);
      }),
      { numRuns: 2_000 },
    );
  });

  it('the builder never exceeds its budget, counts the key in UTF-8 bytes, and loses no record', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ partitionKey, size: fc.oneof(fc.nat({ max: 200 }), fc.nat({ max: 5_000 })) }), {
          minLength: 1,
          maxLength: 60,
        }),
        fc.integer({ min: 64, max: 20_000 }),
        (specs, budget) => {
          // Prepare
          const builder = new KplAggregateBuilder(budget);
          const entries: KinesisPutEntry[] = [];
          const sizes: number[] = [];
          let refused = 0;
          // Act
          for (const [i, s] of specs.entries()) {
            const r = { partitionKey: s.partitionKey, data: Buffer.alloc(s.size, i) };
            if (builder.tryAdd(r)) continue;
            if (builder.count === 0) {
              refused++;
              continue;
            }
            sizes.push(builder.sizeBytes);
            entries.push(builder.build());
            builder.reset();
            if (!builder.tryAdd(r)) refused++;
          }
          if (builder.count > 0) {
            sizes.push(builder.sizeBytes);
            entries.push(builder.build());
          }
          // Assess
          let packed = 0;
          entries.forEach((e, i) => {
            const bytes = e.data.byteLength + Buffer.byteLength(e.partitionKey, 'utf8');
            expect(bytes).toBe(sizes[i]);
            expect(bytes).toBeLessThanOrEqual(budget);
            const decoded = decodeAggregate(e.data);
            expect(decoded.kind).toBe('ok');
            if (decoded.kind === 'ok') packed += decoded.records.length;
          });
          expect(packed + refused).toBe(specs.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('full-size aggregates stay within 1 MiB including the partition key', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ partitionKey, size: fc.integer({ min: 0, max: 300_000 }) }), {
          minLength: 4,
          maxLength: 12,
        }),
        (specs) => {
          // Prepare
          const builder = new KplAggregateBuilder();
          // Act
          for (const s of specs)
            if (!builder.tryAdd({ partitionKey: s.partitionKey, data: Buffer.alloc(s.size) })) break;
          const entry = builder.build();
          // Assess
          const bytes = entry.data.byteLength + Buffer.byteLength(entry.partitionKey, 'utf8');
          expect(bytes).toBe(builder.sizeBytes);
          expect(bytes).toBeLessThanOrEqual(MAX_KINESIS_RECORD_BYTES);
        },
      ),
      { numRuns: 40 },
    );
  });
});
