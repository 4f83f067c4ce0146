/**
 * `tidewatch export`: windows written with the real DuckDB store and log lines archived through the
 * real Firehose archiver into the real local Firehose endpoint come back, read with apache-arrow from
 * the Arrow IPC file, exactly as stored; a store held by another process gives the actionable error.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseTimeArg, run } from '../../cli/export.ts';
import { demoServices } from '../../local/demo/fleetPlan.ts';
import { renderLine } from '../../local/demo/render.ts';
import { DemoTraffic } from '../../local/demo/traffic.ts';
import { DuckDbStore } from '../../local/duckdbStore.ts';
import { startFirehoseEndpoint } from '../../local/firehoseEndpoint.ts';
import { Names } from '../../processors/schema.ts';
import { FirehoseArchiver } from '../../processors/sinks/firehoseArchiver.ts';
import { createFirehoseClient } from '../../processors/sinks/sinkClients.ts';
import type { SeriesWindowRecord } from '../../processors/sinks/timeSeriesRecord.ts';

const T0 = Date.UTC(2026, 0, 15, 10, 0, 0);
const WINDOW_MS = 10_000;
let dataDir: string;
let outDir: string;

function windowRecord(service: string, i: number, version = 1, count = 100 + i): SeriesWindowRecord {
  return {
    table: Names.windowsTable,
    dimensions: { service, window_ms: String(WINDOW_MS) },
    timeMs: T0 + i * WINDOW_MS,
    version,
    measures: {
      count,
      errors: i % 3,
      error_rate: (i % 3) / count,
      event_rate_per_s: count / 10,
      latency_p50_ms: 20 + i,
      latency_p99_ms: 200 + i,
      anomaly_score: i === 5 ? 0.91 : 0.1,
    },
  };
}

/** Archived lines (pino, logfmt, plain text) of the demo's generator, 2 minutes from T0. */
const services = demoServices(6).filter(
  (s) => s.name === 'checkout' || s.name === 'search' || s.name === 'inventory',
);
const traffic = new DemoTraffic({
  seed: 4,
  runTag: 'exp',
  services,
  incidents: [],
  eventsPerSecond: 20,
  startMs: T0,
  dayMs: 120_000,
  dayAmplitude: 0,
});
const events = traffic.generate(T0, T0 + 120_000);
const lines = events.map((e) => renderLine(services.find((s) => s.name === e.service)!.format, e));

async function captureOutput(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    stdout += String(s);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    stderr += String(s);
    return true;
  });
  try {
    const code = await run(argv);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

const readArrow = (path: string) => tableFromIPC(readFileSync(path));

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tw-export-'));
  outDir = mkdtempSync(join(tmpdir(), 'tw-export-out-'));
  // Stored windows: 12 windows of two services, window 3 of checkout corrected (version 2).
  const store = await DuckDbStore.open({ path: join(dataDir, 'tidewatch.duckdb') });
  const records: SeriesWindowRecord[] = [];
  for (let i = 0; i < 12; i++) records.push(windowRecord('checkout', i), windowRecord('search', i));
  await store.write(records);
  await store.write([windowRecord('checkout', 3, 2, 999)]);
  await store.close();
  // Archive: the real archiver into the real endpoint, delivered on close.
  const fh = await startFirehoseEndpoint({ dataDir: join(dataDir, 'archive'), now: () => T0 + 130_000 });
  const client = createFirehoseClient({ endpoint: fh.url });
  const archiver = new FirehoseArchiver({ client });
  const result = await archiver.archive(lines);
  expect(result.outcomes.every((o) => o.kind === 'ok')).toBe(true);
  client.destroy();
  await fh.close();
}, 120_000);

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(outDir, { recursive: true, force: true });
});

