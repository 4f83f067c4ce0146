/** CheckpointStore: atomic, coalesced persistence of per-shard checkpoints. */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointStore } from '../../local/checkpointStore.ts';
import { CheckpointError } from '../../local/eventSourceRunnerErrors.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidewatch-cp-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('CheckpointStore', () => {
  it('starts empty when the file does not exist, and round-trips what was set', async () => {
    // Prepare
    const file = join(dir, 'nested', 'cp.json');
    const store = await CheckpointStore.open(file, 'logs');

    // Act
    store.set('shardId-000000000000', { sequenceNumber: '42' });
    store.set('shardId-000000000001', { finished: true });
    store.set('shardId-000000000002', { sinceMs: 1_700_000_000_000 });
    await store.flush();
    const reopened = await CheckpointStore.open(file, 'logs');

    // Assess
    expect([...store.entries()]).toHaveLength(3);
    expect(reopened.get('shardId-000000000000')).toEqual({ sequenceNumber: '42' });
    expect(reopened.get('shardId-000000000001')).toEqual({ finished: true });
    expect(reopened.get('shardId-000000000002')).toEqual({ sinceMs: 1_700_000_000_000 });
    const doc = JSON.parse(await readFile(file, 'utf8'));
    expect(doc.version).toBe(1);
    expect(doc.streamName).toBe('logs');
  });

  it('coalesces bursts of updates into few writes, the last state winning, with no temp file left', async () => {
    // Prepare
    const file = join(dir, 'cp.json');
    const store = await CheckpointStore.open(file, 'logs');

    // Act
    for (let i = 1; i <= 500; i++) store.set('shardId-000000000000', { sequenceNumber: String(i) });
    await store.flush();

    // Assess
    expect(store.writes).toBeGreaterThanOrEqual(1);
    expect(store.writes).toBeLessThan(500);
    expect((await CheckpointStore.open(file, 'logs')).get('shardId-000000000000')).toEqual({
      sequenceNumber: '500',
    });
    expect(await readdir(dir)).toEqual(['cp.json']);
  });

  it('refuses a file that belongs to another stream', async () => {
    // Prepare
    const file = join(dir, 'cp.json');
    const store = await CheckpointStore.open(file, 'logs');
    store.set('shardId-000000000000', { sequenceNumber: '1' });
    await store.flush();

    // Act / Assess
    await expect(CheckpointStore.open(file, 'metrics')).rejects.toThrow(CheckpointError);
    await expect(CheckpointStore.open(file, 'metrics')).rejects.toThrow(/one file per stream/);
  });

  it('refuses a corrupt file with advice instead of starting over silently', async () => {
    // Prepare
    const file = join(dir, 'cp.json');
    await writeFile(file, '{"version":1,"streamName":"logs","shards":{');

    // Act / Assess
    await expect(CheckpointStore.open(file, 'logs')).rejects.toThrow(/not valid JSON/);
  });

  it('reports a write failure on flush, and writes again once the cause is gone', async () => {
    // Prepare: the checkpoint's directory is taken by a plain file, so the write cannot happen.
    const sub = join(dir, 'sub');
    const file = join(sub, 'cp.json');
    const store = await CheckpointStore.open(file, 'logs');
    await writeFile(sub, 'not a directory');

    // Act
    store.set('shardId-000000000000', { sequenceNumber: '7' });
    const failed = await store.flush().catch((e: unknown) => e);
    await rm(sub);
    store.set('shardId-000000000000', { sequenceNumber: '8' });
    await store.flush();

    // Assess
    expect(failed).toBeInstanceOf(CheckpointError);
    expect((await CheckpointStore.open(file, 'logs')).get('shardId-000000000000')).toEqual({
      sequenceNumber: '8',
    });
  });

  it('keeps checkpoints in memory when no file is given', async () => {
    const store = await CheckpointStore.open(undefined, 'logs');
    store.set('shardId-000000000000', { sequenceNumber: '3' });
    await store.flush();
    expect(store.get('shardId-000000000000')).toEqual({ sequenceNumber: '3' });
    expect(store.writes).toBe(0);
  });
});
