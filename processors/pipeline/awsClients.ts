/**
 * The SDK clients a handler needs, created once per container (Lambda reuses the container, and a
 * client's keep-alive sockets with it). All use `maxAttempts: 1` and an HTTP/1.1 `NodeHttpHandler`
 * (`sinkClientConfig`): each sink runs its own budgeted retry loop, and kinesalite only speaks
 * HTTP/1.1. Endpoints come from `AWS_ENDPOINT_URL_<SERVICE>` (read by `readHandlerConfig`) and are
 * passed explicitly — for Timestream that is what skips endpoint discovery.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { FirehoseClient } from '@aws-sdk/client-firehose';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { TimestreamWriteClient } from '@aws-sdk/client-timestream-write';
import {
  createFirehoseClient,
  createSnsClient,
  createTimestreamWriteClient,
  type SinkClientOptions,
  sinkClientConfig,
} from '../sinks/sinkClients.ts';
import type { HandlerConfig } from './handlerConfig.ts';

/** Clients of one container. */
export interface AwsClients {
  kinesis: KinesisClient;
  firehose: FirehoseClient;
  dynamodb: DynamoDBClient;
  timestream: TimestreamWriteClient;
  sns: SNSClient;
  /** Closes every client's sockets (tests, the embedded mode's shutdown). */
  destroy(): void;
}

function options(config: HandlerConfig, endpoint: string | undefined): SinkClientOptions {
  const o: SinkClientOptions = {};
  if (config.region !== undefined) o.region = config.region;
  if (endpoint !== undefined) o.endpoint = endpoint;
  return o;
}

/**
 * Creates the clients for `config`.
 *
 * @example
 * const clients = createAwsClients(readHandlerConfig(process.env));
 */
export function createAwsClients(config: HandlerConfig): AwsClients {
  const e = config.endpoints;
  const kinesis = new KinesisClient(sinkClientConfig(options(config, e.kinesis)));
  const firehose = createFirehoseClient(options(config, e.firehose));
  const dynamodb = new DynamoDBClient(sinkClientConfig(options(config, e.dynamodb)));
  const timestream = createTimestreamWriteClient(options(config, e.timestreamWrite));
  const sns = createSnsClient(options(config, e.sns));
  return {
    kinesis,
    firehose,
    dynamodb,
    timestream,
    sns,
    destroy() {
      kinesis.destroy();
      firehose.destroy();
      dynamodb.destroy();
      timestream.destroy();
      sns.destroy();
    },
  };
}
