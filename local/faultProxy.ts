/**
 * A fault-injecting Kinesis proxy for tests and chaos runs: sits between a producer and kinesalite
 * (or any Kinesis JSON endpoint) and makes PutRecords misbehave the ways the real service does:
 *
 * - **per-entry failures**: a seeded random fraction of a PutRecords call's entries is not forwarded;
 *   the answer (HTTP 200) carries `ProvisionedThroughputExceededException` or `InternalFailure` for
 *   them and a matching `FailedRecordCount` — "A single record failure does not stop the processing
 *   of subsequent records" (PutRecords API reference);
 * - **whole-call failures**: HTTP 500 `InternalFailure`, 503 `ServiceUnavailable`, 400
 *   `ProvisionedThroughputExceededException`, or a reset connection, nothing written;
 * - **lost responses**: the call is forwarded and written, then answered with HTTP 500 — the producer
 *   retries and duplicates, which at-least-once delivery must tolerate.
 *
 * Every other request (ListShards, GetRecords, …) passes through untouched, as do CBOR-encoded
 * calls. Decisions come from a seeded PRNG, so a failing run can be replayed with the same seed
 * (given the same sequence of calls).
 */
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FaultProxyOptions {
  /** Kinesis endpoint to forward to, e.g. kinesalite's `http://127.0.0.1:PORT`. */
  targetUrl: string;
  /** PRNG seed; default 1. */
  seed?: number;
  /** Probability that a PutRecords entry is failed (not forwarded); default 0.1. */
  entryFailureRate?: number;
  /** Probability that a whole PutRecords call fails before anything is written; default 0.05. */
  callFailureRate?: number;
  /** Probability that a PutRecords call is written but answered with HTTP 500; default 0. */
  lostResponseRate?: number;
  /**
   * Faults for the first PutRecords calls, in order, before the random ones take over — so that a
   * test exercises each kind whatever number of calls the producer happens to make.
   */
  scriptedCalls?: readonly ScriptedCallFault[];
  /** Interface to bind; default 127.0.0.1. Port is always ephemeral unless given. */
  host?: string;
  port?: number;
}

/** What the proxy did, for assertions. */
export interface FaultProxyStats {
  putRecordsCalls: number;
  entriesSeen: number;
  entriesFailed: number;
  callsFailed: number;
  responsesLost: number;
  passedThrough: number;
}

/** A whole-call fault (or `none`: the call goes through the random per-entry failures). */
export type ScriptedCallFault =
  | 'internalFailure'
  | 'serviceUnavailable'
  | 'throttled'
  | 'reset'
  | 'lostResponse'
  | 'none';

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: the endpoint to hand to the producer. */
  url: string;
  port: number;
  stats(): FaultProxyStats;
  /** Stops the proxy and cuts open connections. Idempotent. */
  close(): Promise<void>;
}

