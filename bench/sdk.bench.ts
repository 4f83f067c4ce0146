/**
 * Producer SDK benchmark: what a log call costs the service, and how fast the shipper fills a stream.
 *
 * Cases (same seeded ~230-byte pino-style events for all):
 * - `sdkSend`: `shipper.send(object)` — the synchronous hot path a service pays per log call
 *   (serialize once, measure once, append). Aggregation and PutRecords happen later, per batch.
 * - `sdkSendString`: `shipper.send(line)` with a pre-serialized line — what the pino transport does.
 * - `sdkSendAndShip`: send + aggregation + encoding + a PutRecords per batch to an instant fake client,
 *   i.e. the SDK's whole CPU cost per event without network.
 * - `pinoDevNull`: the obvious alternative — `pino(pino.destination('/dev/null')).info(object)`,
 *   including the final `flushSync` so its writes are counted.
 * - `sdkKinesalite` / `sdkKinesaliteKeyed`: events/s and MB/s of event payload into a 4-shard
 *   kinesalite running in a child process (so the two do not share a core with each other's JS
 *   heap), `close()` included; random partition keys vs one key per event (shard-aware grouping).
 *
 * `nsPerOp` of the per-call cases is process CPU time per event (robust on a shared machine);
 * `wallNsPerOp` is beside it for the two headline cases.
 *
 * `npx tsx bench/sdk.bench.ts [--quick]` prints the cases as JSON.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  type PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import pino from 'pino';
import { createShipper } from '../sdk/shipper.ts';

export interface BenchCase {
  mbPerSec?: number;
  recordsPerSec?: number;
  eventsPerSec?: number;
  peakRssMb?: number;
  nsPerOp?: number;
  [k: string]: unknown;
}

/** Deterministic PRNG (mulberry32) so every run measures the same events. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ROUTES = ['/api/orders', '/api/orders/:id', '/api/cart', '/api/pay', '/health', '/api/users/:id'];

interface BenchEvent {
  service: string;
  route: string;
  status: number;
  duration_ms: number;
  trace_id: string;
  user_id: string;
  msg: string;
}

/** Events as a service would log them (pino adds level, time, pid and hostname itself). */
export function makeEvents(n: number, seed = 7): BenchEvent[] {
  const next = rng(seed);
  const out: BenchEvent[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const status = next() < 0.05 ? 500 : next() < 0.1 ? 404 : 200;
    out[i] = {
      service: `svc-${Math.floor(next() * 8)}`,
      route: ROUTES[Math.floor(next() * ROUTES.length)]!,
      status,
      duration_ms: Math.round(next() * 50_000) / 100,
      trace_id: Math.floor(next() * 2 ** 52)
        .toString(16)
        .padStart(32, '0'),
      user_id: `u-${Math.floor(next() * 100_000)}`,
      msg: status >= 500 ? 'request failed' : 'request completed',
    };
  }
  return out;
}

