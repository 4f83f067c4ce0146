/**
 * Seeded inputs for the pipeline benchmark (`bench/pipeline.bench.ts`): one set of ~1 KB JSON log
 * lines, wrapped three ways — KPL aggregates, NDJSON records, CloudWatch Logs subscription envelopes —
 * as Lambda Kinesis events, so every case of one format measures the same bytes, and the formats
 * measure the same log lines.
 *
 * Lines look like a pino/pino-http service fleet: 40 services with a Zipf-like skew, levels mostly
 * info with some debug/warn/error, HTTP statuses 2xx/3xx/4xx/5xx, log-normal durations, a trace id,
 * a user agent and a free-text detail field that pads the line to ~1 KB.
 */
import { gzipSync } from 'node:zlib';
import type { KinesisEvent, KinesisEventRecord } from '../processors/sources/kinesisEvent.ts';
import { KplAggregateBuilder } from '../sdk/kpl.ts';

/** Deterministic PRNG (mulberry32): every run measures the same bytes. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SERVICE_WORDS = [
  'checkout',
  'cart',
  'payments',
  'orders',
  'inventory',
  'search',
  'users',
  'auth',
  'shipping',
  'pricing',
];
const SERVICE_SUFFIX = ['api', 'worker', 'gateway', 'consumer'];
/** 40 service names. */
export const SERVICES: readonly string[] = SERVICE_SUFFIX.flatMap((s) =>
  SERVICE_WORDS.map((w) => `${w}-${s}`),
);
const ROUTES = [
  '/api/orders',
  '/api/orders/:id',
  '/api/cart',
  '/api/cart/items',
  '/api/pay',
  '/api/users/:id',
  '/api/search',
  '/health',
];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];
const AGENTS = [
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  'okhttp/4.12.0',
  'aws-sdk-js/3.600.0 ua/2.0 os/linux lang/js md/nodejs#20.15.0',
];
const WORDS =
  'upstream responded cache miss retry connection pool acquired released span tenant shard region replica query rows scanned index plan'.split(
    ' ',
  );

/** Standard normal from two uniforms (Box–Muller). */
function gauss(next: () => number): number {
  return Math.sqrt(-2 * Math.log(next() + 1e-12)) * Math.cos(2 * Math.PI * next());
}

/** Service index with a Zipf-like skew (s ≈ 1): a few services carry most lines. */
function zipf(next: () => number, n: number): number {
  return Math.min(n - 1, Math.floor(n ** next()) - 1);
}

/** One pino-http style JSON line of about `bytes` UTF-8 bytes. */
export function makeLogLine(next: () => number, timeMs: number, bytes = 1024): string {
  const service = SERVICES[zipf(next, SERVICES.length)]!;
  const u = next();
  const status = u < 0.02 ? 503 : u < 0.04 ? 500 : u < 0.09 ? 404 : u < 0.11 ? 400 : u < 0.14 ? 304 : 200;
  const lv = next();
  const level = status >= 500 ? 50 : status >= 400 ? 40 : lv < 0.1 ? 20 : lv < 0.12 ? 40 : 30;
  const duration = Math.round(Math.exp(3 + 0.9 * gauss(next) + (status >= 500 ? 1.5 : 0)) * 100) / 100;
  const line = {
    level,
    time: timeMs,
    pid: 4000 + Math.floor(next() * 64),
    hostname: `ip-10-0-${Math.floor(next() * 8)}-${Math.floor(next() * 250)}.ec2.internal`,
    service,
    msg: status >= 500 ? 'request errored' : 'request completed',
    method: METHODS[Math.floor(next() * METHODS.length)],
    route: ROUTES[Math.floor(next() * ROUTES.length)],
    status,
    duration_ms: duration,
    trace_id: Math.floor(next() * 2 ** 52)
      .toString(16)
      .padStart(32, '0'),
    user_id: `u-${Math.floor(next() * 1_000_000)}`,
    user_agent: AGENTS[Math.floor(next() * AGENTS.length)],
    detail: '',
  };
  const head = Buffer.byteLength(JSON.stringify(line));
  let detail = '';
  while (head + detail.length < bytes) detail += `${WORDS[Math.floor(next() * WORDS.length)]} `;
  line.detail = detail.slice(0, Math.max(0, bytes - head));
  return JSON.stringify(line);
}

