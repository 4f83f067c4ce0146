/**
 * `npm run readme:performance`: renders the README's performance section from one benchmark run
 * (`bench/results/latest.json`, written by `npm run bench -- --json bench/results/latest.json`) and
 * writes it between the `<!-- performance:start -->` / `<!-- performance:end -->` markers, so every
 * number the front door shows comes from the same run. `test/unit/readmePerformance.test.ts` fails
 * when the README and the checked-in result disagree.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

type Case = Record<string, unknown>;
export interface BenchResult {
  startedAt?: string;
  durationSeconds?: number;
  machine?: {
    cpu?: string;
    cores?: number;
    memoryGb?: number;
    node?: string;
    loadAverage?: unknown;
    loadAverageAtEnd?: unknown;
  };
  cases: Record<string, Case>;
}

export const START_MARKER = '<!-- performance:start -->';
export const END_MARKER = '<!-- performance:end -->';

const fmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const fmt2 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

function num(result: BenchResult, name: string, key: string): number | undefined {
  const v = result.cases[name]?.[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** A number, or "—" when the run did not produce it (a case that failed is shown, not hidden). */
function show(v: number | undefined, digits: 1 | 2 = 1, suffix = ''): string {
  if (v === undefined) return '—';
  return `${(digits === 2 ? fmt2 : fmt).format(v)}${suffix}`;
}

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

function status(measured: number | undefined, target: number, atMost = false): string {
  if (measured === undefined) return 'not measured';
  const met = atMost ? measured <= target : measured >= target;
  return met ? 'met' : '**missed**';
}

