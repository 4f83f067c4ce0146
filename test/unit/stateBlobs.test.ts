/**
 * StateBlobStore over an in-memory state store with DynamoDB's conditional-put semantics: blobs round-
 * trip inline and in parts, compressed or as given; heads written before part ids existed still load;
 * two writers racing for one version never mix their parts; superseded parts are deleted.
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { StateBlobStore } from '../../processors/pipeline/stateBlobs.ts';
import type {
  DynamoDbStateStore,
  StateItem,
  StatePut,
  StatePutOutcome,
  StateRef,
} from '../../processors/sinks/dynamoDbStateStore.ts';

/** Conditional on the version like the real store: absent, lower, or the same version and bytes. */
class MemoryStore {
  readonly items = new Map<string, StateItem>();

  async get(ref: StateRef): Promise<StateItem | undefined> {
    return this.items.get(`${ref.kind}#${ref.key}`);
  }

  async getMany(refs: readonly StateRef[]): Promise<(StateItem | undefined)[]> {
    return refs.map((r) => this.items.get(`${r.kind}#${r.key}`));
  }

  async put(put: StatePut): Promise<StatePutOutcome> {
    const key = `${put.kind}#${put.key}`;
    const prev = this.items.get(key);
    const same = prev !== undefined && Buffer.from(prev.data).equals(Buffer.from(put.data));
    if (prev !== undefined && (prev.version > put.version || (prev.version === put.version && !same))) {
      return { kind: 'conflict', currentVersion: prev.version };
    }
    this.items.set(key, { ...put, updatedAtMs: 0 });
    return { kind: 'ok' };
  }

  async putMany(puts: readonly StatePut[]): Promise<StatePutOutcome[]> {
    for (const p of puts) this.items.set(`${p.kind}#${p.key}`, { ...p, updatedAtMs: 0 });
    return puts.map(() => ({ kind: 'ok' }));
  }

  async delete(ref: StateRef): Promise<StatePutOutcome> {
    this.items.delete(`${ref.kind}#${ref.key}`);
    return { kind: 'ok' };
  }

  partKeys(): string[] {
    return [...this.items.keys()].filter((k) => k.includes('-part#')).sort();
  }

  asStore(): DynamoDbStateStore {
    return this as unknown as DynamoDbStateStore;
  }
}

const ref: StateRef = { kind: 'detect', key: 'metrics/shardId-000000000000' };

/** Bytes that do not compress (so the part count is predictable). */
function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe('StateBlobStore', () => {
  it.each([
    ['inline, gzip', 500, true],
    ['inline, as given', 500, false],
    ['parts, gzip', 5_000, true],
    ['parts, as given', 5_000, false],
  ])('round-trips a blob %s', async (_name, size, compress) => {
    // Prepare
    const store = new MemoryStore();
    const blobs = new StateBlobStore(store.asStore(), { maxInlineBytes: 1_024 });
    const data = noise(size, size);
    // Act
    const saved = await blobs.save(ref, 3, data, { compress });
    const loaded = await new StateBlobStore(store.asStore()).load(ref);
    // Assess
    expect(saved).toEqual({ kind: 'ok' });
    expect(loaded?.version).toBe(3);
    expect(Buffer.from(loaded!.data).equals(Buffer.from(data))).toBe(true);
    expect(store.partKeys().length).toBe(size > 1_000 ? Math.ceil((compress ? size + 20 : size) / 1_024) : 0);
  });

  it('stores with the gzip level asked for, and loads it like any gzip blob', async () => {
    // Prepare: compressible bytes, so the level shows in the size.
    const store = new MemoryStore();
    const blobs = new StateBlobStore(store.asStore());
    const data = Buffer.from('tidewatch '.repeat(5_000));
    // Act
    await blobs.save(ref, 1, data, { gzipLevel: 1 });
    const fast = store.items.get(`${ref.kind}#${ref.key}`)!.data.length;
    await blobs.save(ref, 2, data, { gzipLevel: 9 });
    const small = store.items.get(`${ref.kind}#${ref.key}`)!.data.length;
    const loaded = await blobs.load(ref);
    // Assess
    expect(fast).toBeGreaterThan(small);
    expect(Buffer.from(loaded!.data).equals(data)).toBe(true);
  });

  it('loads a parts head written before part ids existed', async () => {
    // Prepare: the previous layout, `<key>#<version>#<i>` parts and a head without an id.
    const store = new MemoryStore();
    const data = noise(3_000, 1);
    const gz = gzipSync(data);
    const parts = [gz.subarray(0, 2_000), gz.subarray(2_000)];
    for (const [i, p] of parts.entries()) {
      await store.put({ kind: 'detect-part', key: `${ref.key}#4#${i}`, version: 4, data: p });
    }
    const head = Buffer.concat([Buffer.of(1), Buffer.from(JSON.stringify({ parts: 2 }))]);
    await store.put({ ...ref, version: 4, data: head });
    // Act
    const loaded = await new StateBlobStore(store.asStore()).load(ref);
    // Assess
    expect(loaded?.version).toBe(4);
    expect(Buffer.from(loaded!.data).equals(Buffer.from(data))).toBe(true);
  });

  it('two writers of the same version: the loser neither overwrites nor leaves parts', async () => {
    // Prepare
    const store = new MemoryStore();
    const a = new StateBlobStore(store.asStore(), { maxInlineBytes: 1_024 });
    const b = new StateBlobStore(store.asStore(), { maxInlineBytes: 1_024 });
    const dataA = noise(4_000, 7);
    const dataB = noise(4_000, 8);
    // Act
    const savedA = await a.save(ref, 5, dataA, { compress: false });
    const savedB = await b.save(ref, 5, dataB, { compress: false });
    await new Promise((resolve) => setTimeout(resolve, 0));
    const loaded = await new StateBlobStore(store.asStore()).load(ref);
    // Assess
    expect(savedA).toEqual({ kind: 'ok' });
    expect(savedB.kind).toBe('conflict');
    expect(Buffer.from(loaded!.data).equals(Buffer.from(dataA))).toBe(true);
    expect(store.partKeys().length).toBe(4);
  });

  it('deletes the parts of the version it replaced', async () => {
    // Prepare
    const store = new MemoryStore();
    const blobs = new StateBlobStore(store.asStore(), { maxInlineBytes: 1_024 });
    await blobs.save(ref, 1, noise(3_000, 1), { compress: false });
    const first = store.partKeys();
    // Act
    await blobs.save(ref, 2, noise(3_000, 2), { compress: false });
    await new Promise((resolve) => setTimeout(resolve, 0));
    // Assess
    const second = store.partKeys();
    expect(first.length).toBe(3);
    expect(second.length).toBe(3);
    expect(second.some((k) => first.includes(k))).toBe(false);
  });
});
