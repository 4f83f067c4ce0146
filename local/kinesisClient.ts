/**
 * A Kinesis client for local endpoints (kinesalite, `tidewatch start`'s port 4567).
 *
 * Two things make the AWS SDK v3 talk to kinesalite: an HTTP/1.1 request handler (the default handler
 * of some SDK builds negotiates features kinesalite's plain `http.Server` does not speak) and
 * credentials that exist (kinesalite checks that requests are signed, never what they are signed with).
 */
import { Agent } from 'node:http';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** Credentials for local endpoints: kinesalite and dynalite accept any signature. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/** Default region of local mode. kinesalite puts the region of `AWS_REGION` (else us-east-1) in ARNs. */
export const LOCAL_REGION = 'us-east-1';

export interface KinesisClientOptions {
  /** Region to sign for; default {@link LOCAL_REGION}. */
  region?: string;
  /** SDK attempts per call (the SDK's retry strategy); default 3. */
  maxAttempts?: number;
  /** Socket pool size; default 64 (one in-flight GetRecords per shard plus producers). */
  maxSockets?: number;
  /** Per-request socket timeout; default 30 s. */
  requestTimeoutMs?: number;
}

/**
 * Creates a `KinesisClient` for a local endpoint such as kinesalite.
 *
 * Call `client.destroy()` when done so its keep-alive sockets do not hold the process open.
 *
 * @example
 * const client = createKinesisClient('http://127.0.0.1:4567');
 * await client.send(new ListStreamsCommand({}));
 * client.destroy();
 */
export function createKinesisClient(url: string, options: KinesisClientOptions = {}): KinesisClient {
  return new KinesisClient({
    endpoint: url,
    region: options.region ?? LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: 5_000,
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      httpAgent: new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 }),
    }),
  });
}
