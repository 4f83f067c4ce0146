/**
 * Which shard a partition key lands on. Kinesis routes a record by the MD5 of its partition key read
 * as an unsigned 128-bit big-endian integer (or by its explicit hash key) into the shard whose
 * `HashKeyRange` contains it — "Kinesis Data Streams uses MD5 to map partition keys to 128-bit integer
 * values and to map associated data records to shards" (Kinesis Data Streams terminology, Partition
 * Key). KCL deaggregation drops user records whose hash falls outside the shard they were read from,
 * so the shipper must group user records by this map.
 */
import { createHash } from 'node:crypto';

/** One shard's hash key range, from ListShards. */
export interface ShardRange {
  shardId: string;
  startingHashKey: bigint;
  endingHashKey: bigint;
  /** False once the shard was split or merged (it has an ending sequence number). */
  open: boolean;
}

/** The fields of a ListShards `Shard` the map reads. */
export interface ListedShard {
  ShardId?: string | undefined;
  HashKeyRange?: { StartingHashKey?: string | undefined; EndingHashKey?: string | undefined } | undefined;
  SequenceNumberRange?: { EndingSequenceNumber?: string | undefined } | undefined;
}

/**
 * The 128-bit hash Kinesis routes `partitionKey` by: MD5 of its UTF-8 bytes, big-endian unsigned.
 *
 * @example
 * partitionKeyHash('a') === 0x0cc175b9c0f1b6a831c399e269772661n; // MD5('a')
 */
export function partitionKeyHash(partitionKey: string): bigint {
  return BigInt(`0x${createHash('md5').update(partitionKey, 'utf8').digest('hex')}`);
}

/** The hash a user record is checked against: its explicit hash key if it has one, else the MD5. */
export function effectiveHashKey(partitionKey: string, explicitHashKey?: string): bigint {
  return explicitHashKey === undefined ? partitionKeyHash(partitionKey) : BigInt(explicitHashKey);
}

/**
 * Open shards sorted by hash range, with a binary search from hash to shard, plus every listed shard
 * (closed ones too) by id so that a PutRecords answer naming a shard can be checked against its range.
 *
 * @example
 * const map = ShardMap.fromShards((await client.send(new ListShardsCommand({ StreamName }))).Shards ?? []);
 * const shard = map.open[map.indexOfHash(partitionKeyHash('checkout'))];
 */
export class ShardMap {
  /** Open shards, sorted by starting hash key. */
  readonly open: readonly ShardRange[];
  readonly #byId: Map<string, ShardRange>;

  private constructor(open: ShardRange[], byId: Map<string, ShardRange>) {
    this.open = open;
    this.#byId = byId;
  }

  static fromShards(shards: readonly ListedShard[]): ShardMap {
    const byId = new Map<string, ShardRange>();
    const open: ShardRange[] = [];
    for (const s of shards) {
      const start = s.HashKeyRange?.StartingHashKey;
      const end = s.HashKeyRange?.EndingHashKey;
      if (s.ShardId === undefined || start === undefined || end === undefined) continue;
      const range: ShardRange = {
        shardId: s.ShardId,
        startingHashKey: BigInt(start),
        endingHashKey: BigInt(end),
        open: s.SequenceNumberRange?.EndingSequenceNumber === undefined,
      };
      byId.set(range.shardId, range);
      if (range.open) open.push(range);
    }
    open.sort((a, b) => (a.startingHashKey < b.startingHashKey ? -1 : 1));
    return new ShardMap(open, byId);
  }

  /** Index into {@link open} of the shard whose range contains `hash`, or -1 (a gap mid-reshard). */
  indexOfHash(hash: bigint): number {
    const open = this.open;
    let lo = 0;
    let hi = open.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = open[mid]!;
      if (hash < s.startingHashKey) hi = mid - 1;
      else if (hash > s.endingHashKey) lo = mid + 1;
      else return mid;
    }
    return -1;
  }

  /** A shard by id, open or closed, if ListShards returned it. */
  byId(shardId: string): ShardRange | undefined {
    return this.#byId.get(shardId);
  }
}
