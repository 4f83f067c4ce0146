/**
 * Lambda `tidewatch-ingest` (logs stream → archive + partial window summaries on the metrics stream).
 * Environment: `EnvVar` in schema.ts (docs/handlers.md). Clients and per-shard state are created once
 * per container, on the first invocation. The logic is in `processors/pipeline/ingestPipeline.ts`.
 *
 * Handler string: `index.handler` in the bundle `dist/ingest/index.mjs` (`npm run build`).
 */

import { type AwsClients, createAwsClients } from '../pipeline/awsClients.ts';
import { type HandlerEnv, readHandlerConfig } from '../pipeline/handlerConfig.ts';
import { createIngestHandler, type IngestDeps, type IngestHandler } from '../pipeline/ingestPipeline.ts';
import type { LambdaContextLike } from '../pipeline/lambdaContext.ts';
import { jsonLogger, type PipelineLogger } from '../pipeline/logger.ts';
import { PartialsPublisher } from '../pipeline/partialsPublisher.ts';
import { StateBlobStore } from '../pipeline/stateBlobs.ts';
import { DynamoDbStateStore } from '../sinks/dynamoDbStateStore.ts';
import { FirehoseArchiver } from '../sinks/firehoseArchiver.ts';
import type { KinesisBatchResponse, KinesisEvent } from '../sources/kinesisEvent.ts';

export { createIngestHandler, type IngestDeps, type IngestHandler };

/**
 * Builds the ingest dependencies from an environment (as `process.env` has it).
 *
 * @throws HandlerConfigError when the environment is invalid.
 * @example
 * const { deps, clients } = createIngestDeps(process.env);
 * const ingest = createIngestHandler(deps);
 */
export function createIngestDeps(
  env: HandlerEnv,
  options: { logger?: PipelineLogger } = {},
): { deps: IngestDeps; clients: AwsClients } {
  const config = readHandlerConfig(env);
  const clients = createAwsClients(config);
  const logger = options.logger ?? jsonLogger({ level: env.AWS_LAMBDA_LOG_LEVEL, stage: 'ingest' });
  const deps: IngestDeps = {
    config,
    archiver: new FirehoseArchiver({
      client: clients.firehose,
      deliveryStreamName: config.archiveDeliveryStream,
      errorDeliveryStreamName: config.archiveErrorDeliveryStream,
    }),
    publisher: new PartialsPublisher({ client: clients.kinesis, streamName: config.metricsStream }),
    cursors: new StateBlobStore(
      new DynamoDbStateStore({ client: clients.dynamodb, tableName: config.stateTable }),
    ),
    logger,
  };
  return { deps, clients };
}

let instance: IngestHandler | undefined;

/**
 * The Lambda entry point: `{ batchItemFailures }` lists the sequence numbers of retry parents only.
 *
 * @example
 * const { batchItemFailures } = await handler(kinesisEvent, context);
 */
export async function handler(
  event: KinesisEvent,
  context?: LambdaContextLike,
): Promise<KinesisBatchResponse> {
  instance ??= createIngestHandler(createIngestDeps(process.env).deps);
  return instance(event, context);
}
