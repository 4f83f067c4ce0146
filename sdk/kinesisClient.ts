/**
 * The Kinesis client the shipper builds when the caller does not bring one.
 *
 * - HTTP/1.1 always (`NodeHttpHandler`): `@aws-sdk/client-kinesis` defaults to an HTTP/2 handler for
 *   SubscribeToShard, which kinesalite (a plain `http.Server`) does not speak; PutRecords and
 *   ListShards gain nothing from HTTP/2.
 * - `maxAttempts: 1`: the shipper retries itself, per entry, with full jitter, bounded by
 *   `maxRetryMs`; SDK retries underneath would multiply attempts and blow that bound.
 * - Local endpoints (127.0.0.1, localhost, ::1) get dummy credentials when the environment has none,
 *   so `tidewatch send` works on a laptop without AWS configuration (kinesalite checks that a request
 *   is signed, not by whom), and a region of us-east-1 unless one is configured.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** Region used for local endpoints when neither the options nor the environment name one. */
export const LOCAL_REGION = 'us-east-1';

/** Credentials used for local endpoints when `AWS_ACCESS_KEY_ID` is not set. */
export const LOCAL_DUMMY_CREDENTIALS = { accessKeyId: 'tidewatch-local', secretAccessKey: 'tidewatch-local' };

/** True for `http(s)://127.0.0.1…`, `localhost` and `[::1]` endpoints. */
export function isLocalEndpoint(endpoint: string): boolean {
  let host: string;
  try {
    host = new URL(endpoint).hostname;
  } catch {
    return false;
  }
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]' || host === '::1';
}

export interface ShipperClientOptions {
  endpoint?: string | undefined;
  region?: string | undefined;
  /** Socket timeout of one call; default 15 s (a hung call then counts as a retryable failure). */
  requestTimeoutMs?: number | undefined;
}

/**
 * Builds the shipper's own `KinesisClient` (HTTP/1.1, keep-alive, no SDK retries).
 *
 * @example
 * const client = createShipperClient({ endpoint: 'http://127.0.0.1:4567' });
 */
export function createShipperClient(options: ShipperClientOptions): KinesisClient {
  const local = options.endpoint !== undefined && isLocalEndpoint(options.endpoint);
  const env = process.env;
  const region =
    options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? (local ? LOCAL_REGION : undefined);
  const useDummyCredentials = local && (env.AWS_ACCESS_KEY_ID === undefined || env.AWS_ACCESS_KEY_ID === '');
  return new KinesisClient({
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(region === undefined ? {} : { region }),
    ...(useDummyCredentials ? { credentials: LOCAL_DUMMY_CREDENTIALS } : {}),
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: 5_000,
      requestTimeout: options.requestTimeoutMs ?? 15_000,
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 16 }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 16 }),
    }),
  });
}