/** Format of the records of a bench event. */
export const InputFormat = { kpl: 'kpl', ndjson: 'ndjson', cloudwatch: 'cloudwatch' } as const;
export type InputFormatName = (typeof InputFormat)[keyof typeof InputFormat];

/** One Lambda Kinesis event and what the floor needs to know about it. */
export interface BenchEvent {
  format: InputFormatName;
  event: KinesisEvent;
  /** Log lines (user records for KPL, lines for NDJSON, logEvents for CloudWatch). */
  lines: number;
  /** UTF-8 bytes of all log lines (the "MB" of MB/s in every case). */
  lineBytes: number;
  /** Bytes of the event's `data` fields as base64 (what Lambda counts against its 6 MB payload). */
  base64Bytes: number;
  /** KPL only: per record, `[start, end)` of each user record inside the decoded record. */
  offsets: Int32Array[];
}

/** Options of {@link makeEvents}. */
export interface MakeEventsOptions {
  /** Target bytes of base64 data in the event. Default 5,000,000 (Lambda's payload limit is 6 MB). */
  base64Bytes?: number;
  /** Bytes per log line. Default 1,024. */
  lineBytes?: number;
  /** Bytes of lines per Kinesis record (KPL `AggregationMaxSize` default 51,200). Default 51,200. */
  recordBytes?: number;
  seed?: number;
  /** Event time of the first line. Default 2024-06-10T06:13:20Z. */
  startMs?: number;
}

/** Log lines with event times 4 ms apart (≈ 250 lines/s per shard: one event spans ~15 s). */
export function makeLines(
  count: number,
  opts: MakeEventsOptions = {},
): { lines: string[]; timesMs: number[] } {
  const next = rng(opts.seed ?? 42);
  const start = opts.startMs ?? 1_718_000_000_000;
  const lines: string[] = [];
  const timesMs: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = start + i * 4;
    timesMs.push(t);
    lines.push(makeLogLine(next, t, opts.lineBytes ?? 1024));
  }
  return { lines, timesMs };
}