/** The section's Markdown (without markers) for one run. */
export function renderPerformance(result: BenchResult): string {
  const m = result.machine ?? {};
  const load =
    Array.isArray(m.loadAverage) && Array.isArray(m.loadAverageAtEnd)
      ? ` load average (1 / 5 / 15 min) ${m.loadAverage.join(' / ')} at the start and ${m.loadAverageAtEnd.join(' / ')} at the end,`
      : '';
  const took =
    result.durationSeconds === undefined
      ? ''
      : ` The whole suite took ${Math.round(result.durationSeconds)} s.`;
  const lines: string[] = [];
  lines.push(
    `Run of ${result.startedAt?.slice(0, 10) ?? 'unknown date'} on ${m.cores ?? '?'} vCPU (${m.cpu ?? '?'}), ` +
      `${m.memoryGb ?? '?'} GB, Node ${m.node ?? '?'};${load} shared with other work. ` +
      'CPU-time rates (user + system of the process) are the steadier figures on a shared machine; ' +
      `targets are ratios within this run.${took}`,
    '',
    '| ingest, one Lambda batch of 1 KB JSON lines (5 MB of base64) | MB/s wall | MB/s CPU | lines/s CPU | peak RSS MB |',
    '|---|---:|---:|---:|---:|',
  );
  const rows: [string, string][] = [
    ['floor', '`floor`: base64 + `JSON.parse` per user record (KPL)'],
    ['floor_verified', '`floor_verified`: `floor` + the KPL MD5'],
    ['baseline', '`baseline`: `aws-kinesis-agg` + `JSON.parse` + per-service windows in a `Map`'],
    ['ingest', '**`ingest`**: our whole ingest handler, KPL (decode, parse, windows, partials, archive)'],
    ['floor_ndjson', '`floor_ndjson`: the same lines as NDJSON records'],
    ['ingest_ndjson', '**`ingest_ndjson`**'],
    ['floor_cloudwatch', '`floor_cloudwatch`: the same lines in CloudWatch Logs envelopes (gzip)'],
    ['ingest_cloudwatch', '**`ingest_cloudwatch`**'],
  ];
  for (const [name, label] of rows) {
    lines.push(
      `| ${label} | ${show(num(result, name, 'mbPerSec'))} | ${show(num(result, name, 'cpuMbPerSec'))} | ` +
        `${show(num(result, name, 'cpuRecordsPerSec'))} | ${show(num(result, name, 'peakRssMb'))} |`,
    );
  }

  const cpuIngest = num(result, 'ingest', 'cpuMbPerSec');
  const overFloor = ratio(cpuIngest, num(result, 'floor', 'cpuMbPerSec'));
  const overBaseline = ratio(cpuIngest, num(result, 'baseline', 'cpuMbPerSec'));
  const wallOverFloor = ratio(num(result, 'ingest', 'mbPerSec'), num(result, 'floor', 'mbPerSec'));
  const wallOverBaseline = ratio(num(result, 'ingest', 'mbPerSec'), num(result, 'baseline', 'mbPerSec'));
  const detectCpuUs = num(result, 'detect', 'cpuUsPerSeriesWindow');
  // 100,000 series per 10 s window on one vCPU leave 100 µs of CPU per series·window.
  const detectBudgetUs = 100;
  lines.push(
    '',
    '| target | measured (CPU) | measured (wall) | |',
    '|---|---:|---:|---|',
    `| \`ingest\` ≥ 0.5 × \`floor\` | ${show(overFloor, 2)} | ${show(wallOverFloor, 2)} | ${status(overFloor, 0.5)} |`,
    `| \`ingest\` ≥ 2 × \`baseline\` | ${show(overBaseline, 2)} | ${show(wallOverBaseline, 2)} | ${status(overBaseline, 2)} |`,
    `| detect ≤ ${detectBudgetUs} µs per series·window (100,000 series per 10 s window) | ` +
      `${show(detectCpuUs, 1, ' µs')} | ${show(num(result, 'detect', 'usPerSeriesWindow'), 1, ' µs')} | ` +
      `${status(detectCpuUs, detectBudgetUs, true)} |`,
  );

  lines.push(
    '',
    '| other measures from the same run | |',
    '|---|---|',
    `| decoding alone (\`decode\`, MD5 verified) vs \`aws-kinesis-agg\` \`deaggregateSync\` + base64 + \`JSON.parse\` | ` +
      `${show(num(result, 'decode', 'cpuRecordsPerSec'))} vs ${show(num(result, 'aggBaseline', 'cpuRecordsPerSec'))} lines/s CPU |`,
    `| stage one (windows + partials), 10,000-event batches, 60 services | ${show(num(result, 'stageOne', 'cpuEventsPerSec'))} events/s CPU; ` +
      `${show(num(result, 'stageOne', 'wireBytesPerSeries'))} B of metrics record per series per batch |`,
    `| memory per open series·window (4 source shards) | ${show(num(result, 'memoryOpenSeriesWindow', 'bytesPerOpenSeriesWindow'))} B of heap |`,
    `| detect, series per 10 s window on one vCPU at the measured rate | ${show(num(result, 'detect', 'seriesPer10sWindow'))} |`,
    `| default detector, CPU per point; state per series | ${show(num(result, 'detector_default', 'cpuNsPerOp'))} ns; ` +
      `${show(num(result, 'detector_default', 'stateBytesPerSeries'))} B |`,
    `| SDK \`send(object)\` vs pino to /dev/null, CPU per event | ${show(num(result, 'sdkSend', 'nsPerOp'))} ns vs ` +
      `${show(num(result, 'pinoDevNull', 'nsPerOp'))} ns |`,
    `| SDK into kinesalite (4 shards, 50,000 events, \`close()\` included) | ${show(num(result, 'sdkKinesalite', 'eventsPerSec'))} events/s |`,
    `| Firehose packing: billed bytes of one line per record ÷ ours | ${show(num(result, 'sinksOneLinePerRecord', 'billedOverPacked'))}× |`,
    `| end to end, \`tidewatch start --demo\` (${show(num(result, 'e2e', 'seconds'))} s, 1 s windows): event → metric stored p50 / p99 | ` +
      `${show(num(result, 'e2e', 'eventToMetricP50Ms'))} / ${show(num(result, 'e2e', 'eventToMetricP99Ms'))} ms |`,
    `| end to end: incident window → alert accepted by SNS p50 / p99; incidents detected | ` +
      `${show(num(result, 'e2e', 'eventToAlertP50Ms'))} / ${show(num(result, 'e2e', 'eventToAlertP99Ms'))} ms; ` +
      `${show(num(result, 'e2e', 'incidentsDetected'))} of ${show(num(result, 'e2e', 'incidents'))} |`,
  );
  return lines.join('\n');
}

/** `readme` with its performance section replaced; throws when the markers are missing. */
export function withPerformance(readme: string, result: BenchResult): string {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (start < 0 || end < start) {
    throw new Error(`README.md has no ${START_MARKER} … ${END_MARKER} section to fill`);
  }
  return `${readme.slice(0, start + START_MARKER.length)}\n${renderPerformance(result)}\n${readme.slice(end)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const readmePath = fileURLToPath(new URL('../README.md', import.meta.url));
  const benchPath = fileURLToPath(new URL('../bench/results/latest.json', import.meta.url));
  const result = JSON.parse(readFileSync(benchPath, 'utf8')) as BenchResult;
  writeFileSync(readmePath, withPerformance(readFileSync(readmePath, 'utf8'), result));
  process.stdout.write('README.md performance section written from bench/results/latest.json\n');
}
