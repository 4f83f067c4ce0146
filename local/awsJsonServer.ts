/**
 * The wire protocols the local endpoints speak, so the real AWS SDK v3 clients talk to them unchanged:
 *
 * - AWS JSON 1.0 / 1.1 (Timestream Write, Firehose, DynamoDB): `POST /` with
 *   `X-Amz-Target: <ServiceTarget>.<Operation>` and `Content-Type: application/x-amz-json-1.x`;
 *   errors are a non-2xx status, `x-amzn-errortype: <Code>` and a body
 *   `{"__type": "<namespace>#<Code>", "message": "…", …fields}`.
 * - AWS Query (SNS): a form-encoded `POST /` with `Action=…&Version=…`; responses are XML
 *   `<ActionResponse><ActionResult>…</ActionResult><ResponseMetadata><RequestId/></…>`, errors
 *   `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`.
 *
 * Requests are not signature-checked (any credentials work). Every server binds 127.0.0.1, applies
 * the endpoint's {@link FaultInjector} to each call, and serves `GET|POST /__tidewatch/faults` to read
 * or change the fault config at runtime.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type FaultInjector, parseFaultConfig } from './faults.ts';

/**
 * An AWS error response. `code` is the error shape name (`ValidationException`), `fields` extra
 * members of the error shape (e.g. Timestream `RejectedRecords`).
 *
 * @example
 * throw new AwsServiceError('ResourceNotFoundException', 'Table windows not found', 404);
 */
export class AwsServiceError extends Error {
  readonly code: string;
  readonly statusCode: number;
  readonly fields: Record<string, unknown>;

  constructor(code: string, message: string, statusCode = 400, fields: Record<string, unknown> = {}) {
    super(message);
    this.name = 'AwsServiceError';
    this.code = code;
    this.statusCode = statusCode;
    this.fields = fields;
  }
}

/** A JSON-protocol operation: parsed input → output object (or throws {@link AwsServiceError}). */
export type JsonOperation = (input: Record<string, unknown>) => unknown;
/** A Query-protocol operation: form params → the inner XML of `<ActionResult>`. */
export type QueryOperation = (params: URLSearchParams) => string | Promise<string>;

/** The errors a service answers with when a fault is injected. */
export interface FaultErrors {
  throttle: { code: string; statusCode: number; message: string };
  internal: { code: string; statusCode: number; message: string };
}

interface CommonOptions {
  /** 0 or absent: an ephemeral port. */
  port?: number;
  faults: FaultInjector;
  faultErrors: FaultErrors;
  /** Largest accepted request body. Default 32 MiB (Firehose's 4 MiB becomes ~5.6 MB in base64 JSON). */
  maxBodyBytes?: number;
}

/** Options of a JSON-protocol server. */
export interface JsonServerOptions extends CommonOptions {
  protocol: 'json1.0' | 'json1.1';
  /** `X-Amz-Target` prefix, e.g. `Timestream_20181101`. */
  targetPrefix: string;
  /** `__type` namespace, e.g. `com.amazonaws.timestreamwrite`. */
  errorNamespace: string;
  operations: Record<string, JsonOperation>;
}

/** Options of a Query-protocol server. */
export interface QueryServerOptions extends CommonOptions {
  protocol: 'query';
  /** Response XML namespace, e.g. `http://sns.amazonaws.com/doc/2010-03-31/`. */
  xmlns: string;
  operations: Record<string, QueryOperation>;
}

