/**
 * Windows benchmark: stage one (ingest), the partial codec, stage two (detect) and the sketch.
 *
 * Cases:
 * - `stageOne*`: `aggregateBatch` events/s over 10,000-event batches of a realistic mix (60
 *   services with a Zipf-like skew, 2/4/5xx statuses, log-normal latencies, raw line lengths given);
 *   variants with route + status_class dimensions and three rules, and with hopping windows.
 * - `codecTwp1` vs `codecArrow`: bytes of one metrics record (one series, one window — what the
 *   metrics stream carries) and of a whole batch per series; encode + decode ns per partial.
 * - `mergeSeriesWindow`: stage-two cost per series·window (decode the series' record, merge four
 *   source shards' partials, close, compute p50/p90/p99), and what 100,000 series need per 10 s window.
 * - `memoryOpenSeriesWindow`: heap bytes per open series·window (measured with forced GC), the
 *   merger's own estimate, and JSON checkpoint bytes.
 * - `sketchOurs` vs `sketchLibrary`: accept and merge cost and serialized bytes of our DDSketch store
 *   vs `@datadog/sketches-js` (protobuf `toProto`).
 *
 * Times are medians over runs; `cpu*` fields use process CPU time (user + system), the wall-time
 * fields (`eventsPerSec`, `nsPerOp`) are skewed by other processes on a shared machine.
 * `calibrationLoop` times a trivial loop, to scale the numbers to another machine.
 *
 * `npx tsx bench/windows.bench.ts [--quick]` prints the cases as JSON.
 */

import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DDSketch } from '@datadog/sketches-js';
import type { LevelName, LogEvent } from '../processors/schema.ts';
import { aggregateBatch, type WindowPartial } from '../processors/transforms/window/aggregateBatch.ts';
import { WindowMerger } from '../processors/transforms/window/mergePartials.ts';
import { decodePartialsArrow, encodePartialsArrow } from '../processors/transforms/window/partialArrow.ts';
import {
  chunkPartials,
  decodePartials,
  encodePartials,
} from '../processors/transforms/window/partialCodec.ts';
import { QuantileSketch } from '../processors/transforms/window/sketch.ts';
import { defaultWindowConfig, type WindowConfig } from '../processors/transforms/window/windowConfig.ts';

export interface BenchCase {
  mbPerSec?: number;
  recordsPerSec?: number;
  eventsPerSec?: number;
  peakRssMb?: number;
  nsPerOp?: number;
  [k: string]: unknown;
}

const T0 = 1_700_000_000_000;
const SEQ = '49590338271490256608559692538361571095921575989136588898';
const SEQ_END = '49590338271490256608559692538361571095921575989136999999';

/** Deterministic PRNG (mulberry32). */
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

/** Wall and CPU (user + system) nanoseconds of `fn`. CPU time is what a Lambda is billed for and
 * what survives a shared, oversubscribed machine; wall time is reported beside it. */
