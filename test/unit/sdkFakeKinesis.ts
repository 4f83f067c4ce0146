/**
 * A scriptable stand-in for `KinesisClient` in SDK unit tests: records every PutRecords call and
 * answers through a handler the test supplies.
 */
import {
  type KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
  type PutRecordsRequestEntry,
  type PutRecordsResultEntry,
  type Shard,
} from '@aws-sdk/client-kinesis';

export interface PutCall {
  entries: PutRecordsRequestEntry[];
}

export type PutHandler = (
  entries: PutRecordsRequestEntry[],
  callIndex: number,
) => Promise<PutRecordsResultEntry[]> | PutRecordsResultEntry[];

export class FakeKinesis {
  readonly calls: PutCall[] = [];
  listShardsCalls = 0;
  destroyed = false;
  shards: Shard[] = [];
  onPut: PutHandler = (entries) =>
    entries.map((_, i) => ({ SequenceNumber: String(i), ShardId: 'shardId-0' }));
  onListShards: (() => Promise<Shard[]> | Shard[]) | undefined;

  asClient(): KinesisClient {
    return this as unknown as KinesisClient;
  }

  async send(command: unknown): Promise<unknown> {
    if (command instanceof PutRecordsCommand) {
      const entries = command.input.Records ?? [];
      const index = this.calls.length;
      this.calls.push({ entries });
      const records = await this.onPut(entries, index);
      return { Records: records, FailedRecordCount: records.filter((r) => r.ErrorCode !== undefined).length };
    }
    if (command instanceof ListShardsCommand) {
      this.listShardsCalls++;
      return { Shards: this.onListShards === undefined ? this.shards : await this.onListShards() };
    }
    throw new Error(`FakeKinesis: unexpected command ${(command as object).constructor.name}`);
  }

  destroy(): void {
    this.destroyed = true;
  }

  /** Every entry of every call, in order. */
  allEntries(): PutRecordsRequestEntry[] {
    return this.calls.flatMap((c) => c.entries);
  }
}

/** An AWS-SDK-shaped service error. */
export function serviceError(name: string, message = name): Error {
  const err = new Error(message);
  err.name = name;
  return err;
}

export const ok = (i: number, shardId = 'shardId-0'): PutRecordsResultEntry => ({
  SequenceNumber: String(i),
  ShardId: shardId,
});