/** mulberry32: a small, fast, seedable PRNG (public domain, Tommy Ettinger). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PUT_RECORDS_TARGET = 'Kinesis_20131202.PutRecords';
const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';

interface PutRecordsBody {
  StreamName?: string;
  StreamARN?: string;
  Records: unknown[];
}

interface PutRecordsAnswer {
  FailedRecordCount?: number;
  Records?: Record<string, unknown>[];
  [k: string]: unknown;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function forward(
  target: URL,
  req: IncomingMessage,
  body: Buffer,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers, host: target.host, 'content-length': String(body.byteLength) };
    const out = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    out.on('error', reject);
    out.end(body);
  });
}

function answer(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': JSON_CONTENT_TYPE,
    'content-length': Buffer.byteLength(text),
    ...(errorType === undefined ? {} : { 'x-amzn-errortype': errorType }),
  });
  res.end(text);
}

const WHOLE_CALL_FAULTS = {
  internalFailure: { status: 500, type: 'InternalFailure', message: 'Internal service failure.' },
  serviceUnavailable: { status: 503, type: 'ServiceUnavailable', message: 'Service unavailable.' },
  throttled: {
    status: 400,
    type: 'ProvisionedThroughputExceededException',
    message: 'Rate exceeded for stream.',
  },
  reset: { status: 0, type: 'reset', message: '' },
} as const;
const WHOLE_CALL_FAULT_NAMES = Object.keys(WHOLE_CALL_FAULTS) as (keyof typeof WHOLE_CALL_FAULTS)[];

/**
 * Starts the proxy on 127.0.0.1 (ephemeral port by default).
 *
 * @example
 * const proxy = await startFaultProxy({ targetUrl: kinesis.url, seed: 7, entryFailureRate: 0.2 });
 * const shipper = createShipper({ streamName: 'logs', endpoint: proxy.url });
 * // ... send, close, read back through kinesis.url ...
 * await proxy.close();
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.targetUrl);
  const random = mulberry32(options.seed ?? 1);
  const entryFailureRate = options.entryFailureRate ?? 0.1;
  const callFailureRate = options.callFailureRate ?? 0.05;
  const lostResponseRate = options.lostResponseRate ?? 0;
  const scriptedCalls = options.scriptedCalls ?? [];
  const stats: FaultProxyStats = {
    putRecordsCalls: 0,
    entriesSeen: 0,
    entriesFailed: 0,
    callsFailed: 0,
    responsesLost: 0,
    passedThrough: 0,
  };

  async function passThrough(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    stats.passedThrough++;
    const out = await forward(target, req, body);
    res.writeHead(out.status, out.headers);
    res.end(out.body);
  }

  async function putRecords(req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> {
    let body: PutRecordsBody;
    try {
      body = JSON.parse(raw.toString('utf8')) as PutRecordsBody;
      if (!Array.isArray(body.Records)) throw new Error('no Records');
    } catch {
      await passThrough(req, res, raw); // let the real endpoint produce the validation error
      return;
    }
    const scripted = scriptedCalls[stats.putRecordsCalls];
    stats.putRecordsCalls++;
    stats.entriesSeen += body.Records.length;
    const faultName =
      scripted !== undefined
        ? scripted === 'none' || scripted === 'lostResponse'
          ? undefined
          : scripted
        : random() < callFailureRate
          ? WHOLE_CALL_FAULT_NAMES[Math.floor(random() * WHOLE_CALL_FAULT_NAMES.length)]
          : undefined;
    if (faultName !== undefined) {
      stats.callsFailed++;
      const fault = WHOLE_CALL_FAULTS[faultName];
      if (fault.status === 0) {
        req.socket.destroy();
        return;
      }
      answer(res, fault.status, { __type: fault.type, message: fault.message }, fault.type);
      return;
    }
    const failed: boolean[] = body.Records.map(() => random() < entryFailureRate);
    const forwarded = body.Records.filter((_, i) => !failed[i]);
    let results: Record<string, unknown>[] = [];
    if (forwarded.length > 0) {
      const out = await forward(target, req, Buffer.from(JSON.stringify({ ...body, Records: forwarded })));
      if (out.status !== 200) {
        res.writeHead(out.status, out.headers);
        res.end(out.body);
        return;
      }
      results = (JSON.parse(out.body.toString('utf8')) as PutRecordsAnswer).Records ?? [];
    }
    if (scripted === 'lostResponse' || (scripted === undefined && random() < lostResponseRate)) {
      stats.responsesLost++;
      answer(
        res,
        500,
        { __type: 'InternalFailure', message: 'Internal service failure.' },
        'InternalFailure',
      );
      return;
    }
    const merged: Record<string, unknown>[] = [];
    let next = 0;
    let failedCount = 0;
    for (let i = 0; i < body.Records.length; i++) {
      if (failed[i]) {
        failedCount++;
        stats.entriesFailed++;
        merged.push(
          random() < 0.5
            ? {
                ErrorCode: 'ProvisionedThroughputExceededException',
                ErrorMessage: `Rate exceeded for shard in stream ${body.StreamName ?? ''}.`,
              }
            : { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal service failure.' },
        );
      } else {
        merged.push(results[next++] ?? { ErrorCode: 'InternalFailure', ErrorMessage: 'Missing result.' });
      }
    }
    answer(res, 200, { FailedRecordCount: failedCount, Records: merged });
  }

  const server: Server = createServer((req, res) => {
    void (async () => {
      try {
        const raw = await readBody(req);
        const isJson = (req.headers['content-type'] ?? '').startsWith('application/x-amz-json');
        if (req.headers['x-amz-target'] === PUT_RECORDS_TARGET && isJson) await putRecords(req, res, raw);
        else await passThrough(req, res, raw);
      } catch (err) {
        if (!res.headersSent) {
          answer(res, 502, { __type: 'InternalFailure', message: `fault proxy: ${(err as Error).message}` });
        } else res.destroy();
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    stats: () => ({ ...stats }),
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
