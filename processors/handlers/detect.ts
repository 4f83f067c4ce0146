/**
 * Lambda `tidewatch-detect` (metrics stream → merged windows in Timestream, anomaly scores, alerts on
 * SNS, checkpoints in DynamoDB). Environment: `EnvVar` in schema.ts (docs/handlers.md). Clients and
 * per-shard state are created once per container. The logic is in
 * `processors/pipeline/detectPipeline.ts`; besides Kinesis events it accepts `{"tidewatch":"tick"}`
 * (close windows of idle shards; schedule it) and `{"tidewatch":"flush"}`.
 *
 * Handler string: `index.handler` in the bundle `dist/detect/index.mjs` (`npm run build`).
 */
import { ListShardsCommand } from '@aws-sdk/client-kinesis';
import { type AwsClients, createAwsClients } from '../pipeline/awsClients.ts';
import {
  createDetectHandler,
  type DetectControlEvent,
  type DetectControlResult,
  type DetectDeps,
  type DetectHandler,
} from '../pipeline/detectPipeline.ts';
import { type HandlerEnv, readHandlerConfig } from '../pipeline/handlerConfig.ts';
import type { LambdaContextLike } from '../pipeline/lambdaContext.ts';
import { jsonLogger, type PipelineLogger } from '../pipeline/logger.ts';
import { StateBlobStore } from '../pipeline/stateBlobs.ts';
import { DynamoDbStateStore } from '../sinks/dynamoDbStateStore.ts';
import { FirehoseArchiver } from '../sinks/firehoseArchiver.ts';
import { SnsAlertPublisher } from '../sinks/snsAlertPublisher.ts';
import { TimestreamSink } from '../sinks/timestreamSink.ts';
import type { KinesisBatchResponse, KinesisEvent } from '../sources/kinesisEvent.ts';

export {
  createDetectHandler,
  type DetectControlEvent,
  type DetectControlResult,
  type DetectDeps,
  type DetectHandler,
};

/**
 * Builds the detect dependencies from an environment (as `process.env` has it).
 *
 * @throws HandlerConfigError when the environment is invalid.
 * @example
 * const { deps } = createDetectDeps(process.env);
 * const detect = createDetectHandler(deps);
 */
export function createDetectDeps(
  env: HandlerEnv,
  options: { logger?: PipelineLogger } = {},
): { deps: DetectDeps; clients: AwsClients } {
  const config = readHandlerConfig(env);
  const clients = createAwsClients(config);
  const logger = options.logger ?? jsonLogger({ level: env.AWS_LAMBDA_LOG_LEVEL, stage: 'detect' });
  let shardCache: { ids: string[]; atMs: number } | undefined;
  const deps: DetectDeps = {
    config,
    states: new StateBlobStore(
      new DynamoDbStateStore({ client: clients.dynamodb, tableName: config.stateTable }),
    ),
    sink: new TimestreamSink({ client: clients.timestream, databaseName: config.timestreamDatabase }),
    archiver: new FirehoseArchiver({
      client: clients.firehose,
      deliveryStreamName: config.archiveDeliveryStream,
      errorDeliveryStreamName: config.archiveErrorDeliveryStream,
    }),
    listShards: async () => {
      // Shards change only with a reshard: ask at most once a minute (ticks come every few seconds).
      if (shardCache !== undefined && Date.now() - shardCache.atMs < 60_000) return shardCache.ids;
      const ids: string[] = [];
      let token: string | undefined;
      do {
        const res = await clients.kinesis.send(
          new ListShardsCommand(
            token === undefined ? { StreamName: config.metricsStream } : { NextToken: token },
          ),
        );
        for (const s of res.Shards ?? []) if (s.ShardId !== undefined) ids.push(s.ShardId);
        token = res.NextToken;
      } while (token !== undefined);
      shardCache = { ids, atMs: Date.now() };
      return ids;
    },
    logger,
  };
  if (config.alertTopicArn !== '') {
    deps.alertPublisher = (snapshot) =>
      new SnsAlertPublisher({
        client: clients.sns,
        topicArn: config.alertTopicArn,
        ...(config.dashboardUrlTemplate === '' ? {} : { dashboardUrlTemplate: config.dashboardUrlTemplate }),
        ...(config.alertCooldownMs === undefined ? {} : { cooldownMs: config.alertCooldownMs }),
        ...(snapshot === undefined ? {} : { snapshot }),
      });
  }
  return { deps, clients };
}

let instance: DetectHandler | undefined;

/**
 * The Lambda entry point.
 *
 * @example
 * await handler(kinesisEvent, context); // { batchItemFailures }
 * await handler({ tidewatch: 'tick' }); // close windows of idle shards
 */
export async function handler(
  event: KinesisEvent | DetectControlEvent,
  context?: LambdaContextLike,
): Promise<KinesisBatchResponse | DetectControlResult> {
  instance ??= createDetectHandler(createDetectDeps(process.env).deps);
  return instance(event as KinesisEvent, context);
}