describe('tidewatch export (stored windows)', () => {
  it('writes the windows in range as an Arrow IPC file, corrections applied', async () => {
    // Prepare
    const out = join(outDir, 'windows.arrow');
    // Act
    const { code, stdout } = await captureOutput([
      '--from',
      new Date(T0 + 2 * WINDOW_MS).toISOString(),
      '--to',
      new Date(T0 + 8 * WINDOW_MS).toISOString(),
      '--out',
      out,
      '--data-dir',
      dataDir,
    ]);
    // Assess
    expect(code).toBe(0);
    expect(stdout).toMatch(/wrote 12 windows rows/);
    const table = readArrow(out);
    expect(table.numRows).toBe(12);
    const names = table.schema.fields.map((f) => f.name);
    expect(names.slice(0, 3)).toEqual(['time', 'service', 'route']);
    expect(names).toEqual(
      expect.arrayContaining(['measure_name', 'count', 'latency_p99_ms', 'anomaly_score', 'version']),
    );
    expect(String(table.schema.fields[0]!.type)).toBe('Timestamp<MILLISECOND, UTC>');
    const rows = table.toArray().map((r) => r.toJSON());
    expect(rows[0]).toMatchObject({
      time: T0 + 2 * WINDOW_MS,
      service: 'checkout',
      count: 102n,
      version: 1n,
    });
    const corrected = rows.find((r) => r.service === 'checkout' && r.time === T0 + 3 * WINDOW_MS)!;
    expect(corrected).toMatchObject({ count: 999n, version: 2n, measure_name: 'window', window_ms: '10000' });
    expect(rows.find((r) => r.service === 'search' && r.time === T0 + 5 * WINDOW_MS)).toMatchObject({
      anomaly_score: 0.91,
      latency_p50_ms: 25,
      route: null,
    });
    expect(rows.map((r) => r.time)).toEqual([...rows.map((r) => r.time)].sort((a, b) => a - b));
  });

  it('filters by service, and writes an empty file with the schema when nothing matches', async () => {
    // Prepare
    const one = join(outDir, 'search.arrow');
    const none = join(outDir, 'none.arrow');
    // Act
    const a = await captureOutput([
      '--from',
      String(T0),
      '--to',
      String(T0 + 3_600_000),
      '--service',
      'search',
      '--out',
      one,
      '--data-dir',
      dataDir,
    ]);
    const b = await captureOutput([
      '--from',
      String(T0 - 3_600_000),
      '--to',
      String(T0),
      '--out',
      none,
      '--data-dir',
      dataDir,
    ]);
    // Assess
    expect(a.code).toBe(0);
    const t = readArrow(one);
    expect(t.numRows).toBe(12);
    expect(new Set(t.getChild('service')!.toArray())).toEqual(new Set(['search']));
    expect(b.code).toBe(0);
    expect(b.stderr).toMatch(/nothing in/);
    const empty = readArrow(none);
    expect(empty.numRows).toBe(0);
    expect(empty.schema.fields.map((f) => f.name)).toEqual(t.schema.fields.map((f) => f.name));
  });

  it('says to stop tidewatch start when another process holds the store', async () => {
    // Prepare: a child process opens the store read-write, as `tidewatch start` does.
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { DuckDbStore } from ${JSON.stringify(join(process.cwd(), 'local/duckdbStore.ts'))};
         await DuckDbStore.open({ path: ${JSON.stringify(join(dataDir, 'tidewatch.duckdb'))} });
         process.stdout.write('ready\\n');
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          if (d.toString().includes('ready')) resolve();
        });
        child.on('exit', (code) => reject(new Error(`holder exited with ${code}`)));
      });
      // Act
      const { code, stderr } = await captureOutput([
        '--from',
        '1d',
        '--out',
        join(outDir, 'locked.arrow'),
        '--data-dir',
        dataDir,
      ]);
      // Assess
      expect(code).toBe(1);
      expect(stderr).toMatch(/in use by another process \(PID \d+\)/);
      expect(stderr).toMatch(/Stop tidewatch start first/);
      expect(stderr).toMatch(/--raw/);
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);

  it('rejects bad usage with exit code 2 and says what to write', async () => {
    const noFrom = await captureOutput(['--out', 'x.arrow']);
    const badFrom = await captureOutput(['--from', 'yesterday', '--out', 'x.arrow']);
    const reversed = await captureOutput(['--from', '1h', '--to', '2h', '--out', 'x.arrow']);
    const noStore = await captureOutput([
      '--from=-1h',
      '--out',
      join(outDir, 'x.arrow'),
      '--data-dir',
      join(outDir, 'nope'),
    ]);
    expect(noFrom.code).toBe(2);
    expect(noFrom.stderr).toMatch(/--from is required/);
    expect(badFrom.code).toBe(2);
    expect(badFrom.stderr).toMatch(/ISO 8601, epoch ms, or a duration ago like 15m/);
    expect(reversed.code).toBe(2);
    expect(noStore.code).toBe(1);
    expect(noStore.stderr).toMatch(/no DuckDB store at .*run 'tidewatch start' first/);
  });
});

