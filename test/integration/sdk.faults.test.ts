/**
 * Done-when of the SDK issue: 50,000 events through the fault-injecting proxy into a 4-shard
 * kinesalite stream, `close()`, read every shard back, deaggregate with sdk/kpl.ts → every event at
 * least once, every user record inside the hash range of the shard it was read from, and `stats()`
 * adds up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from '../../local/faultProxy.ts';
import type { ShipperError } from '../../sdk/errors.ts';
import { createShipper } from '../../sdk/shipper.ts';
import { createStream, type LocalKinesis, readStream, startLocalKinesis } from './sdkHelpers.ts';

const EVENTS = 50_000;
const SERVICES = ['checkout', 'search', 'cart', 'auth', 'payments', 'inventory', 'email', 'gateway'];

function makeEvent(i: number): {
  i: number;
  service: string;
  requestId: string;
  msg: string;
  durationMs: number;
} {
  return {
    i,
    service: SERVICES[i % SERVICES.length]!,
    requestId: `req-${(i * 2654435761) % 1_000_003}-${i}`,
    msg: i % 97 === 0 ? `slow request ${'x'.repeat(i % 500)}` : 'handled request',
    durationMs: (i * 37) % 1_000,
  };
}

describe('shipper through a faulty Kinesis (4 shards, per-entry and whole-call failures, lost responses)', () => {
  let kinesis: LocalKinesis;
  let proxy: FaultProxy;

  beforeAll(async () => {
    kinesis = await startLocalKinesis();
    proxy = await startFaultProxy({
      targetUrl: kinesis.url,
      seed: 42,
      entryFailureRate: 0.2,
      callFailureRate: 0.1,
      lostResponseRate: 0.05,
      // Every kind of whole-call fault at least once, however few calls the shipper makes.
      scriptedCalls: ['internalFailure', 'lostResponse', 'reset', 'none', 'serviceUnavailable', 'throttled'],
    });
  });

  afterAll(async () => {
    await proxy?.close();
    await kinesis?.close();
  });

  it('delivers every event at least once, shard-consistently, and its stats add up', async () => {
    // Prepare
    await createStream(kinesis.client, 'sdk-faults', 4);
    const errors: ShipperError[] = [];
    const shipper = createShipper({
      streamName: 'sdk-faults',
      endpoint: proxy.url,
      // A key per event (request id): aggregation has to group by target shard.
      partitionKey: (e) => (e as { requestId: string }).requestId,
      maxRetryMs: 120_000,
      minBackoffMs: 20,
      maxBackoffMs: 500,
      lingerMs: 20,
      onError: (e) => errors.push(e),
    });

    // Act
    for (let i = 0; i < EVENTS; i++) {
      shipper.send(makeEvent(i));
      if (i % 5_000 === 4_999) await shipper.ready();
    }
    await shipper.close();
    const back = await readStream(kinesis.client, 'sdk-faults');

    // Assess
    const stats = shipper.stats();
    expect(errors).toEqual([]);
    expect(stats.accepted).toBe(EVENTS);
    expect(stats.sent + stats.failed + stats.dropped + stats.buffered).toBe(stats.accepted);
    expect(stats).toMatchObject({ sent: EVENTS, failed: 0, dropped: 0, buffered: 0, bufferedBytes: 0 });
    expect(stats.retried).toBeGreaterThan(0);
    const faults = proxy.stats();
    expect(faults.entriesFailed).toBeGreaterThan(0);
    expect(faults.callsFailed).toBeGreaterThan(0);
    expect(faults.responsesLost).toBeGreaterThan(0);

    expect(back.rejects).toBe(0);
    const seen = new Uint32Array(EVENTS);
    for (const r of back.records) {
      const e = JSON.parse(r.data) as { i: number; requestId: string };
      expect(r.partitionKey).toBe(e.requestId);
      seen[e.i]!++;
    }
    const missing = [...seen.keys()].filter((i) => seen[i] === 0);
    expect(missing).toEqual([]);
    const outOfRange = back.records.filter((r) => !r.inShardRange);
    expect(outOfRange).toEqual([]);
    expect(new Set(back.records.map((r) => r.shardId)).size).toBe(4);
    expect(back.records.some((r) => r.aggregated)).toBe(true);
  });
});
