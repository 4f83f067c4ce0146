/**
 * Test helpers for the SDK integration tests: an in-process kinesalite on an ephemeral port, stream
 * creation, and a full read-back of a stream (every shard, TRIM_HORIZON to the end) deaggregated with
 * sdk/kpl.ts.
 */
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { decodeAggregate } from '../../sdk/kpl.ts';
import { effectiveHashKey, partitionKeyHash } from '../../sdk/shardMap.ts';

const require = createRequire(import.meta.url);
const kinesalite = require('kinesalite') as (options: {
  createStreamMs?: number;
  deleteStreamMs?: number;
  updateStreamMs?: number;
  shardLimit?: number;
}) => Server;

export interface LocalKinesis {
  url: string;
  client: KinesisClient;
  close(): Promise<void>;
}

export async function startLocalKinesis(): Promise<LocalKinesis> {
  const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new KinesisClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    requestHandler: new NodeHttpHandler(),
  });
  return {
    url,
    client,
    async close() {
      client.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

export async function createStream(client: KinesisClient, name: string, shardCount: number): Promise<void> {
  await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shardCount }));
  for (let i = 0; i < 200; i++) {
    const out = await client.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    if (out.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`stream ${name} never became ACTIVE`);
}

/** One user record as a consumer sees it after deaggregation, with where it was read from. */
export interface ReadBackRecord {
  shardId: string;
  partitionKey: string;
  explicitHashKey?: string;
  data: string;
  aggregated: boolean;
  /** True when the record's effective hash key lies in the range of the shard it was read from. */
  inShardRange: boolean;
}

export interface ReadBack {
  records: ReadBackRecord[];
  kinesisRecords: number;
  rejects: number;
}

/** Reads every shard of `stream` from TRIM_HORIZON to its end and deaggregates. */
export async function readStream(client: KinesisClient, stream: string): Promise<ReadBack> {
  const shards = (await client.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
  const records: ReadBackRecord[] = [];
  let kinesisRecords = 0;
  let rejects = 0;
  for (const shard of shards) {
    const start = BigInt(shard.HashKeyRange!.StartingHashKey!);
    const end = BigInt(shard.HashKeyRange!.EndingHashKey!);
    let iterator = (
      await client.send(
        new GetShardIteratorCommand({
          StreamName: stream,
          ShardId: shard.ShardId!,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      )
    ).ShardIterator;
    while (iterator !== undefined) {
      const out = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const r of out.Records ?? []) {
        kinesisRecords++;
        const decoded = decodeAggregate(r.Data!);
        if (decoded.kind === 'ok') {
          for (const u of decoded.records) {
            const hash = effectiveHashKey(u.partitionKey, u.explicitHashKey);
            records.push({
              shardId: shard.ShardId!,
              partitionKey: u.partitionKey,
              ...(u.explicitHashKey === undefined ? {} : { explicitHashKey: u.explicitHashKey }),
              data: Buffer.from(u.data).toString('utf8'),
              aggregated: true,
              inShardRange: hash >= start && hash <= end,
            });
          }
        } else if (decoded.kind === 'not_aggregated') {
          const hash = partitionKeyHash(r.PartitionKey!);
          records.push({
            shardId: shard.ShardId!,
            partitionKey: r.PartitionKey!,
            data: Buffer.from(r.Data!).toString('utf8'),
            aggregated: false,
            inShardRange: hash >= start && hash <= end,
          });
        } else rejects++;
      }
      if ((out.Records ?? []).length === 0) break;
      iterator = out.NextShardIterator;
    }
  }
  return { records, kinesisRecords, rejects };
}
