/**
 * The local event-source runner against a real kinesalite (port 0, in memory): event shape,
 * ordering, batching, partial batch responses, bisect-on-error, retries, record age, the on-failure
 * file, resharding and checkpoints across restarts.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DescribeStreamSummaryCommand, type KinesisClient, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckpointDocument } from '../../local/checkpointStore.ts';
import {
  type BatchReport,
  type EventSourceRunner,
  type EventSourceRunnerOptions,
  startEventSourceRunner,
} from '../../local/eventSourceRunner.ts';
import { type KinesaliteServer, startKinesalite } from '../../local/kinesalite.ts';
import { createKinesisClient } from '../../local/kinesisClient.ts';
import { LAMBDA_MAX_PAYLOAD_BYTES } from '../../local/kinesisEvent.ts';
import type { KinesisFailureRecord, LambdaContext } from '../../local/lambdaTypes.ts';
import {
  createStream,
  type Invocation,
  makeTempDir,
  memoryLogger,
  putAll,
  putOne,
  recordingHandler,
  seqLess,
  streamArnOf,
  waitFor,
  within,
} from './eventSourceRunnerHelpers.ts';

let kinesis: KinesaliteServer;
let client: KinesisClient;

beforeAll(async () => {
  kinesis = await startKinesalite({ port: 0 });
  client = createKinesisClient(kinesis.url);
});

afterAll(async () => {
  client?.destroy();
  await kinesis?.close();
});

/** Fast polling and retries for tests; everything else as the caller says. */
function testOptions(
  overrides: Partial<EventSourceRunnerOptions> & Pick<EventSourceRunnerOptions, 'streamName' | 'handler'>,
): EventSourceRunnerOptions {
  return {
    client,
    pollIntervalMs: 20,
    shardDiscoveryIntervalMs: 200,
    retryBaseDelayMs: 1,
    retryMaxDelayMs: 20,
    logger: memoryLogger().logger,
    ...overrides,
  };
}

async function readJsonLines<T>(file: string): Promise<T[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as T);
}

function records(
  n: number,
  key: (i: number) => string = () => 'k',
): { partitionKey: string; data: string }[] {
  return Array.from({ length: n }, (_, i) => ({ partitionKey: key(i), data: `r${i}` }));
}

