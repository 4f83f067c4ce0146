/**
 * AWS SDK v3 clients configured the way the sinks expect: one SDK attempt per call
 * (`maxAttempts: 1`) because each sink runs its own budgeted, jittered retry loop and resends only
 * what failed; an HTTP/1.1 `NodeHttpHandler` with timeouts (a hung endpoint must not eat the
 * Lambda's time); and, for local endpoints, an explicit endpoint plus static dummy credentials.
 *
 * Timestream: only an explicit `endpoint` skips endpoint discovery (`DescribeEndpoints`), so pass the
 * local URL (or `EnvVar.timestreamEndpoint`) here rather than relying on the environment.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { SNSClient } from '@aws-sdk/client-sns';
import { TimestreamWriteClient } from '@aws-sdk/client-timestream-write';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** Options shared by the client factories. */
export interface SinkClientOptions {
  /** Default: the SDK's region resolution (AWS_REGION), or `us-east-1` when `endpoint` is local. */
  region?: string;
  /** Explicit endpoint URL (local endpoints, VPC endpoints). */
  endpoint?: string;
  /** SDK attempts per call. Default 1: the sinks retry themselves. */
  maxAttempts?: number;
  /** Socket connect timeout. Default 3,000 ms. */
  connectionTimeoutMs?: number;
  /** Per-request timeout. Default 15,000 ms. */
  requestTimeoutMs?: number;
  /** Static credentials; default for a localhost endpoint: dummy `local`/`local` keys. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

function isLocal(endpoint: string | undefined): boolean {
  if (endpoint === undefined) return false;
  try {
    const host = new URL(endpoint).hostname;
    return host === '127.0.0.1' || host === 'localhost' || host === '::1' || host === '[::1]';
  } catch {
    return false;
  }
}

interface CommonConfig {
  region?: string;
  endpoint?: string;
  maxAttempts: number;
  requestHandler: NodeHttpHandler;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/**
 * The shared client config for `options`.
 *
 * @example
 * new KinesisClient(sinkClientConfig({ endpoint: 'http://127.0.0.1:4567' }));
 */
export function sinkClientConfig(options: SinkClientOptions = {}): CommonConfig {
  const local = isLocal(options.endpoint);
  const config: CommonConfig = {
    maxAttempts: options.maxAttempts ?? 1,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: options.connectionTimeoutMs ?? 3_000,
      requestTimeout: options.requestTimeoutMs ?? 15_000,
    }),
  };
  const region = options.region ?? (local ? 'us-east-1' : undefined);
  if (region !== undefined) config.region = region;
  if (options.endpoint !== undefined) config.endpoint = options.endpoint;
  const credentials =
    options.credentials ?? (local ? { accessKeyId: 'local', secretAccessKey: 'local' } : undefined);
  if (credentials !== undefined) config.credentials = credentials;
  return config;
}

/**
 * Timestream Write client (explicit endpoint skips discovery).
 *
 * @example
 * const sink = new TimestreamSink({ client: createTimestreamWriteClient({ endpoint: ts.url }) });
 */
export function createTimestreamWriteClient(options: SinkClientOptions = {}): TimestreamWriteClient {
  return new TimestreamWriteClient(sinkClientConfig(options));
}

/**
 * Firehose client.
 *
 * @example
 * const archiver = new FirehoseArchiver({ client: createFirehoseClient({ endpoint: fh.url }) });
 */
export function createFirehoseClient(options: SinkClientOptions = {}): FirehoseClient {
  return new FirehoseClient(sinkClientConfig(options));
}

/**
 * SNS client.
 *
 * @example
 * const alerts = new SnsAlertPublisher({ client: createSnsClient({ endpoint: sns.url }), topicArn });
 */
export function createSnsClient(options: SinkClientOptions = {}): SNSClient {
  return new SNSClient(sinkClientConfig(options));
}

/**
 * DynamoDB client.
 *
 * @example
 * const store = new DynamoDbStateStore({ client: createDynamoDbClient({ endpoint: ddb.url }), tableName });
 */
export function createDynamoDbClient(options: SinkClientOptions = {}): DynamoDBClient {
  return new DynamoDBClient(sinkClientConfig(options));
}
