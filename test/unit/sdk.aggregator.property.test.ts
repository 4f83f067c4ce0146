import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fullJitterDelayMs } from '../../sdk/backoff.ts';
import { decodeAggregate, MAX_KINESIS_RECORD_BYTES } from '../../sdk/kpl.ts';
import { type OutboundRecord, ShardAggregator } from '../../sdk/shardAggregator.ts';
import { partitionKeyHash, ShardMap } from '../../sdk/shardMap.ts';

const TOP = (1n << 128n) - 1n;

/** A contiguous cover of the hash space by `splits.length + 1` open shards. */
function mapFromSplits(splits: bigint[]): ShardMap {
  const points = [...new Set(splits.filter((p) => p > 0n && p <= TOP))].sort((a, b) => (a < b ? -1 : 1));
  const bounds = [0n, ...points];
  return ShardMap.fromShards(
    bounds.map((start, i) => ({
      ShardId: `shardId-${String(i).padStart(12, '0')}`,
      HashKeyRange: {
        StartingHashKey: String(start),
        EndingHashKey: String((bounds[i + 1] ?? TOP + 1n) - 1n),
      },
      SequenceNumberRange: {},
    })),
  );
}

const hashKey = fc.bigInt({ min: 1n, max: TOP });
const keyArb = fc.oneof(
  fc.constantFrom('a', 'b', 'checkout', 'ünïcödé', '🙂'),
  fc.string({ minLength: 1, maxLength: 40 }),
);
const eventArb = fc.record({
  key: keyArb,
  size: fc.nat({ max: 3_000 }),
  fill: fc.integer({ min: 32, max: 126 }),
});

function children(r: OutboundRecord): { partitionKey: string; data: string }[] {
  const d = decodeAggregate(r.data);
  if (d.kind === 'ok')
    return d.records.map((c) => ({
      partitionKey: c.partitionKey,
      data: Buffer.from(c.data).toString('latin1'),
    }));
  if (d.kind === 'not_aggregated')
    return [{ partitionKey: r.partitionKey, data: Buffer.from(r.data).toString('latin1') }];
  throw new Error(d.detail);
}

describe('ShardAggregator (property)', () => {
  it('keyed mode: every user record lies in the shard its aggregate is routed to, sizes stay in budget, nothing is lost', () => {
    fc.assert(
      fc.property(
        fc.array(hashKey, { maxLength: 7 }),
        fc.array(eventArb, { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 64, max: 20_000 }),
        fc.array(fc.nat({ max: 299 }), { maxLength: 4 }),
        (splits, events, maxAggregateBytes, flushPoints) => {
          // Prepare
          const map = mapFromSplits(splits);
          const agg = new ShardAggregator({ mode: 'keyed', maxAggregateBytes });
          const out: OutboundRecord[] = [];
          agg.setShardMap(map, 0, out);
          const flushAt = new Set(flushPoints);
          let gen = 0;

          // Act
          events.forEach((e, i) => {
            agg.add(e.key, Buffer.alloc(e.size, e.fill), gen, out);
            if (flushAt.has(i)) agg.finalizeAll(gen++, out);
          });
          agg.finalizeAll(gen, out);

          // Assess
          const got: string[] = [];
          for (const r of out) {
            const kids = children(r);
            expect(r.events).toBe(kids.length);
            expect(r.eventBytes).toBe(kids.reduce((n, c) => n + c.data.length, 0));
            expect(r.sizeBytes).toBe(r.data.byteLength + Buffer.byteLength(r.partitionKey));
            expect(r.sizeBytes).toBeLessThanOrEqual(MAX_KINESIS_RECORD_BYTES);
            if (r.aggregated) expect(r.sizeBytes).toBeLessThanOrEqual(maxAggregateBytes);
            const shard = map.open.find((s) => s.shardId === r.expectedShardId)!;
            expect(shard).toBeDefined();
            for (const c of [{ partitionKey: r.partitionKey }, ...kids]) {
              const h = partitionKeyHash(c.partitionKey);
              expect(h >= shard.startingHashKey && h <= shard.endingHashKey).toBe(true);
            }
            for (const c of kids) got.push(`${c.partitionKey}\u0000${c.data}`);
          }
          const want = events.map((e) => `${e.key}\u0000${String.fromCharCode(e.fill).repeat(e.size)}`);
          expect(got.sort()).toEqual(want.sort());
        },
      ),
      { numRuns: 150 },
    );
  });

  it('random mode: all user records of an aggregate share its routing key; keys are fresh per aggregate', () => {
    fc.assert(
      fc.property(
        fc.array(eventArb, { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 64, max: 20_000 }),
        (events, maxAggregateBytes) => {
          // Prepare
          const agg = new ShardAggregator({ mode: 'random', maxAggregateBytes });
          const out: OutboundRecord[] = [];

          // Act
          for (const e of events) agg.add(undefined, Buffer.alloc(e.size, e.fill), 0, out);
          agg.finalizeAll(0, out);

          // Assess
          let total = 0;
          const aggregateKeys = new Set<string>();
          for (const r of out) {
            const kids = children(r);
            total += kids.length;
            for (const c of kids) expect(c.partitionKey).toBe(r.partitionKey);
            if (r.aggregated) {
              expect(aggregateKeys.has(r.partitionKey)).toBe(false);
              aggregateKeys.add(r.partitionKey);
              expect(r.sizeBytes).toBeLessThanOrEqual(maxAggregateBytes);
            }
          }
          expect(total).toBe(events.length);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('fullJitterDelayMs (property)', () => {
  it('stays in [0, min(cap, base·2^(attempt−1)))', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 1_000 }),
        fc.integer({ min: 1, max: 60_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, base, cap, random) => {
          const d = fullJitterDelayMs(attempt, base, cap, random);
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThan(Math.max(1, Math.min(cap, base * 2 ** (attempt - 1))));
        },
      ),
    );
  });
});
