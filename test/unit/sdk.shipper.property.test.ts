import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ShipperError } from '../../sdk/errors.ts';
import { decodeAggregate } from '../../sdk/kpl.ts';
import { createShipper } from '../../sdk/shipper.ts';
import { FakeKinesis, ok, serviceError } from './sdkFakeKinesis.ts';

/** mulberry32, for the fake's failure decisions. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('shipper under random failures (property)', () => {
  it('delivers every event at least once and its stats add up, whatever fails and whenever flush is called', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ maxLength: 300, unit: 'grapheme' }), { minLength: 1, maxLength: 200 }),
        fc.constantFrom('random', 'fixed', 'keyed'),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        fc.double({ min: 0, max: 0.3, noNaN: true }),
        fc.array(fc.nat({ max: 199 }), { maxLength: 5 }),
        fc.integer({ min: 64, max: 4_096 }),
        async (events, mode, seed, entryFailureRate, callFailureRate, flushPoints, maxAggregateBytes) => {
          // Prepare
          const random = rng(seed);
          const fake = new FakeKinesis();
          const delivered: string[] = [];
          fake.onPut = (entries) => {
            if (random() < callFailureRate)
              throw random() < 0.5 ? serviceError('InternalFailure') : new Error('ECONNRESET');
            return entries.map((e, i) => {
              if (random() < entryFailureRate)
                return { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'x' };
              const d = decodeAggregate(e.Data!);
              if (d.kind === 'ok')
                for (const r of d.records) delivered.push(Buffer.from(r.data).toString('utf8'));
              else delivered.push(Buffer.from(e.Data!).toString('utf8'));
              return ok(i);
            });
          };
          const errors: ShipperError[] = [];
          const shipper = createShipper({
            streamName: 'prop',
            client: fake.asClient(),
            lingerMs: 1,
            minBackoffMs: 1,
            maxBackoffMs: 4,
            maxRetryMs: 60_000,
            maxAggregateBytes,
            onError: (e) => errors.push(e),
            ...(mode === 'fixed' ? { partitionKey: 'one' } : {}),
            ...(mode === 'keyed' ? { partitionKey: (e: object | string) => `k${String(e).length % 7}` } : {}),
          });
          const flushAt = new Set(flushPoints);

          // Act
          for (let i = 0; i < events.length; i++) {
            shipper.send(events[i]!);
            if (flushAt.has(i)) await shipper.flush();
          }
          await shipper.close();

          // Assess
          const s = shipper.stats();
          expect(errors).toEqual([]);
          expect(s.sent + s.failed + s.dropped + s.buffered).toBe(s.accepted);
          expect(s).toMatchObject({
            accepted: events.length,
            sent: events.length,
            failed: 0,
            buffered: 0,
            bufferedBytes: 0,
          });
          const counts = new Map<string, number>();
          for (const d of delivered) counts.set(d, (counts.get(d) ?? 0) + 1);
          for (const e of events) {
            const c = counts.get(e) ?? 0;
            expect(c).toBeGreaterThan(0);
            counts.set(e, c - 1);
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