describe('tidewatch export --raw (archived events)', () => {
  it('re-parses archived lines of every format into typed columns, in event-time order', async () => {
    // Prepare
    const out = join(outDir, 'raw.arrow');
    const from = T0 + 30_000;
    const to = T0 + 90_000;
    const expected = events.filter((e) => e.timeMs >= from && e.timeMs < to);
    // Act
    const { code, stdout } = await captureOutput([
      '--raw',
      '--from',
      String(from),
      '--to',
      String(to),
      '--out',
      out,
      '--data-dir',
      dataDir,
    ]);
    // Assess
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`wrote ${expected.length} archived events`));
    const table = readArrow(out);
    expect(table.schema.fields.map((f) => f.name)).toEqual([
      'time',
      'service',
      'level',
      'message',
      'status',
      'duration_ms',
      'route',
      'trace_id',
      'raw',
      'archive_file',
    ]);
    const rows = table.toArray().map((r) => r.toJSON());
    expect(rows).toHaveLength(expected.length);
    const byId = new Map(expected.map((e) => [e.id, e]));
    for (const r of rows) {
      const id = /dm_exp_[0-9a-z]+/.exec(r.raw as string)![0];
      const e = byId.get(id)!;
      expect(r.time).toBe(e.timeMs);
      expect(r.level).toBe(e.level);
      expect(r.archive_file).toMatch(/^logs\/2026\/01\/15\/10\/tidewatch-archive-.*\.gz$/);
      if (e.service === 'inventory') {
        // Plain text over CloudWatch named its service through the log group, which the archive does not keep.
        expect(r.service).toBe('unknown');
        expect(r.status).toBeNull();
      } else {
        expect(r).toMatchObject({
          service: e.service,
          status: e.status,
          route: e.route,
          trace_id: e.traceId,
        });
        expect(r.duration_ms).toBeCloseTo(e.durationMs, 6);
      }
    }
    const times = rows.map((r) => r.time as number);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('filters archived events by service', async () => {
    const out = join(outDir, 'raw-checkout.arrow');
    const { code } = await captureOutput([
      '--raw',
      '--from',
      String(T0),
      '--to',
      String(T0 + 120_000),
      '--service',
      'checkout',
      '--out',
      out,
      '--data-dir',
      dataDir,
    ]);
    expect(code).toBe(0);
    const t = readArrow(out);
    expect(t.numRows).toBe(events.filter((e) => e.service === 'checkout').length);
    expect(new Set(t.getChild('service')!.toArray())).toEqual(new Set(['checkout']));
  });
});

describe('parseTimeArg', () => {
  it('reads ISO 8601 (zone-less as UTC), epoch ms, now and relative times', () => {
    const now = Date.UTC(2026, 0, 15, 12, 0, 0);
    expect(parseTimeArg('2026-01-15T10:00:00Z', now)).toBe(Date.UTC(2026, 0, 15, 10));
    expect(parseTimeArg('2026-01-15T10:00:00', now)).toBe(Date.UTC(2026, 0, 15, 10));
    expect(parseTimeArg('2026-01-15 10:00', now)).toBe(Date.UTC(2026, 0, 15, 10));
    expect(parseTimeArg('2026-01-15', now)).toBe(Date.UTC(2026, 0, 15));
    expect(parseTimeArg('2026-01-15T10:00:00+02:00', now)).toBe(Date.UTC(2026, 0, 15, 8));
    expect(parseTimeArg('1768471200000', now)).toBe(1_768_471_200_000);
    expect(parseTimeArg('now', now)).toBe(now);
    expect(parseTimeArg('-15m', now)).toBe(now - 900_000);
    expect(parseTimeArg('-2h', now)).toBe(now - 7_200_000);
    expect(parseTimeArg('2h', now)).toBe(now - 7_200_000);
    expect(parseTimeArg('-1d', now)).toBe(now - 86_400_000);
    expect(parseTimeArg('yesterday', now)).toBeUndefined();
    expect(parseTimeArg('2026-13-45', now)).toBeUndefined();
  });
});