/** A running server. */
export interface AwsServer {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

/** Path of the fault-control resource on every local endpoint. */
export const FAULTS_PATH = '/__tidewatch/faults';

/**
 * Escapes text for XML element content.
 *
 * @example
 * xmlEscape('a<b'); // 'a&lt;b'
 */
export function xmlEscape(s: string): string {
  return s.replace(/[<>&'"]/g, (c) =>
    c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '&' ? '&amp;' : c === "'" ? '&apos;' : '&quot;',
  );
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(new BodyTooLarge(`request body over ${maxBytes} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  const buf = Buffer.from(body);
  res.writeHead(status, { ...headers, 'content-length': String(buf.length) });
  res.end(buf);
}

function sendJsonError(
  res: ServerResponse,
  options: JsonServerOptions,
  requestId: string,
  err: { code: string; statusCode: number; message: string; fields?: Record<string, unknown> },
): void {
  const body = {
    __type: `${options.errorNamespace}#${err.code}`,
    message: err.message,
    Message: err.message,
  };
  send(
    res,
    err.statusCode,
    {
      'content-type': `application/x-amz-json-${options.protocol === 'json1.0' ? '1.0' : '1.1'}`,
      'x-amzn-errortype': err.code,
      'x-amzn-requestid': requestId,
    },
    JSON.stringify({ ...body, ...err.fields }),
  );
}

function sendQueryError(
  res: ServerResponse,
  options: QueryServerOptions,
  requestId: string,
  err: { code: string; statusCode: number; message: string },
): void {
  const type = err.statusCode >= 500 ? 'Receiver' : 'Sender';
  send(
    res,
    err.statusCode,
    { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    `<?xml version="1.0"?>\n<ErrorResponse xmlns="${options.xmlns}"><Error><Type>${type}</Type><Code>${xmlEscape(err.code)}</Code><Message>${xmlEscape(err.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  );
}

async function handleFaults(req: IncomingMessage, res: ServerResponse, body: Buffer, faults: FaultInjector) {
  if (req.method === 'POST') {
    try {
      faults.set(parseFaultConfig(JSON.parse(body.toString('utf8') || '{}')));
    } catch (err) {
      send(
        res,
        400,
        { 'content-type': 'application/json' },
        JSON.stringify({ error: (err as Error).message }),
      );
      return;
    }
  }
  send(
    res,
    200,
    { 'content-type': 'application/json' },
    JSON.stringify({ config: faults.config, stats: faults.stats }),
  );
}

/**
 * Starts a local AWS-protocol server on 127.0.0.1.
 *
 * @example
 * const srv = await startAwsServer({ protocol: 'json1.0', targetPrefix: 'Timestream_20181101',
 *   errorNamespace: 'com.amazonaws.timestreamwrite', operations: { WriteRecords: (input) => ({}) },
 *   faults: new FaultInjector(), faultErrors });
 * await srv.close();
 */
export async function startAwsServer(options: JsonServerOptions | QueryServerOptions): Promise<AwsServer> {
  const maxBodyBytes = options.maxBodyBytes ?? 32 * 1024 * 1024;
  const { faults } = options;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = randomUUID();
    const fail = (err: {
      code: string;
      statusCode: number;
      message: string;
      fields?: Record<string, unknown>;
    }) =>
      options.protocol === 'query'
        ? sendQueryError(res, options, requestId, err)
        : sendJsonError(res, options, requestId, err);
    let body: Buffer;
    try {
      body = await readBody(req, maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLarge && !res.headersSent) {
        fail({ code: 'RequestEntityTooLarge', statusCode: 413, message: err.message });
      }
      return;
    }
    if ((req.url ?? '/').startsWith(FAULTS_PATH)) {
      await handleFaults(req, res, body, faults);
      return;
    }
    const delayMs = faults.delayMs();
    if (delayMs > 0) await sleep(delayMs);
    const fault = faults.callFault();
    if (fault !== 'none') {
      fail(fault === 'throttle' ? options.faultErrors.throttle : options.faultErrors.internal);
      return;
    }
    try {
      if (options.protocol === 'query') {
        const params = new URLSearchParams(body.toString('utf8'));
        const action = params.get('Action') ?? '';
        const op = options.operations[action];
        if (op === undefined)
          throw new AwsServiceError('InvalidAction', `The action ${action} is not valid`, 400);
        const inner = await op(params);
        if (faults.dropResponse()) {
          req.socket.destroy();
          return;
        }
        send(
          res,
          200,
          { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
          `<?xml version="1.0"?>\n<${action}Response xmlns="${options.xmlns}"><${action}Result>${inner}</${action}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
        );
        return;
      }
      const target = String(req.headers['x-amz-target'] ?? '');
      const dot = target.lastIndexOf('.');
      const prefix = target.slice(0, dot);
      const opName = target.slice(dot + 1);
      const op = prefix === options.targetPrefix ? options.operations[opName] : undefined;
      if (op === undefined) {
        throw new AwsServiceError('UnknownOperationException', `Unknown operation ${target}`, 400);
      }
      let input: Record<string, unknown>;
      try {
        const parsed: unknown = JSON.parse(body.length === 0 ? '{}' : body.toString('utf8'));
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
          throw new Error('not an object');
        input = parsed as Record<string, unknown>;
      } catch {
        throw new AwsServiceError('SerializationException', 'Request body is not a JSON object', 400);
      }
      const output = await op(input);
      if (faults.dropResponse()) {
        req.socket.destroy();
        return;
      }
      send(
        res,
        200,
        {
          'content-type': `application/x-amz-json-${options.protocol === 'json1.0' ? '1.0' : '1.1'}`,
          'x-amzn-requestid': requestId,
        },
        JSON.stringify(output ?? {}),
      );
    } catch (err) {
      if (err instanceof AwsServiceError) {
        fail({ code: err.code, statusCode: err.statusCode, message: err.message, fields: err.fields });
      } else {
        fail({ ...options.faultErrors.internal, message: `internal error: ${(err as Error).message}` });
      }
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, {}, String(err));
    });
  });
  // Large Firehose bodies on a busy 2-core box: do not let Node's defaults cut slow requests.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
