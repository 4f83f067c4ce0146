/**
 * Sinks benchmark: `npx tsx bench/sinks.bench.ts [--quick]` prints JSON.
 *
 * - sinksPackNdjson vs sinksOneLinePerRecord: NDJSON packing throughput and what Firehose bills
 *   (5 KB steps) against the obvious alternative, one log line per Firehose record.
 * - sinksTimestreamPlan: chunking/CommonAttributes planning of WriteRecords calls (CPU only).
 * - sinksTimestreamLocal / sinksFirehoseLocal: end to end through the real SDK clients against the
 *   local endpoints (HTTP on 127.0.0.1, DuckDB, gzip files).
 * - sinksDuckdbAppender vs sinksDuckdbParamInsert: the store's insert path (DuckDB appender) against
 *   a parameterized multi-row INSERT.
 *
 * Inputs are seeded. Numbers are medians of several runs on a shared, noisy 2-core machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { DuckDbStore, type StoreRow } from '../local/duckdbStore.ts';
import { startFirehoseEndpoint } from '../local/firehoseEndpoint.ts';
import { startTimestreamEndpoint } from '../local/timestreamEndpoint.ts';
import { Names } from '../processors/schema.ts';
import { seededRandom } from '../processors/sinks/backoff.ts';
import { FirehoseArchiver } from '../processors/sinks/firehoseArchiver.ts';
import { firehoseBilledBytes, packNdjson } from '../processors/sinks/packNdjson.ts';
import { createFirehoseClient, createTimestreamWriteClient } from '../processors/sinks/sinkClients.ts';
import type { SeriesWindowRecord } from '../processors/sinks/timeSeriesRecord.ts';
import { planWriteRecords, TimestreamSink } from '../processors/sinks/timestreamSink.ts';

interface BenchCase {
  mbPerSec?: number;
  recordsPerSec?: number;
  eventsPerSec?: number;
  peakRssMb?: number;
  nsPerOp?: number;
  [key: string]: unknown;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

function logLines(n: number, seed: number): Uint8Array[] {
  const rand = seededRandom(seed);
  const routes = ['/pay', '/cart', '/search', '/login', '/health'];
  const out: Uint8Array[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const line = JSON.stringify({
      time: 1_700_000_000_000 + i,
      level: rand() < 0.05 ? 'error' : 'info',
      service: `svc-${Math.floor(rand() * 50)}`,
      route: routes[Math.floor(rand() * routes.length)],
      status: rand() < 0.03 ? 502 : 200,
      durationMs: Math.round(rand() * 500),
      msg: 'request handled'.padEnd(20 + Math.floor(rand() * 200), '.'),
    });
    out[i] = Buffer.from(line);
  }
  return out;
}

function windowRecords(n: number, baseMs: number): SeriesWindowRecord[] {
  const out: SeriesWindowRecord[] = new Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = {
      table: Names.windowsTable,
      dimensions: { service: `svc-${i % 200}`, window_ms: '10000' },
      timeMs: baseMs + Math.floor(i / 200) * 10_000,
      version: 1,
      measures: {
        count: 100 + i,
        errors: i % 7,
        error_rate: (i % 7) / (100 + i),
        latency_p99_ms: 12.5 + (i % 13),
      },
    };
  }
  return out;
}

async function timeRuns(runs: number, fn: () => Promise<void> | void): Promise<number> {
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** Runs the sinks benchmarks. */
export async function run(opts: { quick: boolean }): Promise<Record<string, BenchCase>> {
  const result: Record<string, BenchCase> = {};
  const runs = opts.quick ? 3 : 5;
  // Cases against local endpoints (HTTP, DuckDB, disk) are the slow ones: fewer, smaller runs, so the
  // full suite fits ~4 min on the shared 2-core machine.
  const ioRuns = 3;

  // --- NDJSON packing vs one line per record -------------------------------------------------
  const lines = logLines(opts.quick ? 20_000 : 100_000, 1);
  const inputBytes = lines.reduce((n, l) => n + l.length + 1, 0);
  let packed = packNdjson(lines);
  const packMs = await timeRuns(runs, () => {
    packed = packNdjson(lines);
  });
  const onePerRecordBilled = lines.reduce((n, l) => n + firehoseBilledBytes(l.length + 1), 0);
  result.sinksPackNdjson = {
    mbPerSec: round(inputBytes / 1e6 / (packMs / 1000)),
    eventsPerSec: Math.round(lines.length / (packMs / 1000)),
    lines: lines.length,
    inputMb: round(inputBytes / 1e6, 2),
    firehoseRecords: packed.records,
    putRecordBatchCalls: packed.batches.length,
    billedMb: round(packed.billedBytes / 1e6, 2),
    runs,
  };
  result.sinksOneLinePerRecord = {
    firehoseRecords: lines.length,
    putRecordBatchCalls: Math.ceil(lines.length / 500),
    billedMb: round(onePerRecordBilled / 1e6, 2),
    billedOverPacked: round(onePerRecordBilled / packed.billedBytes, 1),
  };

  // --- Timestream planning (CPU) -------------------------------------------------------------
  const planInput = windowRecords(opts.quick ? 5_000 : 20_000, 1_700_000_000_000);
  const planMs = await timeRuns(runs, () => {
    planWriteRecords(planInput, { databaseName: 'tidewatch' });
  });
  result.sinksTimestreamPlan = {
    recordsPerSec: Math.round(planInput.length / (planMs / 1000)),
    nsPerOp: Math.round((planMs * 1e6) / planInput.length),
    records: planInput.length,
  };

  const dir = mkdtempSync(join(tmpdir(), 'tw-bench-sinks-'));
  try {
    // --- Timestream end to end against the local endpoint ------------------------------------
    const ts = await startTimestreamEndpoint({ dataDir: dir });
    const sink = new TimestreamSink({ client: createTimestreamWriteClient({ endpoint: ts.url }) });
    const n = opts.quick ? 2_000 : 3_000;
    const times: number[] = [];
    for (let r = 0; r < ioRuns; r++) {
      const now = Date.now();
      // Fresh keys per run (a later window range) so every run inserts.
      const recs = windowRecords(n, now - (now % 10_000) - 3_600_000 + r * 600_000);
      const t0 = performance.now();
      const res = await sink.write(recs, { budgetMs: 120_000 });
      times.push(performance.now() - t0);
      if (res.stats.written !== n) throw new Error(`timestream bench wrote ${res.stats.written}/${n}`);
    }
    await ts.close();
    const tsMs = median(times);
    result.sinksTimestreamLocal = {
      recordsPerSec: Math.round(n / (tsMs / 1000)),
      records: n,
      recordsPerCall: 100,
      note: 'SDK → HTTP → local endpoint → DuckDB upsert (appender), concurrency 4',
    };

    // --- Firehose end to end against the local endpoint --------------------------------------
    const fh = await startFirehoseEndpoint({ dataDir: join(dir, 'archive') });
    const archiver = new FirehoseArchiver({ client: createFirehoseClient({ endpoint: fh.url }) });
    const fhLines = lines.slice(0, opts.quick ? 20_000 : 30_000);
    const fhBytes = fhLines.reduce((acc, l) => acc + l.length + 1, 0);
    const fhMs = await timeRuns(ioRuns, async () => {
      const res = await archiver.archive(fhLines, { budgetMs: 120_000 });
      if (res.stats.delivered !== fhLines.length) throw new Error('firehose bench lost lines');
    });
    const flushT0 = performance.now();
    await fh.flush();
    const flushMs = performance.now() - flushT0;
    await fh.close();
    result.sinksFirehoseLocal = {
      mbPerSec: round(fhBytes / 1e6 / (fhMs / 1000)),
      eventsPerSec: Math.round(fhLines.length / (fhMs / 1000)),
      mb: round(fhBytes / 1e6, 2),
      gzipFlushMsForAllRuns: Math.round(flushMs),
    };

    // --- DuckDB: appender (store) vs parameterized INSERT -------------------------------------
    const store = await DuckDbStore.open({ path: join(dir, 'bench.duckdb') });
    const batches = opts.quick ? 10 : 20;
    const storeRows = (b: number): StoreRow[] =>
      Array.from({ length: 100 }, (_, i) => ({
        timeMs: 1_700_000_000_000 + b * 10_000,
        dimensions: { service: `svc-${i}`, window_ms: '10000' },
        measureName: 'window',
        measures: { count: i, errors: 1, error_rate: 0.01, latency_p99_ms: 3.5 },
        version: 1,
      }));
    const t0 = performance.now();
    for (let b = 0; b < batches; b++) await store.upsert('tidewatch', 'windows', storeRows(b));
    const appenderMs = performance.now() - t0;
    const cols = (await store.describe('tidewatch', 'windows')).length;
    await store.close();
    result.sinksDuckdbAppender = {
      recordsPerSec: Math.round((batches * 100) / (appenderMs / 1000)),
      msPer100: round(appenderMs / batches),
      columns: cols,
    };

    const inst = await DuckDBInstance.create(':memory:');
    const con = await inst.connect();
    await con.run(`ATTACH '${join(dir, 'param.duckdb')}' AS p`);
    await con.run('USE p');
    const colDefs = Array.from({ length: cols - 1 }, (_, k) => `c${k} DOUBLE`).join(', ');
    await con.run(`CREATE TABLE t ("time" TIMESTAMP, ${colDefs})`);
    const paramBatches = opts.quick ? 3 : 5;
    const p0 = performance.now();
    for (let b = 0; b < paramBatches; b++) {
      const params: number[] = [];
      const tuples: string[] = [];
      for (let r = 0; r < 100; r++) {
        const ph = [`epoch_ms($${params.length + 1}::BIGINT)`];
        params.push(1_700_000_000_000 + b);
        for (let k = 0; k < cols - 1; k++) {
          params.push(k);
          ph.push(`$${params.length}::DOUBLE`);
        }
        tuples.push(`(${ph.join(', ')})`);
      }
      await con.run(`INSERT INTO t VALUES ${tuples.join(', ')}`, params);
    }
    const paramMs = performance.now() - p0;
    con.closeSync();
    inst.closeSync();
    result.sinksDuckdbParamInsert = {
      recordsPerSec: Math.round((paramBatches * 100) / (paramMs / 1000)),
      msPer100: round(paramMs / paramBatches),
      appenderSpeedup: round(paramMs / paramBatches / (appenderMs / batches), 1),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  result.sinksPackNdjson.peakRssMb = Math.round(process.memoryUsage().rss / 2 ** 20);
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const cases = await run({ quick: process.argv.includes('--quick') });
  process.stdout.write(`${JSON.stringify(cases, null, 2)}\n`);
}
