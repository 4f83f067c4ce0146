/**
 * Resharding under a running shipper: after a shard split its shard map is stale, aggregates land on
 * the children, and user records hashing into the other child would be dropped by KCL
 * deaggregation. The shipper must notice (PutRecords names another shard), refresh the map and re-send
 * those records — as the KPL's retrier does — so that every event has a copy in the shard its key
 * hashes to. The misplaced copies stay in the stream (a put cannot be undone); KCL filters them, other
 * consumers see an at-least-once duplicate.
 */
import { DescribeStreamSummaryCommand, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShipper } from '../../sdk/shipper.ts';
import { createStream, type LocalKinesis, readStream, startLocalKinesis } from './sdkHelpers.ts';

describe('shipper across a shard split', () => {
  let kinesis: LocalKinesis;

  beforeAll(async () => {
    kinesis = await startLocalKinesis();
  });

  afterAll(async () => {
    await kinesis?.close();
  });

  it('re-sends the user records that fell outside the child shard, and nothing is lost', async () => {
    // Prepare
    await createStream(kinesis.client, 'sdk-reshard', 2);
    const shipper = createShipper({
      streamName: 'sdk-reshard',
      endpoint: kinesis.url,
      partitionKey: (e) => (e as { key: string }).key,
      lingerMs: 10,
    });
    const send = (from: number, to: number) => {
      for (let i = from; i < to; i++) shipper.send({ i, key: `user-${i}`, msg: 'hello' });
    };

    // Act
    send(0, 3_000);
    await shipper.flush();
    await kinesis.client.send(
      new SplitShardCommand({
        StreamName: 'sdk-reshard',
        ShardToSplit: 'shardId-000000000000',
        NewStartingHashKey: String(1n << 126n),
      }),
    );
    for (let i = 0; i < 200; i++) {
      const d = await kinesis.client.send(new DescribeStreamSummaryCommand({ StreamName: 'sdk-reshard' }));
      if (d.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') break;
      await new Promise((r) => setTimeout(r, 25));
    }
    send(3_000, 6_000);
    await shipper.close();
    const back = await readStream(kinesis.client, 'sdk-reshard');

    // Assess
    const stats = shipper.stats();
    expect(stats).toMatchObject({ accepted: 6_000, sent: 6_000, failed: 0, buffered: 0 });
    expect(stats.retried).toBeGreaterThan(0); // the records that landed on the wrong child
    // What a KCL consumer keeps: the in-range copies. Every event has one.
    const index = (r: { data: string }) => (JSON.parse(r.data) as { i: number }).i;
    const inRange = new Set(back.records.filter((r) => r.inShardRange).map(index));
    expect(inRange.size).toBe(6_000);
    // Out-of-range copies exist only for aggregates written with the stale map (after the split) —
    // the ones the shipper detected and re-sent.
    const outOfRange = back.records.filter((r) => !r.inShardRange);
    expect(outOfRange.length).toBeGreaterThan(0);
    expect(outOfRange.length).toBeLessThanOrEqual(stats.retried);
    expect(outOfRange.every((r) => index(r) >= 3_000)).toBe(true);
    const shards = new Set(back.records.map((r) => r.shardId));
    expect(shards.size).toBe(4); // two parents before the split (one now closed), two children after
  });
});