function timeIt(fn: () => void): { wallNs: number; cpuNs: number } {
  const c = process.cpuUsage();
  const t = process.hrtime.bigint();
  fn();
  const wallNs = Number(process.hrtime.bigint() - t);
  const cu = process.cpuUsage(c);
  return { wallNs, cpuNs: (cu.user + cu.system) * 1000 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

const ROUTES = ['/api/orders', '/api/orders/:id', '/api/cart', '/api/pay', '/health', '/api/users/:id'];

/** One shard's batch: `n` events spanning `spanMs` of event time, a realistic mix. */
function makeBatch(seed: number, n: number, spanMs: number): { events: LogEvent[]; bytes: Uint32Array } {
  const r = rng(seed);
  const events: LogEvent[] = [];
  const bytes = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    // Zipf-like: service k with weight ~ 1/k over 60 services.
    const svc = Math.min(59, Math.floor(Math.exp(r() * Math.log(60))) - 1);
    const u = r();
    const status = u < 0.9 ? 200 : u < 0.95 ? 404 : u < 0.97 ? 429 : u < 0.99 ? 500 : 503;
    const level: LevelName = status >= 500 ? 'error' : u < 0.93 ? 'info' : 'warn';
    // log-normal latency, median ~40 ms
    const z = Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
    const e: LogEvent = {
      timeMs: T0 + Math.floor((i / n) * spanMs) - Math.floor(r() * 2_000),
      service: `svc-${svc}`,
      level,
      message: status >= 500 ? 'upstream failed' : 'request served',
      status,
      route: ROUTES[Math.floor(r() * ROUTES.length)]!,
    };
    if (r() < 0.8) e.durationMs = Math.round(Math.exp(Math.log(40) + 0.9 * z) * 100) / 100;
    if (r() < 0.3) e.attributes = { amount: Math.round(r() * 10_000) / 100 };
    events.push(e);
    bytes[i] = 250 + Math.floor(r() * 900);
  }
  return { events, bytes };
}

function stageOneCase(config: WindowConfig, quick: boolean): BenchCase {
  const n = 10_000;
  // Full-suite budget (~4 min on the shared 2-core machine): 3 batches × 3 measured rounds.
  const batches = Array.from({ length: 3 }, (_, i) => makeBatch(100 + i, n, 25_000));
  const rounds = quick ? 3 : 4;
  const rates: number[] = [];
  const cpuRates: number[] = [];
  let partials = 0;
  let series = 0;
  let wireBytes = 0;
  for (let round = 0; round < rounds; round++) {
    const { wallNs, cpuNs } = timeIt(() => {
      for (const b of batches) {
        const res = aggregateBatch(b.events, {
          sourceShard: 'shardId-000000000001',
          firstSequenceNumber: SEQ,
          lastSequenceNumber: SEQ_END,
          nowMs: T0 + 60_000,
          config,
          eventBytes: b.bytes,
        });
        partials = res.partials.length;
        if (round === 0) {
          const chunks = chunkPartials(res.partials);
          series = chunks.length;
          wireBytes = chunks.reduce((sum, c) => sum + c.data.length, 0);
        }
      }
    });
    if (round === 0) continue; // warm-up (and the one round that also encodes)
    rates.push((batches.length * n) / (wallNs / 1e9));
    cpuRates.push((batches.length * n) / (cpuNs / 1e9));
  }
  const eventsPerSec = Math.round(median(rates));
  const cpuEventsPerSec = Math.round(median(cpuRates));
  return {
    eventsPerSec,
    cpuEventsPerSec,
    nsPerOp: Math.round(1e9 / eventsPerSec),
    cpuNsPerEvent: Math.round(1e9 / cpuEventsPerSec),
    eventsPerBatch: n,
    partialsPerBatch: partials,
    seriesPerBatch: series,
    wireBytesPerBatch: wireBytes,
    wireBytesPerSeries: Math.round(wireBytes / Math.max(1, series)),
    runs: rounds,
  };
}

function codecCases(quick: boolean): Record<string, BenchCase> {
  const config = defaultWindowConfig();
  const b = makeBatch(7, 10_000, 9_000);
  const { partials } = aggregateBatch(b.events, {
    sourceShard: 'shardId-000000000001',
    firstSequenceNumber: SEQ,
    lastSequenceNumber: SEQ_END,
    nowMs: T0 + 60_000,
    config,
    eventBytes: b.bytes,
  });
  const bySeries = new Map<string, WindowPartial[]>();
  for (const p of partials) bySeries.set(p.seriesKey, [...(bySeries.get(p.seriesKey) ?? []), p]);
  const groups = [...bySeries.values()];
  const rounds = quick ? 3 : 5;
  const out: Record<string, BenchCase> = {};
  for (const [name, enc, dec] of [
    ['codecTwp1', encodePartials, decodePartials],
    ['codecArrow', encodePartialsArrow, decodePartialsArrow],
  ] as const) {
    const perRecord = groups.map((g) => enc(g).length);
    const whole = enc(partials).length;
    const times: number[] = [];
    const cpuTimes: number[] = [];
    const repeat = 4;
    for (let r = 0; r <= rounds; r++) {
      const { wallNs, cpuNs } = timeIt(() => {
        for (let k = 0; k < repeat; k++) {
          for (const g of groups) {
            const d = dec(enc(g));
            if (d.kind !== 'ok') throw new Error(`${name} failed`);
          }
        }
      });
      if (r === 0) continue; // JIT warm-up
      times.push(wallNs / (repeat * partials.length));
      cpuTimes.push(cpuNs / (repeat * partials.length));
    }
    out[name] = {
      nsPerOp: Math.round(median(times)),
      cpuNsPerPartial: Math.round(median(cpuTimes)),
      recordsPerSec: Math.round(1e9 / median(times)),
      bytesPerSeriesRecordMedian: median(perRecord),
      bytesPerSeriesRecordMax: Math.max(...perRecord),
      bytesWholeBatchPerSeries: Math.round(whole / groups.length),
      series: groups.length,
      partials: partials.length,
      runs: rounds,
    };
  }
  out.codecTwp1!.arrowOverTwp1Bytes =
    Math.round(
      ((out.codecArrow!.bytesPerSeriesRecordMedian as number) /
        (out.codecTwp1!.bytesPerSeriesRecordMedian as number)) *
        10,
    ) / 10;
  return out;
}

/** Partials of `series` series from `shards` source shards for one window, as metrics records. */
function detectInput(series: number, shards: number, seed: number): Uint8Array[] {
  const r = rng(seed);
  const config = defaultWindowConfig();
  const records: Uint8Array[] = [];
  for (let s = 0; s < shards; s++) {
    const events: LogEvent[] = [];
    for (let i = 0; i < series; i++) {
      const per = 1 + Math.floor(r() * 6);
      for (let k = 0; k < per; k++) {
        events.push({
          timeMs: T0 + Math.floor(r() * 10_000),
          service: `svc-${i}`,
          level: 'info',
          message: '',
          status: r() < 0.97 ? 200 : 500,
          durationMs: Math.round(Math.exp(Math.log(40) + r() * 2)),
        });
      }
    }
    const res = aggregateBatch(events, {
      sourceShard: `shardId-00000000000${s}`,
      firstSequenceNumber: SEQ,
      lastSequenceNumber: SEQ_END,
      nowMs: T0 + 60_000,
      config,
    });
    for (const c of chunkPartials(res.partials)) records.push(c.data);
  }
  return records;
}

function mergeCase(quick: boolean): BenchCase {
  // 6,000 series: the merger's maps are well past any cache, and the full suite fits its ~4 min
  // budget; results are per series·window.
  const series = quick ? 2_000 : 6_000;
  const shards = 4;
  const records = detectInput(series, shards, 11);
  const config = defaultWindowConfig();
  const rounds = quick ? 3 : 4;
  const times: number[] = [];
  const cpuTimes: number[] = [];
  let closed = 0;
  for (let r = 0; r < rounds; r++) {
    const merger = new WindowMerger(config);
    const { wallNs, cpuNs } = timeIt(() => {
      for (const rec of records) {
        const d = decodePartials(rec);
        if (d.kind !== 'ok') throw new Error('decode');
        merger.add(d.value, T0);
      }
      closed = merger.flush(T0).closed.length;
    });
    if (r === 0) continue; // JIT warm-up
    times.push(wallNs / closed);
    cpuTimes.push(cpuNs / closed);
  }
  const nsPerSeriesWindow = Math.round(median(times));
  const cpuNsPerSeriesWindow = Math.round(median(cpuTimes));
  return {
    nsPerOp: nsPerSeriesWindow,
    cpuNsPerSeriesWindow,
    cpuNsPerPartial: Math.round(cpuNsPerSeriesWindow / shards),
    sourceShardsPerSeries: shards,
    seriesWindows: closed,
    cpuMsFor100kSeriesPerWindow: Math.round((cpuNsPerSeriesWindow * 100_000) / 1e6),
    wallMsFor100kSeriesPerWindow: Math.round((nsPerSeriesWindow * 100_000) / 1e6),
    runs: rounds,
  };
}

function gcFn(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function memoryCase(quick: boolean): BenchCase {
  const gc = gcFn();
  const series = quick ? 2_000 : 6_000;
  const records = detectInput(series, 4, 13);
  const decoded = records.map((rec) => {
    const d = decodePartials(rec);
    if (d.kind !== 'ok') throw new Error('decode');
    return d.value;
  });
  const config = defaultWindowConfig();
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  const merger = new WindowMerger(config);
  for (const d of decoded) merger.add(d, T0);
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  const stats = merger.memoryStats();
  const stateBytes = Buffer.byteLength(JSON.stringify(merger.toState()));
  // Keep `decoded` alive until after the measurement, so only the merger's own bytes are counted.
  if (decoded.length === -1) process.stderr.write('');
  return {
    bytesPerOpenSeriesWindow: Math.round((after - before) / stats.openWindows),
    estimatedBytesPerOpenSeriesWindow: Math.round(stats.approxBytes / stats.openWindows),
    checkpointJsonBytesPerSeriesWindow: Math.round(stateBytes / stats.openWindows),
    openSeriesWindows: stats.openWindows,
    sourceShardsPerSeries: 4,
    mbFor100kSeriesOneWindow: Math.round((((after - before) / stats.openWindows) * 100_000) / 2 ** 20),
    peakRssMb: Math.round(process.memoryUsage().rss / 2 ** 20),
  };
}

function sketchCases(quick: boolean): Record<string, BenchCase> {
  const r = rng(5);
  const values = Array.from({ length: 100_000 }, () => {
    const z = Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
    return Math.exp(Math.log(40) + 0.9 * z);
  });
  const rounds = quick ? 3 : 5;
  const perWindow = 200; // a typical series·window
  const out: Record<string, BenchCase> = {};
  const impls = {
    sketchOurs: {
      make: () => new QuantileSketch(0.01),
      accept: (s: QuantileSketch, v: number) => s.accept(v),
      merge: (a: QuantileSketch, b: QuantileSketch) => a.merge(b),
      bytes: (s: QuantileSketch) => s.encode().length,
      roundTrip: (s: QuantileSketch) => QuantileSketch.decode(s.encode()),
    },
    sketchLibrary: {
      make: () => new DDSketch({ relativeAccuracy: 0.01 }),
      accept: (s: DDSketch, v: number) => s.accept(v),
      merge: (a: DDSketch, b: DDSketch) => a.merge(b),
      bytes: (s: DDSketch) => s.toProto().length,
      roundTrip: (s: DDSketch) => DDSketch.fromProto(s.toProto()),
    },
  };
  for (const [name, impl] of Object.entries(impls) as [string, (typeof impls)['sketchOurs']][]) {
    const acceptNs: number[] = [];
    const mergeNs: number[] = [];
    const codecNs: number[] = [];
    let bytes = 0;
    for (let round = 0; round < rounds; round++) {
      const sketches: QuantileSketch[] = [];
      acceptNs.push(
        timeIt(() => {
          for (let i = 0; i < values.length; i += perWindow) {
            const s = impl.make();
            for (let j = i; j < i + perWindow; j++) impl.accept(s, values[j]!);
            sketches.push(s);
          }
        }).cpuNs / values.length,
      );
      codecNs.push(
        timeIt(() => {
          for (const s of sketches) impl.roundTrip(s);
        }).cpuNs / sketches.length,
      );
      mergeNs.push(
        timeIt(() => {
          const total = impl.make();
          for (const s of sketches) impl.merge(total, s);
        }).cpuNs / sketches.length,
      );
      bytes = median(sketches.map((s) => impl.bytes(s)));
      if (round === 0) {
        // JIT warm-up
        acceptNs.pop();
        codecNs.pop();
        mergeNs.pop();
      }
    }
    out[name] = {
      nsPerOp: Math.round(median(acceptNs) * 10) / 10,
      cpuAcceptNs: Math.round(median(acceptNs) * 10) / 10,
      cpuMergeNsPerSketch: Math.round(median(mergeNs)),
      cpuEncodeDecodeNsPerSketch: Math.round(median(codecNs)),
      bytesPerSketch200Values: bytes,
      keepsSumMinMaxThroughEncoding: name === 'sketchOurs',
      runs: rounds,
    };
  }
  return out;
}

/** CPU ns of a trivial loop (log2 + ceil): scales the other numbers to another machine. */
function calibration(): BenchCase {
  let x = 0;
  const m = (1 / Math.log1p(0.0202)) * Math.log(2);
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    runs.push(
      timeIt(() => {
        for (let i = 0; i < 5e6; i++) x += Math.ceil(Math.log2(5 + (i % 400)) * m);
      }).cpuNs / 5e6,
    );
  }
  if (x === -1) process.stderr.write('');
  return {
    nsPerOp: Math.round(median(runs) * 10) / 10,
    what: 'CPU ns per Math.ceil(Math.log2(x) * m) loop iteration',
  };
}

export async function run(opts: { quick: boolean }): Promise<Record<string, BenchCase>> {
  const { quick } = opts;
  const base = defaultWindowConfig();
  const rich = defaultWindowConfig({
    dimensions: ['route', 'status_class'],
    rules: [
      { name: 'upstream_failures', kind: 'count', where: [{ field: 'message', matches: 'upstream' }] },
      { name: 'amount', kind: 'sum', field: 'attributes.amount' },
      { name: 'amount_dist', kind: 'sketch', field: 'attributes.amount' },
    ],
  });
  const hopping = defaultWindowConfig({ windowMs: 60_000, slideMs: 10_000 });
  const peak = () => Math.round(process.memoryUsage().rss / 2 ** 20);
  const cases: Record<string, BenchCase> = {
    calibrationLoop: calibration(),
    stageOne: { ...stageOneCase(base, quick), peakRssMb: peak() },
    stageOneDimsRules: { ...stageOneCase(rich, quick), peakRssMb: peak() },
    stageOneHopping60s10s: { ...stageOneCase(hopping, quick), peakRssMb: peak() },
    ...codecCases(quick),
    mergeSeriesWindow: { ...mergeCase(quick), peakRssMb: peak() },
    memoryOpenSeriesWindow: memoryCase(quick),
    ...sketchCases(quick),
  };
  return cases;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const cases = await run({ quick: process.argv.includes('--quick') });
  process.stdout.write(`${JSON.stringify(cases, null, 2)}\n`);
}
