/**
 * Packs user records into KPL aggregates that each land wholly inside one shard.
 *
 * Why grouping by shard (and not one explicit hash key per aggregate): a KCL consumer deaggregates
 * and then *drops* every user record whose effective hash key (its explicit hash key, else the MD5 of
 * its partition key) lies outside the range of the shard it was read from. Forcing an explicit hash
 * key onto every user record would keep KCL happy but rewrite where the caller's partition keys
 * route, breaking per-key shard affinity and ordering; grouping keeps both. Three routing modes:
 *
 * - `random` (no `partitionKey` option): every aggregate gets a fresh unique key and all its user
 *   records carry that same key — inside any shard by construction, no shard map needed, and
 *   aggregates spread uniformly over the shards.
 * - `fixed` (one string key): every record carries it; one shard, trivially consistent.
 * - `keyed` (a key per event): user records are grouped by the shard their key hashes to according
 *   to a {@link ShardMap} from ListShards. The aggregate is routed by its first record's key, so it
 *   lands on that shard. If the map is stale (resharding), PutRecords answers with another shard id;
 *   the shipper then refreshes the map and re-sends the user records that fell outside. Without a map
 *   (ListShards denied or failing) records are grouped by partition key — always correct, less dense.
 *
 * An aggregate holding one user record is sent as a plain record, as the KPL does: consumers handle
 * both and it saves the 20+ bytes of framing.
 */
import { Buffer } from 'node:buffer';
import { KplAggregateBuilder, type KplUserRecord, MAX_KINESIS_RECORD_BYTES } from './kpl.ts';
import { partitionKeyHash, type ShardMap } from './shardMap.ts';

/** A Kinesis record on its way out (an aggregate or a plain record), with its delivery state. */
export interface OutboundRecord {
  partitionKey: string;
  data: Uint8Array;
  /** Data + partition key in UTF-8 bytes: what counts against the 1 MiB and 5 MiB limits. */
  sizeBytes: number;
  /** User records (events) inside. */
  events: number;
  /** Sum of the events' UTF-8 bytes (buffer accounting). */
  eventBytes: number;
  aggregated: boolean;
  /** Shard the shard map says this record lands on (keyed mode with a map), to detect resharding. */
  expectedShardId: string | undefined;
  /** Flush generation of the events inside (see the shipper's flush bookkeeping). */
  gen: number;
  /** Failed attempts so far. */
  attempts: number;
  /** Time of the first failure (0 = never failed): the start of the `maxRetryMs` budget. */
  firstFailureMs: number;
  /** When the next attempt may start. */
  dueMs: number;
  /** Last error code and message, for the final report. */
  lastError: string;
}

export type RoutingMode = 'random' | 'fixed' | 'keyed';

export interface ShardAggregatorOptions {
  mode: RoutingMode;
  /** Budget of one aggregate, data + outer partition key; ≤ {@link MAX_KINESIS_RECORD_BYTES}. */
  maxAggregateBytes: number;
  /** The key in `fixed` mode. */
  fixedKey?: string | undefined;
  /** Prefix of generated keys in `random` mode (unique per shipper). */
  randomKeyPrefix?: string | undefined;
}

class Group {
  readonly builder: KplAggregateBuilder;
  first: KplUserRecord | undefined = undefined;
  events = 0;
  eventBytes = 0;
  key = '';
  expectedShardId: string | undefined;

  constructor(maxAggregateBytes: number, expectedShardId: string | undefined) {
    this.builder = new KplAggregateBuilder(maxAggregateBytes);
    this.expectedShardId = expectedShardId;
  }
}

/** Key → shard index cache size; cleared when full (keys like request ids would grow it forever). */
const KEY_CACHE_MAX = 16_384;

/**
 * Incremental shard-aware aggregation. `add` may emit finished records into `out`; `finalizeAll`
 * emits the partial ones.
 *
 * @example
 * const agg = new ShardAggregator({ mode: 'keyed', maxAggregateBytes: 65_536 });
 * agg.setShardMap(map, 0, out);
 * agg.add('checkout', Buffer.from('{"msg":"a"}'), 0, out);
 * agg.finalizeAll(0, out);   // out: OutboundRecord[] ready for PutRecords
 */
export class ShardAggregator {
  readonly mode: RoutingMode;
  readonly #maxAggregateBytes: number;
  readonly #fixedKey: string;
  readonly #randomPrefix: string;
  #randomCounter = 0;
  /** `random` / `fixed` mode: the one group. */
  readonly #single: Group;
  /** `keyed` mode with a map: one group per open shard, same order as `map.open`. */
  #byShard: Group[] = [];
  /** `keyed` mode without a map, or for hashes in a gap of the map: one group per key. */
  readonly #byKey = new Map<string, Group>();
  #map: ShardMap | undefined;
  readonly #shardOfKey = new Map<string, number>();
  /** Groups holding records (so finalizeAll need not scan every shard). */
  readonly #dirty: Group[] = [];