/** The events with the fields pino would add, so the SDK ships as many bytes as pino writes. */
function asLogObjects(events: BenchEvent[]): object[] {
  return events.map((e, i) => ({
    level: 30,
    time: 1_700_000_000_000 + i,
    pid: 4242,
    hostname: 'ip-10-0-1-23',
    ...e,
  }));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

let peakRss = 0;
function sampleRss(): void {
  const rss = process.memoryUsage().rss;
  if (rss > peakRss) peakRss = rss;
}

/**
 * CPU time (user + system) of the process, in ns. The per-call cases are single-threaded loops, so
 * CPU time measures their cost without the time this shared, overloaded machine spends running other
 * processes (wall time is reported beside it).
 */
function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1_000;
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** A client that acknowledges every PutRecords at once (CPU cost of the SDK without network). */
function instantClient(): KinesisClient {
  return {
    send: async (command: unknown) => {
      const n = (command as PutRecordsCommand).input.Records?.length ?? 0;
      const records = new Array(n);
      for (let i = 0; i < n; i++) records[i] = { SequenceNumber: String(i), ShardId: 'shardId-000000000000' };
      return { FailedRecordCount: 0, Records: records };
    },
    destroy: () => undefined,
  } as unknown as KinesisClient;
}

async function benchSend(
  objects: object[],
  lines: string[],
  runs: number,
): Promise<Record<string, BenchCase>> {
  const n = objects.length;
  const sendNs: number[] = [];
  const sendStringNs: number[] = [];
  const shipNs: number[] = [];
  const sendWallNs: number[] = [];
  for (let r = 0; r < runs + 1; r++) {
    // Hot path only: the loop of send() calls; delivery is awaited outside the timed section.
    const a = createShipper({ streamName: 'bench', client: instantClient(), maxBufferedBytes: 2 ** 30 });
    gc();
    let t = cpuNs();
    const w = process.hrtime.bigint();
    for (let i = 0; i < n; i++) a.send(objects[i]!);
    const objNs = (cpuNs() - t) / n;
    const objWallNs = Number(process.hrtime.bigint() - w) / n;
    sampleRss();
    await a.close();

    const b = createShipper({ streamName: 'bench', client: instantClient(), maxBufferedBytes: 2 ** 30 });
    gc();
    t = cpuNs();
    for (let i = 0; i < n; i++) b.send(lines[i]!);
    const strNs = (cpuNs() - t) / n;
    await b.close();

    // Whole SDK CPU cost: send, aggregate, encode, PutRecords (instant), settle.
    const c = createShipper({ streamName: 'bench', client: instantClient(), maxBufferedBytes: 2 ** 30 });
    gc();
    t = cpuNs();
    for (let i = 0; i < n; i++) c.send(objects[i]!);
    await c.close();
    const allNs = (cpuNs() - t) / n;
    sampleRss();
    if (r === 0) continue; // warm-up
    sendNs.push(objNs);
    sendWallNs.push(objWallNs);
    sendStringNs.push(strNs);
    shipNs.push(allNs);
  }
  return {
    sdkSend: {
      nsPerOp: Math.round(median(sendNs)),
      wallNsPerOp: Math.round(median(sendWallNs)),
      eventsPerSec: Math.round(1e9 / median(sendNs)),
      events: n,
    },
    sdkSendString: {
      nsPerOp: Math.round(median(sendStringNs)),
      eventsPerSec: Math.round(1e9 / median(sendStringNs)),
      events: n,
    },
    sdkSendAndShip: {
      nsPerOp: Math.round(median(shipNs)),
      eventsPerSec: Math.round(1e9 / median(shipNs)),
      events: n,
    },
  };
}

async function benchPino(events: BenchEvent[], runs: number): Promise<BenchCase> {
  const n = events.length;
  const ns: number[] = [];
  const wallNs: number[] = [];
  for (let r = 0; r < runs + 1; r++) {
    const dest = pino.destination({ dest: '/dev/null', sync: false, minLength: 4096 });
    await once(dest, 'ready');
    const logger = pino({ base: { pid: 4242, hostname: 'ip-10-0-1-23' } }, dest);
    gc();
    const t = cpuNs();
    const w = process.hrtime.bigint();
    for (let i = 0; i < n; i++) logger.info(events[i]!);
    dest.flushSync();
    const perEvent = (cpuNs() - t) / n;
    const perEventWall = Number(process.hrtime.bigint() - w) / n;
    dest.end();
    if (r > 0) {
      ns.push(perEvent);
      wallNs.push(perEventWall);
    }
  }
  return {
    nsPerOp: Math.round(median(ns)),
    wallNsPerOp: Math.round(median(wallNs)),
    eventsPerSec: Math.round(1e9 / median(ns)),
    events: n,
  };
}

/** kinesalite in its own process on an ephemeral port. */
async function startKinesaliteChild(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      "const s=require('kinesalite')({createStreamMs:0,shardLimit:50});s.listen(0,'127.0.0.1',()=>console.log(s.address().port))",
    ],
    { cwd: pathToFileURL(`${import.meta.dirname}/..`).pathname, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  return { url: `http://127.0.0.1:${chunk.toString().trim()}`, child };
}

async function benchKinesalite(
  objects: object[],
  runs: number,
): Promise<{ random: BenchCase; keyed: BenchCase }> {
  const { url, child } = await startKinesaliteChild();
  const admin = new KinesisClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    requestHandler: new NodeHttpHandler(),
  });
  const payloadBytes = objects.reduce<number>((n, o) => n + Buffer.byteLength(JSON.stringify(o)), 0);
  const result = async (keyed: boolean): Promise<BenchCase> => {
    const secs: number[] = [];
    let kinesisRecords = 0;
    for (let r = 0; r < runs; r++) {
      const stream = `bench-${keyed ? 'keyed' : 'random'}-${r}`;
      await admin.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 4 }));
      while (
        (await admin.send(new DescribeStreamSummaryCommand({ StreamName: stream }))).StreamDescriptionSummary
          ?.StreamStatus !== 'ACTIVE'
      ) {
        await new Promise((res) => setTimeout(res, 20));
      }
      const shipper = createShipper({
        streamName: stream,
        endpoint: url,
        ...(keyed ? { partitionKey: (e: object | string) => (e as { trace_id: string }).trace_id } : {}),
      });
      const t = process.hrtime.bigint();
      for (let i = 0; i < objects.length; i++) {
        shipper.send(objects[i]!);
        if ((i & 1023) === 1023) await shipper.ready();
      }
      await shipper.close();
      secs.push(Number(process.hrtime.bigint() - t) / 1e9);
      sampleRss();
      const s = shipper.stats();
      if (s.sent !== objects.length) throw new Error(`bench: only ${s.sent} of ${objects.length} sent`);
      kinesisRecords = s.kinesisRecords;
    }
    const sec = median(secs);
    return {
      eventsPerSec: Math.round(objects.length / sec),
      mbPerSec: Math.round((payloadBytes / 1_048_576 / sec) * 100) / 100,
      recordsPerSec: Math.round(kinesisRecords / sec),
      events: objects.length,
      kinesisRecords,
      shards: 4,
    };
  };
  try {
    return { random: await result(false), keyed: await result(true) };
  } finally {
    admin.destroy();
    child.kill();
  }
}

export async function run(opts: { quick: boolean }): Promise<Record<string, BenchCase>> {
  // Sized for the full-suite budget (~4 min on the shared 2-core machine); per-event results.
  const n = opts.quick ? 10_000 : 40_000;
  const runs = opts.quick ? 2 : 3;
  const events = makeEvents(n);
  const objects = asLogObjects(events);
  const lines = objects.map((o) => JSON.stringify(o));
  const avgEventBytes = Math.round(lines.reduce((s, l) => s + l.length, 0) / n);
  const send = await benchSend(objects, lines, runs);
  const pinoCase = await benchPino(events, runs);
  const k = await benchKinesalite(objects.slice(0, opts.quick ? 10_000 : 15_000), opts.quick ? 1 : 3);
  const peakRssMb = Math.round(peakRss / 1_048_576);
  const cases: Record<string, BenchCase> = {
    ...send,
    pinoDevNull: pinoCase,
    sdkKinesalite: { ...k.random, peakRssMb },
    sdkKinesaliteKeyed: { ...k.keyed, peakRssMb },
  };
  for (const c of Object.values(cases)) c.avgEventBytes = avgEventBytes;
  return cases;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const cases = await run({ quick: process.argv.includes('--quick') });
  process.stdout.write(`${JSON.stringify(cases, null, 2)}\n`);
}
