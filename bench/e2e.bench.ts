/**
 * End-to-end latency of the embedded mode: runs `tidewatch start --demo` (kinesalite, dynalite, the
 * local Timestream/Firehose/SNS endpoints, both handlers behind local event-source runners) for a
 * bounded time on free ports and reports the run summary's latencies:
 * - `eventToMetric`: event time of a log line → its window stored (p50/p99 over windows);
 * - `eventToAlert`: start of an injected incident's anomalous window → alert accepted by SNS.
 * Both include the demo's 1 s windows and 2 s allowed lateness, which a window must wait out before it
 * closes; on the shared, busy bench machine they also include waiting for a core.
 *
 * `npx tsx bench/e2e.bench.ts [--quick]` prints the case as JSON.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { RunSummary } from '../local/summary.ts';

export interface BenchCase {
  mbPerSec?: number;
  recordsPerSec?: number;
  eventsPerSec?: number;
  peakRssMb?: number;
  nsPerOp?: number;
  [k: string]: unknown;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Runs the embedded pipeline for 12 s (quick) or 60 s (the demo needs ~40 one-second windows of detector warm-up before its first incident) and returns one case, `e2e`.
 *
 * @example
 * const { e2e } = await run({ quick: true });
 * console.log(e2e?.eventToMetricP99Ms);
 */
export async function run(opts: { quick: boolean }): Promise<Record<string, BenchCase>> {
  const seconds = opts.quick ? 12 : 60;
  const dir = await mkdtemp(join(tmpdir(), 'tidewatch-e2e-'));
  const summaryFile = join(dir, 'summary.json');
  const args = [
    join(root, 'cli', 'bin.js'),
    'start',
    '--demo',
    '--seconds',
    String(seconds),
    '--summary',
    summaryFile,
    '--data-dir',
    join(dir, 'data'),
    '--no-dashboard',
    '--ports',
    '0',
    '--seed',
    '42',
  ];
  const started = Date.now();
  try {
    await new Promise<void>((resolve, reject) => {
      // Bounded: the run stops by itself after `seconds`; the timeout covers start-up and draining.
      execFile(
        process.execPath,
        args,
        { cwd: root, timeout: (seconds + 120) * 1000, maxBuffer: 64 * 1024 * 1024, killSignal: 'SIGKILL' },
        (err, _stdout, stderr) => {
          if (err) reject(new Error(`tidewatch start failed: ${err.message}\n${stderr.slice(-2000)}`));
          else resolve();
        },
      );
    });
    const s = JSON.parse(await readFile(summaryFile, 'utf8')) as RunSummary;
    const m = s.latencyMs.eventToMetric;
    const a = s.latencyMs.eventToAlert;
    const detected = s.incidents.filter((i) => i.detectedAt !== null).length;
    return {
      e2e: {
        eventToMetricP50Ms: m.p50,
        eventToMetricP99Ms: m.p99,
        eventToAlertP50Ms: a.p50,
        eventToAlertP99Ms: a.p99,
        eventsIngested: s.events.ingested,
        eventsPerSec: Math.round(s.events.ingested / seconds),
        windowsWritten: s.windows.written,
        incidents: s.incidents.length,
        incidentsDetected: detected,
        alerts: s.alerts.length,
        seconds,
        wallSeconds: Math.round((Date.now() - started) / 100) / 10,
        command: `tidewatch start --demo --seconds ${seconds} --seed 42 --ports 0 --no-dashboard`,
      },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const cases = await run({ quick: process.argv.includes('--quick') });
  process.stdout.write(`${JSON.stringify(cases, null, 2)}\n`);
}
