/**
 * A local Amazon Data Firehose endpoint (AWS JSON 1.1, target `Firehose_20150804`) that delivers to a
 * directory laid out like the S3 bucket would be, so `@aws-sdk/client-firehose` runs unchanged.
 *
 * - `PutRecordBatch` limits (API_PutRecordBatch): 1..500 records (`ValidationException`), each
 *   `Data` ≤ 1,024,000 bytes (`ValidationException` "Member must have length less than or equal to
 *   1024000"), the request's data ≤ 4 MiB (`InvalidArgumentException` "Records size exceeds 4 MB
 *   limit"); unknown stream `ResourceNotFoundException`. Per-entry faults answer HTTP 200 with
 *   `FailedPutCount` and `{ErrorCode: "ServiceUnavailableException", ErrorMessage: "Slow down."}`.
 *   `PutRecord` is served too.
 * - Buffering hints are honored per stream: a buffer is delivered when it reaches `bufferSizeMiB` or
 *   `bufferIntervalS` after its first record, whichever comes first (Firehose "Buffering hints").
 * - Delivery: record data concatenated as received (Firehose adds no delimiter), gzip-compressed, to
 *   `<dataDir>/<prefix>YYYY/MM/DD/HH/<stream>-YYYY-MM-DD-HH-MM-SS-<uuid>.gz`, UTC of the buffer's first
 *   record — the default S3 key layout. Files appear atomically (written then renamed).
 *
 * Buffered records live in memory until delivered: `close()` and `flush()` deliver them. Accepted
 * records are therefore durable only once flushed, unlike the real service.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip as gunzipCb, gzip as gzipCb } from 'node:zlib';
import { ArchivePrefix, Names } from '../processors/schema.ts';
import { AwsServiceError, startAwsServer } from './awsJsonServer.ts';
import { type FaultConfig, FaultInjector } from './faults.ts';

const gzip = promisify(gzipCb);
const gunzip = promisify(gunzipCb);

/** Firehose PutRecordBatch limits. */
export const FIREHOSE_MAX_BATCH_RECORDS = 500;
export const FIREHOSE_MAX_RECORD_BYTES = 1_024_000;
export const FIREHOSE_MAX_BATCH_BYTES = 4 * 1024 * 1024;

/** One delivery stream's destination and buffering hints. */
export interface FirehoseStreamConfig {
  /** S3 key prefix (`logs/`, `errors/`). */
  prefix: string;
  /** Buffer size hint, 1..128 MiB. Default 5 (the Firehose default). */
  bufferSizeMiB?: number;
  /** Buffer interval hint, 0..900 s. Default 60 locally (Firehose default 300) so files show up sooner. */
  bufferIntervalS?: number;
}

/** Options of {@link startFirehoseEndpoint}. */
export interface FirehoseEndpointOptions {
  /** 0 or absent: ephemeral. `LocalPorts.firehose` in `tidewatch start`. */
  port?: number;
  /** Root of the "bucket". */
  dataDir: string;
  /** Delivery streams. Default: `Names.archiveDeliveryStream` → `logs/`, `Names.archiveErrorDeliveryStream` → `errors/`. */
  streams?: Record<string, FirehoseStreamConfig>;
  faults?: FaultInjector | FaultConfig;
  /** Clock for file names. Default `Date.now`. */
  now?: () => number;
}

/** A running local Firehose endpoint. */
export interface FirehoseEndpoint {
  url: string;
  port: number;
  faults: FaultInjector;
  stats: {
    calls: number;
    recordsAccepted: number;
    recordsFailed: number;
    bytesAccepted: number;
    filesWritten: number;
  };
  /** Delivers every buffer now; resolves to the files written. */
  flush(): Promise<string[]>;
  /** Flushes and stops. */
  close(): Promise<void>;
}