function kinesisRecord(
  data: Uint8Array,
  partitionKey: string,
  n: number,
  arrivalMs: number,
): KinesisEventRecord {
  const seq = `4964${'0'.repeat(4)}${String(n).padStart(48, '0')}`;
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey,
      sequenceNumber: seq,
      data: Buffer.from(data).toString('base64'),
      approximateArrivalTimestamp: arrivalMs / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `shardId-000000000000:${seq}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn:aws:iam::123456789012:role/tidewatch-ingest',
    awsRegion: 'us-east-1',
    eventSourceARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/tidewatch-logs',
  };
}

/**
 * The same log lines as three Lambda events: KPL aggregates, NDJSON records and gzipped CloudWatch
 * Logs envelopes. Lines are generated until the KPL event's base64 data reaches `base64Bytes`.
 *
 * @example
 * const { kpl, ndjson, cloudwatch } = makeEvents({ base64Bytes: 1_000_000 });
 * await ingest(kpl.event);
 */
export function makeEvents(opts: MakeEventsOptions = {}): Record<InputFormatName, BenchEvent> {
  const target = opts.base64Bytes ?? 5_000_000;
  const lineBytes = opts.lineBytes ?? 1024;
  const recordBytes = opts.recordBytes ?? 51_200;
  // base64 inflates by 4/3; the KPL framing adds a few bytes per user record.
  const count = Math.floor((target * 0.75) / (lineBytes + 12));
  const { lines, timesMs } = makeLines(count, opts);
  const bytes = lines.map((l) => Buffer.from(l, 'utf8'));
  const totalLineBytes = bytes.reduce((s, b) => s + b.length, 0);
  const arrival = (i: number) => timesMs[Math.min(i, timesMs.length - 1)]! + 200;
  const service = (i: number) => (JSON.parse(lines[i]!) as { service: string }).service;

  // KPL: aggregates of up to `recordBytes`, as the KPL and our SDK build them.
  const kplRecords: KinesisEventRecord[] = [];
  const offsets: Int32Array[] = [];
  const builder = new KplAggregateBuilder(recordBytes);
  let i = 0;
  while (i < bytes.length) {
    builder.reset();
    const first = i;
    while (i < bytes.length && builder.tryAdd({ partitionKey: service(i), data: bytes[i]! })) i++;
    const entry = builder.build();
    // User-record offsets for the floor: each user record's bytes appear verbatim in the aggregate.
    const off = new Int32Array((i - first) * 2);
    const data = Buffer.from(entry.data);
    let from = 4;
    for (let k = first; k < i; k++) {
      const at = data.indexOf(bytes[k]!, from);
      off[(k - first) * 2] = at;
      off[(k - first) * 2 + 1] = at + bytes[k]!.length;
      from = at + bytes[k]!.length;
    }
    offsets.push(off);
    kplRecords.push(kinesisRecord(entry.data, entry.partitionKey, kplRecords.length, arrival(i - 1)));
  }

  // NDJSON: lines joined by '\n' into records of up to `recordBytes` (Fluent Bit / Vector style).
  const ndRecords: KinesisEventRecord[] = [];
  i = 0;
  while (i < bytes.length) {
    const parts: Buffer[] = [];
    let size = 0;
    while (i < bytes.length && (parts.length === 0 || size + bytes[i]!.length + 1 <= recordBytes)) {
      parts.push(bytes[i]!, NEWLINE);
      size += bytes[i]!.length + 1;
      i++;
    }
    ndRecords.push(
      kinesisRecord(Buffer.concat(parts), `pk-${ndRecords.length}`, ndRecords.length, arrival(i - 1)),
    );
  }

  // CloudWatch Logs: a subscription filter's gzipped DATA_MESSAGE of up to `recordBytes` of messages.
  const cwRecords: KinesisEventRecord[] = [];
  i = 0;
  while (i < bytes.length) {
    const logEvents: { id: string; timestamp: number; message: string }[] = [];
    let size = 0;
    while (i < bytes.length && (logEvents.length === 0 || size + bytes[i]!.length <= recordBytes)) {
      logEvents.push({
        id: `37812953832983912983129831298312983129831298${String(i).padStart(12, '0')}`,
        timestamp: timesMs[i]!,
        message: lines[i]!,
      });
      size += bytes[i]!.length;
      i++;
    }
    const envelope = {
      messageType: 'DATA_MESSAGE',
      owner: '123456789012',
      logGroup: '/ecs/shop',
      logStream: `ecs/app/${cwRecords.length}`,
      subscriptionFilters: ['tidewatch'],
      logEvents,
    };
    cwRecords.push(
      kinesisRecord(
        gzipSync(JSON.stringify(envelope)),
        `cw-${cwRecords.length}`,
        cwRecords.length,
        arrival(i - 1),
      ),
    );
  }

  const make = (format: InputFormatName, records: KinesisEventRecord[], offs: Int32Array[]): BenchEvent => ({
    format,
    event: { Records: records },
    lines: lines.length,
    lineBytes: totalLineBytes,
    base64Bytes: records.reduce((s, r) => s + r.kinesis.data.length, 0),
    offsets: offs,
  });
  return {
    kpl: make(InputFormat.kpl, kplRecords, offsets),
    ndjson: make(InputFormat.ndjson, ndRecords, []),
    cloudwatch: make(InputFormat.cloudwatch, cwRecords, []),
  };
}

const NEWLINE = Buffer.from('\n');
