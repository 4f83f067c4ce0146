/**
 * kinesalite, the embedded stand-in for Kinesis Data Streams: started in-process on 127.0.0.1, in
 * memory or on disk (LevelDB via `leveldown`, so streams and records survive a restart or a SIGKILL),
 * with the streams the caller needs created and ACTIVE before it returns.
 */
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
  ResourceInUseException,
  ResourceNotFoundException,
} from '@aws-sdk/client-kinesis';
import kinesalite from 'kinesalite';
import { KinesaliteError } from './eventSourceRunnerErrors.ts';
import { createKinesisClient } from './kinesisClient.ts';

/** A stream to create (or find) at start. */
export interface StreamSpec {
  name: string;
  shardCount: number;
}

export interface KinesaliteOptions {
  /** Port to bind on 127.0.0.1; 0 (default) picks a free one. `tidewatch start` passes 4567. */
  port?: number;
  /** Interface to bind; default 127.0.0.1 (never exposed beyond this machine by default). */
  host?: string;
  /** LevelDB directory: streams and records persist across restarts. Omitted: in memory. */
  path?: string;
  /** Streams to create and wait for. Existing streams (on disk) are kept as they are. */
  streams?: readonly StreamSpec[];
  /** Open shards allowed across all streams (kinesalite's account limit); default 200. */
  shardLimit?: number;
  /** Milliseconds kinesalite keeps a stream CREATING / UPDATING; default 50 (kinesalite: 500). */
  transitionMs?: number;
  /** Give up waiting for a stream to become ACTIVE after this long; default 30 s. */
  activeTimeoutMs?: number;
}

export interface KinesaliteServer {
  /** `http://127.0.0.1:<port>`, the endpoint to hand to SDK clients and producers. */
  url: string;
  port: number;
  /** Creates a stream (if missing) and waits until it is ACTIVE. */
  ensureStream(spec: StreamSpec): Promise<void>;
  /** Stops accepting requests, closes connections and the LevelDB store. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts kinesalite on 127.0.0.1 and creates the given streams.
 *
 * @example
 * const kinesis = await startKinesalite({ port: 0, streams: [{ name: 'tidewatch-logs', shardCount: 2 }] });
 * const client = createKinesisClient(kinesis.url);
 * // ... put and read records ...
 * client.destroy();
 * await kinesis.close();
 */
export async function startKinesalite(options: KinesaliteOptions = {}): Promise<KinesaliteServer> {
  const host = options.host ?? '127.0.0.1';
  const transitionMs = options.transitionMs ?? 50;
  if (options.path !== undefined) await mkdir(options.path, { recursive: true });
  const server = kinesalite({
    ...(options.path === undefined ? {} : { path: options.path }),
    createStreamMs: transitionMs,
    deleteStreamMs: transitionMs,
    updateStreamMs: transitionMs,
    shardLimit: options.shardLimit ?? 200,
  });
  await listen(server, options.port ?? 0, host);
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host}:${port}`;
  const client = createKinesisClient(url);
  let closed: Promise<void> | undefined;

  const close = (): Promise<void> => {
    closed ??= (async () => {
      client.destroy();
      await new Promise<void>((resolve, reject) => {
        // kinesalite's close() closes LevelDB, then the HTTP server; Node then ends idle keep-alive
        // sockets. Sockets mid-request are cut so that close never waits on a client's long poll.
        server.close((err) =>
          err ? reject(new KinesaliteError(`closing kinesalite: ${err.message}`, { cause: err })) : resolve(),
        );
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 1_000).unref();
      });
    })();
    return closed;
  };

  try {
    for (const spec of options.streams ?? []) {
      await ensureStream(client, spec, { timeoutMs: options.activeTimeoutMs ?? 30_000 });
    }
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
  return {
    url,
    port,
    ensureStream: (spec) => ensureStream(client, spec, { timeoutMs: options.activeTimeoutMs ?? 30_000 }),
    close,
  };
}

/**
 * Creates `spec.name` with `spec.shardCount` shards unless it exists, then polls
 * DescribeStreamSummary until the stream is ACTIVE. Works against any Kinesis endpoint.
 *
 * @example
 * await ensureStream(client, { name: 'tidewatch-metrics', shardCount: 1 });
 */
export async function ensureStream(
  client: KinesisClient,
  spec: StreamSpec,
  options: { timeoutMs?: number; pollMs?: number } = {},
): Promise<void> {
  if (!Number.isInteger(spec.shardCount) || spec.shardCount < 1) {
    throw new KinesaliteError(
      `stream '${spec.name}': shardCount must be a positive integer, got ${spec.shardCount}`,
    );
  }
  try {
    await client.send(new CreateStreamCommand({ StreamName: spec.name, ShardCount: spec.shardCount }));
  } catch (err) {
    // Already there (e.g. reopened from disk): keep it, whatever its shard count.
    if (!(err instanceof ResourceInUseException)) {
      throw new KinesaliteError(`creating stream '${spec.name}' failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    try {
      const out = await client.send(new DescribeStreamSummaryCommand({ StreamName: spec.name }));
      if (out.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    } catch (err) {
      if (!(err instanceof ResourceNotFoundException)) {
        throw new KinesaliteError(`describing stream '${spec.name}' failed: ${(err as Error).message}`, {
          cause: err,
        });
      }
    }
    if (Date.now() > deadline) {
      throw new KinesaliteError(
        `stream '${spec.name}' did not become ACTIVE within ${options.timeoutMs ?? 30_000} ms; is the endpoint overloaded?`,
      );
    }
    await new Promise((r) => setTimeout(r, options.pollMs ?? 25));
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const hint =
        err.code === 'EADDRINUSE'
          ? ` (port ${port} is in use: stop the other process or pass another port, 0 for any free one)`
          : '';
      reject(new KinesaliteError(`kinesalite could not listen on ${host}:${port}${hint}`, { cause: err }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
