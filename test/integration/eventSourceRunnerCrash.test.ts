/**
 * Durability of the embedded Kinesis: kinesalite on disk keeps streams and records across a
 * close/reopen, and a process running kinesalite + the event-source runner that is SIGKILLed
 * mid-batch resumes on the same data directory and checkpoint file without skipping a record.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import type { CheckpointDocument } from '../../local/checkpointStore.ts';
import { startEventSourceRunner } from '../../local/eventSourceRunner.ts';
import { startKinesalite } from '../../local/kinesalite.ts';
import { createKinesisClient } from '../../local/kinesisClient.ts';
import {
  makeTempDir,
  memoryLogger,
  putAll,
  recordingHandler,
  seqLess,
  within,
} from './eventSourceRunnerHelpers.ts';

async function readShard(client: KinesisClient, streamName: string, shardId: string): Promise<string[]> {
  const it = await client.send(
    new GetShardIteratorCommand({
      StreamName: streamName,
      ShardId: shardId,
      ShardIteratorType: 'TRIM_HORIZON',
    }),
  );
  const out = await client.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator as string }));
  return (out.Records ?? []).map((r) => `${r.SequenceNumber} ${Buffer.from(r.Data ?? []).toString('utf8')}`);
}

describe('kinesalite on disk', () => {
  it('keeps streams and records across close and reopen', async () => {
    // Prepare
    const { dir, cleanup } = await makeTempDir();
    const path = join(dir, 'kinesis');
    const first = await startKinesalite({ port: 0, path, streams: [{ name: 'logs', shardCount: 2 }] });
    const client1 = createKinesisClient(first.url);
    const put = await putAll(
      client1,
      'logs',
      Array.from({ length: 20 }, (_, i) => ({ partitionKey: `k${i}`, data: `d${i}` })),
    );
    const before0 = await readShard(client1, 'logs', 'shardId-000000000000');
    const before1 = await readShard(client1, 'logs', 'shardId-000000000001');
    client1.destroy();
    await first.close();

    // Act
    const second = await startKinesalite({ port: 0, path, streams: [{ name: 'logs', shardCount: 2 }] });
    const client2 = createKinesisClient(second.url);
    const shards = await client2.send(new ListShardsCommand({ StreamName: 'logs' }));
    const after0 = await readShard(client2, 'logs', 'shardId-000000000000');
    const after1 = await readShard(client2, 'logs', 'shardId-000000000001');
    const more = await putAll(client2, 'logs', [{ partitionKey: 'k0', data: 'after-reopen' }]);
    client2.destroy();
    await second.close();

    // Assess
    expect(shards.Shards?.map((s) => s.ShardId)).toEqual(['shardId-000000000000', 'shardId-000000000001']);
    expect(after0).toEqual(before0);
    expect(after1).toEqual(before1);
    expect(after0.length + after1.length).toBe(20);
    const lastOnShard = put.filter((p) => p.shardId === more[0]?.shardId).at(-1);
    expect(seqLess(lastOnShard?.sequenceNumber as string, more[0]?.sequenceNumber as string)).toBe(true);
    await cleanup();
  });
});

describe('SIGKILL', () => {
  it('kinesalite on disk + runner killed mid-batch resume with no record skipped and no acknowledged record redelivered', async () => {
    // Prepare: the child runs kinesalite on disk and a runner whose handler hangs after 8 batches.
    const { dir, cleanup } = await makeTempDir();
    const dataDir = join(dir, 'kinesis');
    const checkpointFile = join(dir, 'checkpoints.json');
    const logFile = join(dir, 'delivered.log');
    const childPath = fileURLToPath(new URL('./eventSourceRunnerChild.ts', import.meta.url));
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', childPath, dataDir, 'logs', checkpointFile, logFile, '8'],
      {
        cwd: process.cwd(),
        env: { ...process.env, NODE_NO_WARNINGS: '1' },
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    let clientA: KinesisClient | undefined;
    try {
      const { url } = JSON.parse(await within(firstLine(child), 60_000, 'child start')) as { url: string };
      clientA = createKinesisClient(url);
      const put = await putAll(
        clientA,
        'logs',
        Array.from({ length: 200 }, (_, i) => ({ partitionKey: `key-${i % 13}`, data: `d${i}` })),
      );
      child.stdin?.write('go\n');
      await waitForText(logFile, 'hung');
      // Checkpoints are written asynchronously: wait until some progress is on disk, so the crash
      // point has both acknowledged and unacknowledged records.
      await waitForText(checkpointFile, '"sequenceNumber"');
      // Let the other shard reach its hang too (or not): either way is a valid crash point.
      await new Promise((r) => setTimeout(r, 100));

      // Act: kill -9, then reopen the same directory and checkpoint file in this process.
      clientA.destroy();
      clientA = undefined;
      await killHard(child);
      const delivered1 = (await readFile(logFile, 'utf8'))
        .split('\n')
        .filter((l) => l !== '' && l !== 'hung');
      const saved = JSON.parse(await readFile(checkpointFile, 'utf8')) as CheckpointDocument;
      const kinesis = await startKinesalite({ port: 0, path: dataDir });
      const clientB = createKinesisClient(kinesis.url);
      const second = recordingHandler();
      const runner = await startEventSourceRunner({
        client: clientB,
        streamName: 'logs',
        handler: second.handler,
        checkpointFile,
        batchSize: 5,
        pollIntervalMs: 20,
        logger: memoryLogger().logger,
      });
      await within(runner.drain(), 60_000, 'drain after restart');
      await runner.stop();
      clientB.destroy();
      await kinesis.close();

      // Assess
      const cp = (shardId: string): string | undefined => saved.shards[shardId]?.sequenceNumber;
      const acknowledged = put.filter((p) => {
        const c = cp(p.shardId);
        return c !== undefined && !seqLess(c, p.sequenceNumber);
      });
      const unacknowledged = put.filter((p) => !acknowledged.includes(p));
      // The crash happened mid-run: some records were acknowledged, some were not.
      expect(acknowledged.length).toBeGreaterThan(0);
      expect(unacknowledged.length).toBeGreaterThan(0);
      // Every acknowledged record had been delivered before the crash...
      const seen1 = new Set(delivered1);
      for (const p of acknowledged) expect(seen1.has(`${p.shardId}:${p.sequenceNumber}`)).toBe(true);
      // ...and after the restart exactly the unacknowledged ones arrive, in order, once each.
      for (const shardId of ['shardId-000000000000', 'shardId-000000000001']) {
        const got = second.invocations.filter((i) => i.shardId === shardId).flatMap((i) => i.sequenceNumbers);
        const want = unacknowledged.filter((p) => p.shardId === shardId).map((p) => p.sequenceNumber);
        expect(got).toEqual(want);
      }
    } finally {
      clientA?.destroy();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await cleanup();
    }
  });
});

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    rl.once('line', (line) => {
      rl.close();
      resolve(line);
    });
    child.once('exit', (code, signal) => reject(new Error(`child exited early (${code ?? signal})`)));
  });
}

async function waitForText(file: string, text: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const content = await readFile(file, 'utf8').catch(() => '');
    if (content.includes(text)) return;
    if (Date.now() > deadline) throw new Error(`'${text}' did not appear in ${file} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function killHard(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