interface StreamBuffer {
  config: Required<FirehoseStreamConfig>;
  chunks: Buffer[];
  bytes: number;
  firstMs: number;
  timer: NodeJS.Timeout | undefined;
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * The S3-style key of a delivered object.
 *
 * @example
 * archiveKey('logs/', 'tidewatch-archive', Date.UTC(2024, 0, 2, 3, 4, 5), 'u');
 * // 'logs/2024/01/02/03/tidewatch-archive-2024-01-02-03-04-05-u.gz'
 */
export function archiveKey(prefix: string, stream: string, timeMs: number, id: string): string {
  const d = new Date(timeMs);
  const y = d.getUTCFullYear();
  const mo = pad(d.getUTCMonth() + 1);
  const da = pad(d.getUTCDate());
  const h = pad(d.getUTCHours());
  const ts = `${y}-${mo}-${da}-${h}-${pad(d.getUTCMinutes())}-${pad(d.getUTCSeconds())}`;
  return `${prefix}${y}/${mo}/${da}/${h}/${stream}-${ts}-${id}.gz`;
}

/**
 * All delivered `.gz` files under `<dataDir>/<prefix>`, sorted by key.
 *
 * @example
 * for (const f of await listArchiveFiles('.tidewatch/archive', 'logs/')) console.log(f);
 */
export async function listArchiveFiles(dataDir: string, prefix: string): Promise<string[]> {
  const root = join(dataDir, prefix);
  let entries: string[];
  try {
    entries = await readdir(root, { recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return entries
    .filter((e) => e.endsWith('.gz'))
    .map((e) => join(root, e))
    .sort();
}

/**
 * The decompressed content of a delivered file (NDJSON for tidewatch's archive).
 *
 * @example
 * const lines = (await readArchiveFile(file)).toString('utf8').split('\n').filter(Boolean);
 */
export async function readArchiveFile(path: string): Promise<Buffer> {
  return gunzip(await readFile(path));
}

function recordId(): string {
  return randomUUID().replace(/-/g, '') + randomUUID().replace(/-/g, '').slice(0, 24);
}

/**
 * Starts the local Firehose endpoint on 127.0.0.1.
 *
 * @example
 * const fh = await startFirehoseEndpoint({ dataDir: '.tidewatch/archive' });
 * const client = new FirehoseClient({ endpoint: fh.url, region: 'us-east-1',
 *   credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
 * await fh.close(); // delivers what is buffered
 */
export async function startFirehoseEndpoint(options: FirehoseEndpointOptions): Promise<FirehoseEndpoint> {
  const faults =
    options.faults instanceof FaultInjector ? options.faults : new FaultInjector(options.faults ?? {});
  const now = options.now ?? Date.now;
  const streamConfigs = options.streams ?? {
    [Names.archiveDeliveryStream]: { prefix: ArchivePrefix.logs },
    [Names.archiveErrorDeliveryStream]: { prefix: ArchivePrefix.errors },
  };
  const buffers = new Map<string, StreamBuffer>();
  for (const [name, c] of Object.entries(streamConfigs)) {
    const bufferSizeMiB = c.bufferSizeMiB ?? 5;
    const bufferIntervalS = c.bufferIntervalS ?? 60;
    if (!(bufferSizeMiB >= 1 && bufferSizeMiB <= 128)) {
      throw new RangeError(`stream ${name}: bufferSizeMiB must be in 1..128, got ${bufferSizeMiB}`);
    }
    if (!(bufferIntervalS >= 0 && bufferIntervalS <= 900)) {
      throw new RangeError(`stream ${name}: bufferIntervalS must be in 0..900, got ${bufferIntervalS}`);
    }
    buffers.set(name, {
      config: { prefix: c.prefix, bufferSizeMiB, bufferIntervalS },
      chunks: [],
      bytes: 0,
      firstMs: 0,
      timer: undefined,
    });
  }
  const stats = { calls: 0, recordsAccepted: 0, recordsFailed: 0, bytesAccepted: 0, filesWritten: 0 };
  const pending = new Set<Promise<string>>();

  const deliver = (name: string, buf: StreamBuffer): Promise<string> | undefined => {
    if (buf.timer !== undefined) clearTimeout(buf.timer);
    buf.timer = undefined;
    if (buf.bytes === 0) return undefined;
    const data = Buffer.concat(buf.chunks, buf.bytes);
    const key = archiveKey(buf.config.prefix, name, buf.firstMs, randomUUID());
    buf.chunks = [];
    buf.bytes = 0;
    const path = join(options.dataDir, key);
    const write = (async () => {
      const gz = await gzip(data);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(`${path}.tmp`, gz);
      await rename(`${path}.tmp`, path);
      stats.filesWritten++;
      return path;
    })();
    pending.add(write);
    write.finally(() => pending.delete(write)).catch(() => undefined);
    return write;
  };

  const accept = (name: string, buf: StreamBuffer, data: Buffer): void => {
    if (buf.bytes === 0) {
      buf.firstMs = now();
      buf.timer = setTimeout(() => deliver(name, buf), buf.config.bufferIntervalS * 1000);
      buf.timer.unref();
    }
    buf.chunks.push(data);
    buf.bytes += data.length;
    if (buf.bytes >= buf.config.bufferSizeMiB * 1024 * 1024) deliver(name, buf);
  };

  const streamOf = (input: Record<string, unknown>): [string, StreamBuffer] => {
    const name = input.DeliveryStreamName;
    const buf = typeof name === 'string' ? buffers.get(name) : undefined;
    if (buf === undefined) {
      throw new AwsServiceError(
        'ResourceNotFoundException',
        `Firehose ${String(name)} under account 000000000000 not found.`,
        400,
      );
    }
    return [name as string, buf];
  };

  const decode = (record: unknown, index: number): Buffer => {
    const data = (record as { Data?: unknown } | null)?.Data;
    if (typeof data !== 'string')
      throw new AwsServiceError('ValidationException', `records.${index + 1}.member.data is required`);
    const bytes = Buffer.from(data, 'base64');
    if (bytes.length > FIREHOSE_MAX_RECORD_BYTES) {
      throw new AwsServiceError(
        'ValidationException',
        `1 validation error detected: Value at 'records.${index + 1}.member.data' failed to satisfy constraint: Member must have length less than or equal to ${FIREHOSE_MAX_RECORD_BYTES}`,
      );
    }
    return bytes;
  };

  const server = await startAwsServer({
    protocol: 'json1.1',
    port: options.port ?? 0,
    targetPrefix: 'Firehose_20150804',
    errorNamespace: 'com.amazonaws.firehose',
    faults,
    faultErrors: {
      throttle: { code: 'ServiceUnavailableException', statusCode: 503, message: 'Slow down.' },
      internal: {
        code: 'InternalFailure',
        statusCode: 500,
        message: 'We encountered an internal error. Please try again.',
      },
    },
    operations: {
      PutRecordBatch: (input) => {
        stats.calls++;
        const [name, buf] = streamOf(input);
        const records = input.Records;
        if (!Array.isArray(records) || records.length < 1 || records.length > FIREHOSE_MAX_BATCH_RECORDS) {
          throw new AwsServiceError(
            'ValidationException',
            `1 validation error detected: Value at 'records' failed to satisfy constraint: Member must have length less than or equal to ${FIREHOSE_MAX_BATCH_RECORDS} and greater than or equal to 1 (got ${Array.isArray(records) ? records.length : 0})`,
          );
        }
        const decoded = records.map(decode);
        let total = 0;
        for (const d of decoded) total += d.length;
        if (total > FIREHOSE_MAX_BATCH_BYTES) {
          throw new AwsServiceError('InvalidArgumentException', 'Records size exceeds 4 MB limit');
        }
        const responses: Array<{ RecordId?: string; ErrorCode?: string; ErrorMessage?: string }> = [];
        let failed = 0;
        for (const d of decoded) {
          if (faults.entryThrottled()) {
            failed++;
            responses.push({ ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' });
          } else {
            accept(name, buf, d);
            stats.bytesAccepted += d.length;
            responses.push({ RecordId: recordId() });
          }
        }
        stats.recordsAccepted += decoded.length - failed;
        stats.recordsFailed += failed;
        return { FailedPutCount: failed, Encrypted: false, RequestResponses: responses };
      },
      PutRecord: (input) => {
        stats.calls++;
        const [name, buf] = streamOf(input);
        const d = decode(input.Record, 0);
        if (faults.entryThrottled()) {
          stats.recordsFailed++;
          throw new AwsServiceError('ServiceUnavailableException', 'Slow down.', 503);
        }
        accept(name, buf, d);
        stats.recordsAccepted++;
        stats.bytesAccepted += d.length;
        return { RecordId: recordId(), Encrypted: false };
      },
    },
  });

  const flush = async (): Promise<string[]> => {
    for (const [name, buf] of buffers) deliver(name, buf);
    return Promise.all([...pending]);
  };

  return {
    url: server.url,
    port: server.port,
    faults,
    stats,
    flush,
    close: async () => {
      await server.close();
      await flush();
    },
  };
}
