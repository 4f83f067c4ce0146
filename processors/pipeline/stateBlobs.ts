/**
 * Versioned, gzip-compressed state blobs on the DynamoDB state store, of any size.
 *
 * A DynamoDB item holds at most 400 KB. A blob that fits is stored inline in its head item
 * (`<kind>#<key>`). A bigger one is written first as parts (`<kind>-part#<key>#<version>#<i>`), then the
 * head is switched to point at them with one conditional put — so a reader sees the old blob or the new
 * one, never a mix, without transactions (dynalite has none). Parts of the previous version are
 * deleted after the switch (best effort; a leftover part is garbage, never read).
 *
 * The head put is conditional on the version (`DynamoDbStateStore`): two writers of one blob cannot
 * both succeed with the same version; the loser gets `conflict` and must reload.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { DynamoDbStateStore, StatePutOutcome, StateRef } from '../sinks/dynamoDbStateStore.ts';
import { CheckpointError } from './errors.ts';

/** Stored blob bytes per item: 400 KB minus room for names and attributes. */
export const DEFAULT_MAX_INLINE_BYTES = 380 * 1024;

const INLINE = 0;
const PARTS = 1;

/** A loaded blob. */
export interface LoadedBlob {
  version: number;
  data: Uint8Array;
}

/**
 * Blob store over a {@link DynamoDbStateStore}.
 *
 * @example
 * const blobs = new StateBlobStore(stateStore);
 * const prev = await blobs.load({ kind: 'detect', key: 'tidewatch-metrics/shardId-000000000000' });
 * await blobs.save(ref, (prev?.version ?? 0) + 1, new TextEncoder().encode(JSON.stringify(state)));
 */
export class StateBlobStore {
  private readonly maxInlineBytes: number;
  /** Part count of the version last seen per head, to delete superseded parts. */
  private readonly partsOf = new Map<string, { version: number; parts: number }>();

  constructor(
    private readonly store: DynamoDbStateStore,
    options: { maxInlineBytes?: number } = {},
  ) {
    this.maxInlineBytes = options.maxInlineBytes ?? DEFAULT_MAX_INLINE_BYTES;
  }

  /**
   * Loads a blob, or `undefined` when none was stored.
   * @throws CheckpointError when DynamoDB keeps failing or the blob is corrupt.
   */
  async load(ref: StateRef, options: { budgetMs?: number } = {}): Promise<LoadedBlob | undefined> {
    let head: Awaited<ReturnType<DynamoDbStateStore['get']>>;
    try {
      head = await this.store.get(ref, options);
    } catch (err) {
      throw new CheckpointError(`cannot read state ${ref.kind}#${ref.key}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    if (head === undefined) return undefined;
    const bytes = head.data;
    if (bytes.length === 0) throw new CheckpointError(`state ${ref.kind}#${ref.key} is empty`);
    let gz: Uint8Array;
    if (bytes[0] === INLINE) gz = bytes.subarray(1);
    else if (bytes[0] === PARTS) {
      const parts = JSON.parse(Buffer.from(bytes.subarray(1)).toString('utf8')) as { parts: number };
      const refs = [];
      for (let i = 0; i < parts.parts; i++) refs.push(partRef(ref, head.version, i));
      let items: Awaited<ReturnType<DynamoDbStateStore['getMany']>>;
      try {
        items = await this.store.getMany(refs, options);
      } catch (err) {
        throw new CheckpointError(`cannot read parts of state ${ref.kind}#${ref.key}`, { cause: err });
      }
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < items.length; i++) {
        const item = items[i];
        if (item === undefined) {
          throw new CheckpointError(
            `state ${ref.kind}#${ref.key} version ${head.version}: part ${i + 1} of ${items.length} is missing`,
          );
        }
        chunks.push(item.data);
      }
      gz = Buffer.concat(chunks);
      this.partsOf.set(headKey(ref), { version: head.version, parts: parts.parts });
    } else throw new CheckpointError(`state ${ref.kind}#${ref.key}: unknown layout byte ${bytes[0]}`);
    try {
      return { version: head.version, data: gunzipSync(gz) };
    } catch (err) {
      throw new CheckpointError(`state ${ref.kind}#${ref.key} is not gzip`, { cause: err });
    }
  }

  /**
   * Stores `data` as version `version` (must be higher than the stored one). `conflict` when someone
   * stored this or a newer version first; `retry` when DynamoDB kept failing.
   */
  async save(
    ref: StateRef,
    version: number,
    data: Uint8Array,
    options: { budgetMs?: number } = {},
  ): Promise<StatePutOutcome> {
    const gz = gzipSync(data);
    if (gz.length + 1 <= this.maxInlineBytes) {
      const out = await this.store.put(
        { ...ref, version, data: Buffer.concat([Buffer.of(INLINE), gz]) },
        options,
      );
      if (out.kind === 'ok') this.dropOldParts(ref, undefined);
      return out;
    }
    const n = Math.ceil(gz.length / this.maxInlineBytes);
    const puts = [];
    for (let i = 0; i < n; i++) {
      puts.push({
        ...partRef(ref, version, i),
        version,
        data: gz.subarray(i * this.maxInlineBytes, (i + 1) * this.maxInlineBytes),
      });
    }
    const outcomes = await this.store.putMany(puts, { ...options, conditional: false });
    for (const o of outcomes) if (o.kind !== 'ok') return o;
    const head = Buffer.concat([Buffer.of(PARTS), Buffer.from(JSON.stringify({ parts: n }))]);
    const out = await this.store.put({ ...ref, version, data: head }, options);
    if (out.kind === 'ok') this.dropOldParts(ref, { version, parts: n });
    return out;
  }

  private dropOldParts(ref: StateRef, next: { version: number; parts: number } | undefined): void {
    const key = headKey(ref);
    const old = this.partsOf.get(key);
    if (next === undefined) this.partsOf.delete(key);
    else this.partsOf.set(key, next);
    if (old === undefined || old.version === next?.version) return;
    for (let i = 0; i < old.parts; i++) {
      this.store.delete(partRef(ref, old.version, i)).catch(() => undefined);
    }
  }
}

function headKey(ref: StateRef): string {
  return `${ref.kind}#${ref.key}`;
}

function partRef(ref: StateRef, version: number, i: number): StateRef {
  return { kind: `${ref.kind}-part`, key: `${ref.key}#${version}#${i}` };
}