describe('event shape', () => {
  it('delivers records exactly as Lambda shapes a Kinesis event', async () => {
    // Prepare
    const streamName = await createStream(kinesis, 1);
    const streamArn = await streamArnOf(client, streamName);
    const put = await putAll(client, streamName, [
      { partitionKey: 'pk-1', data: '{"msg":"hello"}' },
      { partitionKey: 'pk-2', data: 'plain text ✓' },
    ]);
    const contexts: LambdaContext[] = [];
    const { handler, invocations } = recordingHandler();
    const runner = await startEventSourceRunner(
      testOptions({
        streamName,
        functionName: 'tidewatch-ingest',
        handler: async (event, context) => {
          contexts.push(context);
          return handler(event, context);
        },
      }),
    );

    // Act
    const beforeS = Date.now() / 1000;
    await within(runner.drain(), 30_000, 'drain');
    await runner.stop();

    // Assess
    expect(invocations).toHaveLength(1);
    const recs = invocations[0]?.event.Records ?? [];
    expect(recs).toHaveLength(2);
    recs.forEach((r, i) => {
      const src = put[i] as (typeof put)[number];
      expect(Object.keys(r)).toEqual([
        'kinesis',
        'eventSource',
        'eventVersion',
        'eventID',
        'eventName',
        'invokeIdentityArn',
        'awsRegion',
        'eventSourceARN',
      ]);
      expect(Object.keys(r.kinesis)).toEqual([
        'kinesisSchemaVersion',
        'partitionKey',
        'sequenceNumber',
        'data',
        'approximateArrivalTimestamp',
      ]);
      expect(r.kinesis.kinesisSchemaVersion).toBe('1.0');
      expect(r.kinesis.partitionKey).toBe(src.partitionKey);
      expect(r.kinesis.sequenceNumber).toBe(src.sequenceNumber);
      expect(r.kinesis.data).toBe(Buffer.from(src.data, 'utf8').toString('base64'));
      // Seconds since the epoch with a millisecond fraction, not milliseconds.
      expect(r.kinesis.approximateArrivalTimestamp).toBeGreaterThan(beforeS - 600);
      expect(r.kinesis.approximateArrivalTimestamp).toBeLessThan(beforeS + 600);
      expect(Math.round(r.kinesis.approximateArrivalTimestamp * 1000) / 1000).toBe(
        r.kinesis.approximateArrivalTimestamp,
      );
      expect(r.eventSource).toBe('aws:kinesis');
      expect(r.eventVersion).toBe('1.0');
      expect(r.eventID).toBe(`shardId-000000000000:${src.sequenceNumber}`);
      expect(r.eventName).toBe('aws:kinesis:record');
      expect(r.invokeIdentityArn).toBe('arn:aws:iam::000000000000:role/tidewatch-ingest-role');
      expect(r.awsRegion).toBe('us-east-1');
      expect(r.eventSourceARN).toBe(streamArn);
    });
    expect(runner.streamArn).toBe(streamArn);
    const ctx = contexts[0] as LambdaContext;
    expect(ctx.functionName).toBe('tidewatch-ingest');
    expect(ctx.functionVersion).toBe('$LATEST');
    expect(ctx.invokedFunctionArn).toBe('arn:aws:lambda:us-east-1:000000000000:function:tidewatch-ingest');
    expect(ctx.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(ctx.getRemainingTimeInMillis()).toBeGreaterThan(0);
  });
});

describe('ordering and batching', () => {
  it('delivers each shard in sequence order, one batch in flight per shard, shards concurrently', async () => {
    // Prepare
    const streamName = await createStream(kinesis, 3);
    const put = await putAll(
      client,
      streamName,
      records(300, (i) => `key-${i % 10}`),
    );
    const { handler, invocations, overlaps } = recordingHandler();
    const runner = await startEventSourceRunner(testOptions({ streamName, handler, batchSize: 7 }));

    // Act
    await within(runner.drain(), 60_000, 'drain');
    await runner.stop();

    // Assess
    expect(overlaps).toEqual([]);
    const byShard = new Map<string, string[]>();
    for (const inv of invocations) {
      expect(inv.sequenceNumbers.length).toBeGreaterThan(0);
      expect(inv.sequenceNumbers.length).toBeLessThanOrEqual(7);
      // One shard per event.
      for (const r of inv.event.Records) expect(r.eventID.startsWith(`${inv.shardId}:`)).toBe(true);
      const list = byShard.get(inv.shardId) ?? [];
      list.push(...inv.sequenceNumbers);
      byShard.set(inv.shardId, list);
    }
    expect(byShard.size).toBe(new Set(put.map((p) => p.shardId)).size);
    for (const [shardId, seqs] of byShard) {
      const expected = put.filter((p) => p.shardId === shardId).map((p) => p.sequenceNumber);
      expect(seqs).toEqual(expected);
    }
    // Per partition key, the data arrives in the order it was put.
    const seen = invocations.flatMap((inv) => inv.data);
    for (let k = 0; k < 10; k++) {
      const mine = seen.filter((d) => Number(d.slice(1)) % 10 === k).map((d) => Number(d.slice(1)));
      expect(mine).toEqual([...mine].sort((a, b) => a - b));
      expect(mine).toHaveLength(30);
    }
    const stats = runner.stats();
    expect(stats.acknowledgedRecords).toBe(300);
    expect(stats.records).toBe(300);
    for (const s of Object.values(stats.shards)) expect(s.unacknowledged).toBe(0);
  });

  it('honours the batch size when a backlog is waiting', async () => {
    // Prepare
    const streamName = await createStream(kinesis, 1);
    await putAll(client, streamName, records(25));
    const { handler, invocations } = recordingHandler();
    const reports: BatchReport[] = [];
    const runner = await startEventSourceRunner(
      testOptions({ streamName, handler, batchSize: 10, onBatch: (r) => reports.push(r) }),
    );

    // Act
    await within(runner.drain(), 30_000, 'drain');
    await runner.stop();

    // Assess
    expect(invocations.map((i) => i.sequenceNumbers.length)).toEqual([10, 10, 5]);
    expect(reports.map((r) => [r.shardId, r.records, r.outcome])).toEqual([
      ['shardId-000000000000', 10, 'success'],
      ['shardId-000000000000', 10, 'success'],
      ['shardId-000000000000', 5, 'success'],
    ]);
    for (const r of reports) expect(r.iteratorAgeMs).toBeGreaterThanOrEqual(0);
    const shard = runner.stats().shards['shardId-000000000000'];
    expect(shard?.lagMs).toBe(0);
    expect(shard?.state).toBe('running');
  });

  it('keeps every invocation payload under 6 MB, as Lambda does', async () => {
    // Prepare: 8 records of ~1 MB; in base64 about 1.33 MB each, so at most 4 fit in 6 MB.
    const streamName = await createStream(kinesis, 1);
    const big = new Uint8Array(1_000_000).fill(0x61);
    for (let i = 0; i < 8; i++) await putOne(client, streamName, `big-${i}`, big);
    const sizes: number[] = [];
    const { handler, invocations } = recordingHandler(async (inv) => {
      sizes.push(Buffer.byteLength(JSON.stringify(inv.event)));
      return undefined;
    });
    const runner = await startEventSourceRunner(testOptions({ streamName, handler, batchSize: 100 }));

    // Act
    await within(runner.drain(), 60_000, 'drain');
    await runner.stop();

    // Assess
    expect(invocations.map((i) => i.sequenceNumbers.length)).toEqual([4, 4]);
    for (const s of sizes) expect(s).toBeLessThanOrEqual(LAMBDA_MAX_PAYLOAD_BYTES);
  });

  it('gathers records for the batching window, and drain() flushes a window early', async () => {
    // Prepare
    const streamName = await createStream(kinesis, 1);
    const { handler, invocations } = recordingHandler();
    const runner = await startEventSourceRunner(
      testOptions({ streamName, handler, batchSize: 100, maximumBatchingWindowMs: 3_000 }),
    );

    // Act: three records put one by one, well inside the window.
    for (let i = 0; i < 3; i++) await putAll(client, streamName, [{ partitionKey: 'w', data: `w${i}` }]);
    await waitFor(() => invocations.length > 0, 'the windowed batch');
    // Then a window far longer than any test: drain() must not wait for it.
    await putAll(client, streamName, [{ partitionKey: 'w', data: 'late' }]);
    const longWindow = await startEventSourceRunner(
      testOptions({
        streamName,
        handler: async () => undefined,
        maximumBatchingWindowMs: 300_000,
        startingPosition: 'TRIM_HORIZON',
      }),
    );
    await within(longWindow.drain(), 30_000, 'drain with a 300 s window');
    await longWindow.stop();
    await within(runner.drain(), 30_000, 'drain');
    await runner.stop();

    // Assess
    expect(invocations[0]?.data).toEqual(['w0', 'w1', 'w2']);
    expect(invocations.flatMap((i) => i.data)).toEqual(['w0', 'w1', 'w2', 'late']);
    expect(longWindow.stats().acknowledgedRecords).toBe(4);
  });
});

describe('partial batch response', () => {
  it('checkpoints before the lowest failed sequence number and redelivers only from there', async () => {
    // Prepare
    const streamName = await createStream(kinesis, 1);
    const put = await putAll(client, streamName, records(10));
    const seq = (i: number): string => (put[i] as (typeof put)[number]).sequenceNumber;
    const { handler, invocations } = recordingHandler(async (_inv, n) =>
      // Report 6 before 4: Lambda takes the lowest, whatever the order.
      n === 1 ? { batchItemFailures: [{ itemIdentifier: seq(6) }, { itemIdentifier: seq(4) }] } : undefined,
    );
    const runner = await startEventSourceRunner(testOptions({ streamName, handler, batchSize: 10 }));

    // Act
    await within(runner.drain(), 30_000, 'drain');
    await runner.stop();

    // Assess
    expect(invocations.map((i) => i.data)).toEqual([
      ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9'],
      ['r4', 'r5', 'r6', 'r7', 'r8', 'r9'],
    ]);
    const stats = runner.stats();
    expect(stats.partialFailures).toBe(1);
    expect(stats.retries).toBe(1);
    expect(stats.shards['shardId-000000000000']?.checkpoint).toBe(seq(9));
  });

  it('retries the whole batch when an itemIdentifier is empty or not in the batch', async () => {
    // Prepare
    const streamName = await createStream(kinesis, 1);
    await putAll(client, streamName, records(4));
    const { handler, invocations } = recordingHandler(async (_inv, n) => {
      if (n === 1) return { batchItemFailures: [{ itemIdentifier: '' }] };
      if (n === 2) return { batchItemFailures: [{ itemIdentifier: '12345' }] };
      return { batchItemFailures: [] };
    });
    const runner = await startEventSourceRunner(testOptions({ streamName, handler }));

    // Act
    await within(runner.drain(), 30_000, 'drain');
    await runner.stop();

    // Assess
    expect(invocations.map((i) => i.data)).toEqual([
      ['r0', 'r1', 'r2', 'r3'],
      ['r0', 'r1', 'r2', 'r3'],
      ['r0', 'r1', 'r2', 'r3'],
    ]);
    expect(runner.stats().invalidResponses).toBe(2);
  });
});

describe('function errors', () => {
  it('bisects until the poison record is alone, retries it, then sends it to the on-failure file and moves on', async () => {
    // Prepare
    const { dir, cleanup } = await makeTempDir();
    const onFailureFile = join(dir, 'failures.jsonl');
    const streamName = await createStream(kinesis, 1);
    const streamArn = await streamArnOf(client, streamName);
    const put = await putAll(client, streamName, records(8));
    const poison = put[5] as (typeof put)[number];
    const { handler, invocations } = recordingHandler(async (inv) => {
      if (inv.data.includes('r5')) throw new Error('poison');
      return undefined;
    });
    const runner = await startEventSourceRunner(
      testOptions({
        streamName,
        handler,
        batchSize: 8,
        bisectBatchOnFunctionError: true,
        maximumRetryAttempts: 2,
        onFailureFile,
        functionName: 'detector',
      }),
    );

    // Act
    await within(runner.drain(), 30_000, 'drain');
    await runner.stop();

    // Assess
    expect(invocations.map((i) => i.data.join(','))).toEqual([
      'r0,r1,r2,r3,r4,r5,r6,r7', // error → bisect
      'r0,r1,r2,r3',
      'r4,r5,r6,r7', // error → bisect
      'r4,r5', // error → bisect
      'r4',
      'r5', // error, alone: retries from here
      'r5', // retry 1
      'r5', // retry 2, then discarded
      'r6,r7',
    ]);
    const failures = await readJsonLines<KinesisFailureRecord>(onFailureFile);
    expect(failures).toHaveLength(1);
    const f = failures[0] as KinesisFailureRecord;
    expect(Object.keys(f)).toEqual([
      'requestContext',
      'responseContext',
      'version',
      'timestamp',
      'KinesisBatchInfo',
    ]);
    expect(f.requestContext.condition).toBe('RetryAttemptsExhausted');
    expect(f.requestContext.functionArn).toBe('arn:aws:lambda:us-east-1:000000000000:function:detector');
    expect(f.requestContext.approximateInvokeCount).toBe(6);
    expect(f.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(f.responseContext).toEqual({
      statusCode: 200,
      executedVersion: '$LATEST',
      functionError: 'Unhandled',
    });
    expect(f.version).toBe('1.0');
    expect(new Date(f.timestamp).toISOString()).toBe(f.timestamp);
    expect(f.KinesisBatchInfo).toEqual({
      shardId: 'shardId-000000000000',
      startSequenceNumber: poison.sequenceNumber,
      endSequenceNumber: poison.sequenceNumber,
      approximateArrivalOfFirstRecord: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      approximateArrivalOfLastRecord: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      batchSize: 1,
      streamArn,
    });
    const stats = runner.stats();
    expect(stats.bisects).toBe(3);
    expect(stats.retries).toBe(2);
    expect(stats.functionErrors).toBe(6);
    expect(stats.sentToDestination).toBe(1);
    expect(stats.shards['shardId-000000000000']?.checkpoint).toBe(
      (put[7] as (typeof put)[number]).sequenceNumber,
    );
    await cleanup();
  });

  it('without bisect, discards the whole batch after the maximum retries and keeps reading the shard', async () => {
    // Prepare
    const { dir, cleanup } = await makeTempDir();
    const onFailureFile = join(dir, 'nested', 'failures.jsonl');
    const streamName = await createStream(kinesis, 1);
    const put = await putAll(client, streamName, records(4));
    const { handler, invocations } = recordingHandler(async (inv) => {
      if (inv.data.includes('r1')) throw new Error('poison');
      return undefined;
    });
    const runner = await startEventSourceRunner(
      testOptions({ streamName, handler, batchSize: 10, maximumRetryAttempts: 1, onFailureFile }),
    );

    // Act
    await within(runner.drain(), 30_000, 'drain');
    await putAll(client, streamName, [
      { partitionKey: 'k', data: 'after-1' },
      { partitionKey: 'k', data: 'after-2' },
    ]);
    await within(runner.drain(), 30_000, 'second drain');
    await runner.stop();

    // Assess
    expect(invocations.map((i) => i.data.join(','))).toEqual([
      'r0,r1,r2,r3',
      'r0,r1,r2,r3',
      'after-1,after-2',
    ]);
    const [f] = await readJsonLines<KinesisFailureRecord>(onFailureFile);
    expect(f?.requestContext.approximateInvokeCount).toBe(2);
    expect(f?.KinesisBatchInfo.batchSize).toBe(4);
    expect(f?.KinesisBatchInfo.startSequenceNumber).toBe(put[0]?.sequenceNumber);
    expect(f?.KinesisBatchInfo.endSequenceNumber).toBe(put[3]?.sequenceNumber);
    await cleanup();
  });
});

describe('maximum record age', () => {
  it('discards records older than the maximum age, before or after invocations, then resumes', async () => {
    // Prepare: a clock the test moves; records arrive on the real clock.
    const { dir, cleanup } = await makeTempDir();
    const onFailureFile = join(dir, 'failures.jsonl');
    const streamName = await createStream(kinesis, 1);
    let offsetMs = 0;
    let failing = true;
    const { handler, invocations } = recordingHandler(async () => {
      if (failing) throw new Error('downstream unavailable');
      return undefined;
    });
    const old = await putAll(client, streamName, records(3));
    const runner = await startEventSourceRunner(
      testOptions({
        streamName,
        handler,
        maximumRecordAgeMs: 60_000,
        onFailureFile,
        now: () => Date.now() + offsetMs,
      }),
    );

    // Act: the batch fails; then two minutes "pass".
    await waitFor(() => invocations.length >= 2, 'two failed invocations');
    offsetMs = 120_000;
    await waitFor(() => runner.stats().expiredRecords === 3, 'the expiry');
    offsetMs = 0;
    failing = false;
    await putAll(client, streamName, [{ partitionKey: 'k', data: 'fresh' }]);
    await within(runner.drain(), 30_000, 'drain');
    await runner.stop();

    // Assess
    const failures = await readJsonLines<KinesisFailureRecord>(onFailureFile);
    expect(failures).toHaveLength(1);
    expect(failures[0]?.requestContext.condition).toBe('RecordAgeExceeded');
    expect(failures[0]?.KinesisBatchInfo.batchSize).toBe(3);
    expect(failures[0]?.KinesisBatchInfo.startSequenceNumber).toBe(old[0]?.sequenceNumber);
    expect(failures[0]?.responseContext?.functionError).toBe('Unhandled');
    expect(invocations.at(-1)?.data).toEqual(['fresh']);
    expect(invocations.flatMap((i) => i.data).filter((d) => d === 'fresh')).toHaveLength(1);
    await cleanup();
  });

  it('discards records that are already too old when first read, without invoking', async () => {
    // Prepare
    const { dir, cleanup } = await makeTempDir();
    const onFailureFile = join(dir, 'failures.jsonl');
    const streamName = await createStream(kinesis, 1);
    await putAll(client, streamName, records(5));
    const { handler, invocations } = recordingHandler();
    const runner = await startEventSourceRunner(
      testOptions({
        streamName,
        handler,
        maximumRecordAgeMs: 60_000,
        onFailureFile,
        now: () => Date.now() + 3_600_000,
      }),
    );

    // Act
    await within(runner.drain(), 30_000, 'drain');
    await runner.stop();

    // Assess
    expect(invocations).toHaveLength(0);
    const [f] = await readJsonLines<KinesisFailureRecord>(onFailureFile);
    expect(f?.requestContext.condition).toBe('RecordAgeExceeded');
    expect(f?.requestContext.approximateInvokeCount).toBe(0);
    expect(f).not.toHaveProperty('responseContext');
    expect(f?.KinesisBatchInfo.batchSize).toBe(5);
    await cleanup();
  });
});

describe('resharding', () => {
  it('reads a split parent shard to its end before its children, including shards that appear while running', async () => {
    // Prepare
    const streamName = await createStream(kinesis, 1);
    const before = await putAll(
      client,
      streamName,
      records(20, (i) => `p${i}`),
    );
    const { handler, invocations } = recordingHandler();
    const runner = await startEventSourceRunner(testOptions({ streamName, handler, batchSize: 6 }));
    await within(runner.drain(), 30_000, 'first drain');

    // Act: split while running, then write to the children.
    await putAll(
      client,
      streamName,
      records(10, (i) => `q${i}`).map((r) => ({ ...r, data: `mid${r.data}` })),
    );
    await client.send(
      new SplitShardCommand({
        StreamName: streamName,
        ShardToSplit: 'shardId-000000000000',
        NewStartingHashKey: (2n ** 127n).toString(),
      }),
    );
    await waitForActive(client, streamName);
    const after = await putAll(
      client,
      streamName,
      records(40, (i) => `c${i}`).map((r) => ({ ...r, data: `child${r.data}` })),
    );
    await within(runner.drain(), 30_000, 'second drain');
    await runner.stop();

    // Assess
    expect(new Set(after.map((p) => p.shardId)).size).toBe(2);
    const order = invocations.flatMap((inv) => inv.data.map((d) => ({ shardId: inv.shardId, d })));
    const lastParent = order.findLastIndex((o) => o.shardId === 'shardId-000000000000');
    const firstChild = order.findIndex((o) => o.shardId !== 'shardId-000000000000');
    expect(lastParent).toBeLessThan(firstChild);
    expect(order.filter((o) => o.shardId === 'shardId-000000000000')).toHaveLength(before.length + 10);
    expect(order.filter((o) => o.d.startsWith('child'))).toHaveLength(40);
    expect(runner.stats().shards['shardId-000000000000']?.state).toBe('finished');
  });

  it('starting from TRIM_HORIZON after a split, holds the children until the parent is done', async () => {
    // Prepare
    const streamName = await createStream(kinesis, 1);
    await putAll(
      client,
      streamName,
      records(30, (i) => `p${i}`),
    );
    await client.send(
      new SplitShardCommand({
        StreamName: streamName,
        ShardToSplit: 'shardId-000000000000',
        NewStartingHashKey: (2n ** 127n).toString(),
      }),
    );
    await waitForActive(client, streamName);
    await putAll(
      client,
      streamName,
      records(30, (i) => `c${i}`).map((r) => ({ ...r, data: `child${r.data}` })),
    );
    // A slow handler makes any early start of a child visible.
    const { handler, invocations } = recordingHandler(async () => {
      await new Promise((r) => setTimeout(r, 5));
      return undefined;
    });
    const runner = await startEventSourceRunner(testOptions({ streamName, handler, batchSize: 5 }));

    // Act
    await within(runner.drain(), 30_000, 'drain');
    await runner.stop();

    // Assess
    const shards = invocations.map((i) => i.shardId);
    const lastParent = shards.lastIndexOf('shardId-000000000000');
    expect(shards.slice(0, lastParent + 1).every((s) => s === 'shardId-000000000000')).toBe(true);
    expect(invocations.flatMap((i) => i.data)).toHaveLength(60);
  });
});

describe('checkpoints', () => {
  it('a new runner on the same checkpoint file skips nothing and redelivers only unacknowledged records', async () => {
    // Prepare
    const { dir, cleanup } = await makeTempDir();
    const checkpointFile = join(dir, 'checkpoints', 'stream.json');
    const streamName = await createStream(kinesis, 2);
    const put = await putAll(
      client,
      streamName,
      records(120, (i) => `key-${i % 7}`),
    );
    const target = put[40] as (typeof put)[number];
    let runner1: EventSourceRunner | undefined;
    let stopping: Promise<void> | undefined;
    const first = recordingHandler(async (inv) => {
      // Fail at `target`, and stop the runner while this batch is in flight.
      if (inv.sequenceNumbers.includes(target.sequenceNumber)) {
        stopping ??= runner1?.stop();
        return { batchItemFailures: [{ itemIdentifier: target.sequenceNumber }] };
      }
      return undefined;
    });
    runner1 = await startEventSourceRunner(
      testOptions({ streamName, handler: first.handler, batchSize: 9, checkpointFile }),
    );
    await waitFor(() => stopping !== undefined, 'the failing batch');
    await within(stopping as Promise<void>, 30_000, 'stop');
    const saved = JSON.parse(await readFile(checkpointFile, 'utf8')) as CheckpointDocument;

    // Act
    const second = recordingHandler();
    const runner2 = await startEventSourceRunner(
      testOptions({ streamName, handler: second.handler, batchSize: 9, checkpointFile }),
    );
    await within(runner2.drain(), 30_000, 'drain');
    await runner2.stop();

    // Assess
    const acked1 = new Set<string>();
    for (const inv of first.invocations) {
      for (const s of inv.sequenceNumbers) {
        const cp = saved.shards[inv.shardId]?.sequenceNumber;
        if (cp !== undefined && !seqLess(cp, s)) acked1.add(s);
      }
    }
    const delivered2 = second.invocations.flatMap((i) => i.sequenceNumbers);
    // Nothing acknowledged before the stop comes again...
    for (const s of delivered2) expect(acked1.has(s)).toBe(false);
    // ...the failed record is the first redelivered on its shard...
    const onTargetShard = second.invocations.filter((i) => i.shardId === target.shardId);
    expect(onTargetShard[0]?.sequenceNumbers[0]).toBe(target.sequenceNumber);
    // ...and together the two runners delivered every record.
    const all = new Set([...acked1, ...delivered2]);
    for (const p of put) expect(all.has(p.sequenceNumber)).toBe(true);
    expect(all.size).toBe(put.length);
    await cleanup();
  });

  it('a LATEST mapping skips older records, and on restart keeps its original start', async () => {
    // Prepare
    const { dir, cleanup } = await makeTempDir();
    const checkpointFile = join(dir, 'latest.json');
    const streamName = await createStream(kinesis, 1);
    await putAll(
      client,
      streamName,
      records(3).map((r) => ({ ...r, data: `old-${r.data}` })),
    );
    const first = recordingHandler();
    const runner1 = await startEventSourceRunner(
      testOptions({ streamName, handler: first.handler, startingPosition: 'LATEST', checkpointFile }),
    );
    await runner1.stop();
    // Written while no runner is reading: after the mapping's start, so it must be delivered.
    await putAll(client, streamName, [{ partitionKey: 'k', data: 'new-1' }]);

    // Act
    const second = recordingHandler();
    const runner2 = await startEventSourceRunner(
      testOptions({ streamName, handler: second.handler, startingPosition: 'LATEST', checkpointFile }),
    );
    await within(runner2.drain(), 30_000, 'drain');
    await runner2.stop();

    // Assess
    expect(first.invocations).toHaveLength(0);
    expect(second.invocations.flatMap((i: Invocation) => i.data)).toEqual(['new-1']);
    await cleanup();
  });
});

async function waitForActive(kinesisClient: KinesisClient, streamName: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const out = await kinesisClient.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    if (out.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    if (Date.now() > deadline) throw new Error(`${streamName} did not become ACTIVE`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
