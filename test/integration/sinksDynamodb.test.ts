/**
 * DynamoDbStateStore → real @aws-sdk/client-dynamodb → dynalite behind the fault proxy: conditional
 * writes keep the newest state under concurrent writers, batches go through the 100/25 item limits,
 * and throttling, 500s and lost responses never lose or regress state.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynaliteHandle, startDynalite } from '../../local/dynalite.ts';
import { seededRandom } from '../../processors/sinks/backoff.ts';
import {
  DynamoDbStateStore,
  ensureStateTable,
  type StatePut,
} from '../../processors/sinks/dynamoDbStateStore.ts';
import { createDynamoDbClient } from '../../processors/sinks/sinkClients.ts';

const TABLE = 'tidewatch-state-test';
let ddb: DynaliteHandle;
let store: DynamoDbStateStore;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tw-ddb-'));
  ddb = await startDynalite({ path: join(dir, 'db') });
  const client = createDynamoDbClient({ endpoint: ddb.url });
  await ensureStateTable(client, TABLE);
  store = new DynamoDbStateStore({
    client,
    tableName: TABLE,
    backoff: { baseDelayMs: 5, maxDelayMs: 50, random: seededRandom(4) },
  });
});

afterAll(async () => {
  await ddb.close();
  rmSync(dir, { recursive: true, force: true });
});

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

describe('DynamoDbStateStore against dynalite with faults', () => {
  it('never lets an older writer overwrite newer state; conflicts are outcomes, not errors', async () => {
    // Prepare: two "invocations" checkpoint the same 10 keys, interleaved, with faults on.
    ddb.faults.set({ throttleCallFraction: 0.2, failCallFraction: 0.1, dropResponseFraction: 0.1, seed: 8 });
    const keys = Array.from({ length: 10 }, (_, i) => `series-${i}`);
    const writerA = async () => {
      const out = [];
      for (let v = 1; v <= 12; v += 2) {
        out.push(
          ...(await store.putMany(
            keys.map((key) => ({ kind: 'detector', key, version: v, data: bytes(`A${v}`) })),
          )),
        );
      }
      return out;
    };
    const writerB = async () => {
      const out = [];
      for (let v = 12; v >= 2; v -= 2) {
        out.push(
          ...(await store.putMany(
            keys.map((key) => ({ kind: 'detector', key, version: v, data: bytes(`B${v}`) })),
          )),
        );
      }
      return out;
    };

    // Act
    const [a, b] = await Promise.all([writerA(), writerB()]);
    ddb.faults.set({});
    const final = await store.getMany(keys.map((key) => ({ kind: 'detector', key })));

    // Assess: the highest version (12, written by B) wins everywhere; nothing retried or thrown.
    for (const item of final) {
      expect(item?.version).toBe(12);
      expect(text(item?.data)).toBe('B12');
    }
    const all = [...a, ...b];
    expect(all.some((o) => o.kind === 'retry')).toBe(false);
    expect(all.filter((o) => o.kind === 'conflict').length).toBeGreaterThan(0);
    for (const o of all) if (o.kind === 'conflict') expect(o.currentVersion).toBeGreaterThan(0);
    expect(ddb.faults.stats.throttledCalls + ddb.faults.stats.failedCalls).toBeGreaterThan(0);
    expect(ddb.faults.stats.droppedResponses).toBeGreaterThan(0);
  });

  it('treats a retried identical write as ok, and a same-version different write as a conflict', async () => {
    const put: StatePut = { kind: 'window', key: 'shard-1', version: 5, data: bytes('state-5') };
    expect(await store.put(put)).toEqual({ kind: 'ok' });
    expect(await store.put(put)).toEqual({ kind: 'ok' });
    expect(await store.put({ ...put, data: bytes('other') })).toEqual({
      kind: 'conflict',
      currentVersion: 5,
    });
    expect(await store.put({ ...put, version: 4 })).toEqual({ kind: 'conflict', currentVersion: 5 });
    expect(await store.delete({ kind: 'window', key: 'shard-1' }, { ifVersion: 4 })).toEqual({
      kind: 'conflict',
      currentVersion: 5,
    });
    expect(await store.delete({ kind: 'window', key: 'shard-1' }, { ifVersion: 5 })).toEqual({ kind: 'ok' });
    expect(await store.get({ kind: 'window', key: 'shard-1' })).toBeUndefined();
  });

  it('reads and writes batches across the BatchGetItem (100) and BatchWriteItem (25) limits under throttling', async () => {
    // Prepare
    ddb.faults.set({ throttleCallFraction: 0.2, seed: 3 });
    const puts = Array.from({ length: 130 }, (_, i) => ({
      kind: 'alerts',
      key: `k${i}`,
      version: 1,
      data: bytes(`v${i}`),
      ttlSeconds: 3_600,
    }));
    // Act
    const written = await store.putMany(puts, { conditional: false, budgetMs: 60_000 });
    const read = await store.getMany(
      [...puts, { kind: 'alerts', key: 'missing' }, puts[0]!].map(({ kind, key }) => ({ kind, key })),
      { budgetMs: 60_000 },
    );
    ddb.faults.set({});
    // Assess
    expect(written.every((o) => o.kind === 'ok')).toBe(true);
    expect(read.length).toBe(132);
    expect(read.slice(0, 130).map((r) => text(r?.data))).toEqual(puts.map((p) => `v${p.key.slice(1)}`));
    expect(read[130]).toBeUndefined();
    expect(text(read[131]?.data)).toBe('v0');
  });

  it('rejects state over the 400 KB item limit without calling DynamoDB', async () => {
    const out = await store.put({
      kind: 'detector',
      key: 'huge',
      version: 1,
      data: new Uint8Array(400 * 1024),
    });
    expect(out).toMatchObject({ kind: 'reject', code: 'oversized' });
  });

  it('keeps on-disk state across a dynalite restart', async () => {
    // Prepare
    await store.put({ kind: 'detector', key: 'persist', version: 1, data: bytes('kept') });
    await ddb.close();
    // Act
    ddb = await startDynalite({ path: join(dir, 'db') });
    const again = new DynamoDbStateStore({
      client: createDynamoDbClient({ endpoint: ddb.url }),
      tableName: TABLE,
    });
    // Assess
    expect(text((await again.get({ kind: 'detector', key: 'persist' }))?.data)).toBe('kept');
  });
});
