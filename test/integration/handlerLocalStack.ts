/**
 * Test helper: the local AWS stand-ins the handlers talk to (kinesalite, dynalite, Timestream,
 * Firehose and SNS endpoints), all in memory or in a temp dir on ephemeral ports, and the handler
 * environment pointing at them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { DuckDbStore } from '../../local/duckdbStore.ts';
import { type DynaliteHandle, startDynalite } from '../../local/dynalite.ts';
import {
  type FirehoseEndpoint,
  listArchiveFiles,
  readArchiveFile,
  startFirehoseEndpoint,
} from '../../local/firehoseEndpoint.ts';
import { type KinesaliteServer, startKinesalite } from '../../local/kinesalite.ts';
import { createKinesisClient } from '../../local/kinesisClient.ts';
import { type SnsEndpoint, startSnsEndpoint } from '../../local/snsEndpoint.ts';
import { startTimestreamEndpoint, type TimestreamEndpoint } from '../../local/timestreamEndpoint.ts';
import { EnvVar, Names } from '../../processors/schema.ts';
import { ensureStateTable } from '../../processors/sinks/dynamoDbStateStore.ts';
import { createDynamoDbClient } from '../../processors/sinks/sinkClients.ts';
import type { KinesisEvent } from '../../processors/sources/kinesisEvent.ts';

export interface LocalStack {
  dir: string;
  env: Record<string, string>;
  kinesis: KinesaliteServer;
  kinesisClient: KinesisClient;
  dynamo: DynaliteHandle;
  store: DuckDbStore;
  timestream: TimestreamEndpoint;
  firehose: FirehoseEndpoint;
  sns: SnsEndpoint;
  /** Every line delivered under `prefix` (`logs/`, `errors/`), after flushing the Firehose buffers. */
  archivedLines(prefix: 'logs/' | 'errors/'): Promise<string[]>;
  /** Every record of one shard of a stream, from the start, as a Lambda Kinesis event. */
  readStream(stream: string, shardId?: string): Promise<KinesisEvent>;
  close(): Promise<void>;
}

/** Starts the stand-ins; `env` overrides/extends the handler environment. */
export async function startLocalStack(env: Record<string, string> = {}): Promise<LocalStack> {
  const dir = await mkdtemp(join(tmpdir(), 'tw-handler-'));
  const kinesis = await startKinesalite({
    port: 0,
    streams: [
      { name: Names.logsStream, shardCount: 1 },
      { name: Names.metricsStream, shardCount: 1 },
    ],
  });
  const kinesisClient = createKinesisClient(kinesis.url);
  const dynamo = await startDynalite({ port: 0 });
  const ddb = createDynamoDbClient({ endpoint: dynamo.url, maxAttempts: 3 });
  await ensureStateTable(ddb, Names.stateTable);
  ddb.destroy();
  const store = await DuckDbStore.open({ path: ':memory:' });
  // Fixtures carry fixed 2026 timestamps: keep them inside the memory store for years to come.
  const timestream = await startTimestreamEndpoint({ port: 0, store, memoryRetentionHours: 24 * 365 * 20 });
  const firehose = await startFirehoseEndpoint({
    port: 0,
    dataDir: join(dir, 'archive'),
    streams: {
      [Names.archiveDeliveryStream]: { prefix: 'logs/', bufferIntervalS: 0 },
      [Names.archiveErrorDeliveryStream]: { prefix: 'errors/', bufferIntervalS: 0 },
    },
  });
  const sns = await startSnsEndpoint({ port: 0, dataDir: dir });
  const handlerEnv: Record<string, string> = {
    [EnvVar.logsStream]: Names.logsStream,
    [EnvVar.metricsStream]: Names.metricsStream,
    [EnvVar.archiveDeliveryStream]: Names.archiveDeliveryStream,
    [EnvVar.archiveErrorDeliveryStream]: Names.archiveErrorDeliveryStream,
    [EnvVar.alertTopicArn]: sns.topicArn(),
    [EnvVar.stateTable]: Names.stateTable,
    [EnvVar.timestreamDatabase]: Names.timestreamDatabase,
    [EnvVar.windowsTable]: Names.windowsTable,
    [EnvVar.pipelineTable]: Names.pipelineTable,
    [EnvVar.windowMs]: '10000',
    [EnvVar.allowedLatenessMs]: '30000',
    [EnvVar.idleSourceTimeoutMs]: '60000',
    [EnvVar.config]: '{}',
    [EnvVar.dashboardUrlTemplate]: '',
    AWS_ENDPOINT_URL_KINESIS: kinesis.url,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.url,
    AWS_ENDPOINT_URL_FIREHOSE: firehose.url,
    AWS_ENDPOINT_URL_SNS: sns.url,
    [EnvVar.timestreamEndpoint]: timestream.url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_LAMBDA_LOG_LEVEL: 'silent',
    ...env,
  };
  return {
    dir,
    env: handlerEnv,
    kinesis,
    kinesisClient,
    dynamo,
    store,
    timestream,
    firehose,
    sns,
    async archivedLines(prefix) {
      await firehose.flush();
      const lines: string[] = [];
      for (const file of await listArchiveFiles(join(dir, 'archive'), prefix)) {
        for (const line of (await readArchiveFile(file)).toString('utf8').split('\n')) {
          if (line !== '') lines.push(line);
        }
      }
      return lines;
    },
    async readStream(stream, shardId = 'shardId-000000000000') {
      const it = await kinesisClient.send(
        new GetShardIteratorCommand({
          StreamName: stream,
          ShardId: shardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      );
      const out: KinesisEvent = { Records: [] };
      let iterator = it.ShardIterator;
      for (let i = 0; i < 20 && iterator !== undefined; i++) {
        const res = await kinesisClient.send(new GetRecordsCommand({ ShardIterator: iterator }));
        for (const r of res.Records ?? []) {
          out.Records.push({
            kinesis: {
              kinesisSchemaVersion: '1.0',
              data: Buffer.from(r.Data ?? new Uint8Array(0)).toString('base64'),
              sequenceNumber: r.SequenceNumber ?? '',
              partitionKey: r.PartitionKey ?? '',
              approximateArrivalTimestamp: (r.ApproximateArrivalTimestamp?.getTime() ?? Date.now()) / 1000,
            },
            eventSource: 'aws:kinesis',
            eventVersion: '1.0',
            eventID: `${shardId}:${r.SequenceNumber}`,
            eventName: 'aws:kinesis:record',
            awsRegion: 'us-east-1',
            eventSourceARN: `arn:aws:kinesis:us-east-1:000000000000:stream/${stream}`,
          });
        }
        if ((res.Records ?? []).length === 0) break;
        iterator = res.NextShardIterator;
      }
      return out;
    },
    async close() {
      kinesisClient.destroy();
      await sns.close();
      await firehose.close();
      await timestream.close();
      await store.close();
      await dynamo.close();
      await kinesis.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