  constructor(options: ShardAggregatorOptions) {
    this.mode = options.mode;
    this.#maxAggregateBytes = Math.min(options.maxAggregateBytes, MAX_KINESIS_RECORD_BYTES);
    this.#fixedKey = options.fixedKey ?? '';
    this.#randomPrefix = options.randomKeyPrefix ?? `tw-${Math.random().toString(36).slice(2, 10)}-`;
    this.#single = new Group(this.#maxAggregateBytes, undefined);
    this.#single.key = this.mode === 'fixed' ? this.#fixedKey : this.#nextRandomKey();
  }

  get shardMap(): ShardMap | undefined {
    return this.#map;
  }

  /** True while some group holds records not yet emitted. */
  get hasPartial(): boolean {
    return this.#dirty.length > 0;
  }

  /**
   * Switches to `map` (keyed mode). Partial aggregates built for the old map are emitted first with
   * generation `gen`.
   */
  setShardMap(map: ShardMap | undefined, gen: number, out: OutboundRecord[]): void {
    this.finalizeAll(gen, out);
    this.#map = map;
    this.#shardOfKey.clear();
    this.#byShard =
      map === undefined ? [] : map.open.map((s) => new Group(this.#maxAggregateBytes, s.shardId));
  }

  /**
   * Adds one user record. `key` is ignored in `random` and `fixed` modes. The caller guarantees
   * data + key fit one Kinesis record (checked when the event was accepted).
   */
  add(key: string | undefined, data: Uint8Array, gen: number, out: OutboundRecord[]): void {
    let group: Group;
    if (this.mode !== 'keyed') group = this.#single;
    else {
      const k = key as string;
      group = this.#groupForKey(k);
      group.key = k;
    }
    const rec: KplUserRecord = { partitionKey: group.key, data };
    if (this.#tryAdd(group, rec)) return;
    if (group.events > 0) {
      this.#emit(group, gen, out);
      if (this.mode === 'random') rec.partitionKey = group.key; // #emit drew a fresh key
      if (this.#tryAdd(group, rec)) return;
    }
    // Larger than an aggregate can hold but within a Kinesis record: ship it as a plain record.
    out.push(plainRecord(rec, gen, group.expectedShardId));
  }

  /** Emits every partial aggregate. */
  finalizeAll(gen: number, out: OutboundRecord[]): void {
    const dirty = this.#dirty;
    for (let i = 0; i < dirty.length; i++) {
      const g = dirty[i]!;
      if (g.events > 0) this.#emit(g, gen, out);
    }
    dirty.length = 0;
    // Per-key groups are made on demand; drop them so request-id-like keys do not accumulate.
    this.#byKey.clear();
  }

  #tryAdd(group: Group, rec: KplUserRecord): boolean {
    if (!group.builder.tryAdd(rec)) return false;
    if (group.events === 0) {
      group.first = rec;
      this.#dirty.push(group);
    }
    group.events++;
    group.eventBytes += rec.data.byteLength;
    return true;
  }

  #groupForKey(key: string): Group {
    const map = this.#map;
    if (map !== undefined) {
      let ix = this.#shardOfKey.get(key);
      if (ix === undefined) {
        ix = map.indexOfHash(partitionKeyHash(key));
        if (this.#shardOfKey.size >= KEY_CACHE_MAX) this.#shardOfKey.clear();
        this.#shardOfKey.set(key, ix);
      }
      const g = this.#byShard[ix];
      if (g !== undefined) return g;
    }
    let g = this.#byKey.get(key);
    if (g === undefined) {
      g = new Group(this.#maxAggregateBytes, undefined);
      this.#byKey.set(key, g);
    }
    return g;
  }

  #emit(group: Group, gen: number, out: OutboundRecord[]): void {
    if (group.events === 1) out.push(plainRecord(group.first!, gen, group.expectedShardId));
    else {
      const entry = group.builder.build();
      out.push({
        partitionKey: entry.partitionKey,
        data: entry.data,
        sizeBytes: group.builder.sizeBytes,
        events: group.events,
        eventBytes: group.eventBytes,
        aggregated: true,
        expectedShardId: group.expectedShardId,
        gen,
        attempts: 0,
        firstFailureMs: 0,
        dueMs: 0,
        lastError: '',
      });
    }
    group.builder.reset();
    group.first = undefined;
    group.events = 0;
    group.eventBytes = 0;
    if (this.mode === 'random') group.key = this.#nextRandomKey();
  }

  #nextRandomKey(): string {
    return this.#randomPrefix + (this.#randomCounter++).toString(36);
  }
}

function plainRecord(rec: KplUserRecord, gen: number, expectedShardId: string | undefined): OutboundRecord {
  return {
    partitionKey: rec.partitionKey,
    data: rec.data,
    sizeBytes: rec.data.byteLength + Buffer.byteLength(rec.partitionKey, 'utf8'),
    events: 1,
    eventBytes: rec.data.byteLength,
    aggregated: false,
    expectedShardId,
    gen,
    attempts: 0,
    firstFailureMs: 0,
    dueMs: 0,
    lastError: '',
  };
}
