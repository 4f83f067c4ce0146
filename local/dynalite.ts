/**
 * DynamoDB for the embedded mode and tests: dynalite (a DynamoDB-compatible server on LevelDB),
 * in memory or on disk, behind a thin fault-injecting proxy so tests can throttle
 * (`ProvisionedThroughputExceededException`), fail (500 `InternalServerError`), slow down or drop
 * responses exactly like the other local endpoints (`handle.faults`, `POST /__tidewatch/faults`).
 *
 * dynalite 4 implements the item and table APIs the state store uses (GetItem, PutItem with condition
 * expressions, BatchGetItem, BatchWriteItem, DeleteItem, CreateTable, DescribeTable); it has no
 * transactions, TTL sweeping or `ReturnValuesOnConditionCheckFailure`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { FAULTS_PATH } from './awsJsonServer.ts';
import { type FaultConfig, FaultInjector, parseFaultConfig } from './faults.ts';

const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as (options: {
  path?: string;
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}) => Server;

/** Options of {@link startDynalite}. */
export interface DynaliteOptions {
  /** 0 or absent: ephemeral. `LocalPorts.dynamodb` in `tidewatch start`. */
  port?: number;
  /** LevelDB directory for on-disk tables; default in memory. */
  path?: string;
  faults?: FaultInjector | FaultConfig;
  /** How long tables stay CREATING. Default 0 (immediately ACTIVE). */
  createTableMs?: number;
}

/** A running dynalite. */
export interface DynaliteHandle {
  url: string;
  port: number;
  faults: FaultInjector;
  close(): Promise<void>;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  const body = Buffer.from(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${code}`, message }));
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': String(body.length),
    'x-amzn-requestid': randomUUID(),
    'x-amzn-errortype': code,
  });
  res.end(body);
}

/**
 * Starts dynalite (plus its fault proxy) on 127.0.0.1.
 *
 * @example
 * const ddb = await startDynalite({ path: '.tidewatch/dynamodb' });
 * const client = new DynamoDBClient({ endpoint: ddb.url, region: 'us-east-1',
 *   credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
 * await ensureStateTable(client, Names.stateTable);
 * await ddb.close();
 */
export async function startDynalite(options: DynaliteOptions = {}): Promise<DynaliteHandle> {
  const faults =
    options.faults instanceof FaultInjector ? options.faults : new FaultInjector(options.faults ?? {});
  const dynaliteOptions: {
    path?: string;
    createTableMs: number;
    deleteTableMs: number;
    updateTableMs: number;
  } = {
    createTableMs: options.createTableMs ?? 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  };
  if (options.path !== undefined) dynaliteOptions.path = options.path;
  const backend = dynalite(dynaliteOptions);
  const backendPort = await listen(backend, 0);

  const proxy = createServer((req, res) => {
    (async () => {
      const body = await readBody(req);
      if ((req.url ?? '/').startsWith(FAULTS_PATH)) {
        let status = 200;
        let out: unknown;
        try {
          if (req.method === 'POST') faults.set(parseFaultConfig(JSON.parse(body.toString('utf8') || '{}')));
          out = { config: faults.config, stats: faults.stats };
        } catch (err) {
          status = 400;
          out = { error: (err as Error).message };
        }
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(out));
        return;
      }
      const delayMs = faults.delayMs();
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      const fault = faults.callFault();
      if (fault === 'throttle') {
        sendError(
          res,
          400,
          'ProvisionedThroughputExceededException',
          'The level of configured provisioned throughput for the table was exceeded.',
        );
        return;
      }
      if (fault === 'error') {
        sendError(res, 500, 'InternalServerError', 'Internal server error');
        return;
      }
      const upstream = request(
        { host: '127.0.0.1', port: backendPort, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          const chunks: Buffer[] = [];
          up.on('data', (c: Buffer) => chunks.push(c));
          up.on('end', () => {
            if (faults.dropResponse()) {
              req.socket.destroy();
              return;
            }
            res.writeHead(up.statusCode ?? 500, up.headers);
            res.end(Buffer.concat(chunks));
          });
        },
      );
      upstream.on('error', (err) => sendError(res, 500, 'InternalServerError', err.message));
      upstream.end(body);
    })().catch((err: unknown) => {
      if (!res.headersSent) sendError(res, 500, 'InternalServerError', String(err));
    });
  });
  let port: number;
  try {
    port = await listen(proxy, options.port ?? 0);
  } catch (err) {
    await closeServer(backend);
    throw err;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    faults,
    close: async () => {
      await closeServer(proxy);
      await closeServer(backend);
    },
  };
}
