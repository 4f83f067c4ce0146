/**
 * `tidewatch cost --gb-per-day N --services S [--window-ms W] [--kinesis on-demand|provisioned]
 *   [--bench FILE] [--price key=value ...] [--json]`
 *
 * Prints the monthly AWS cost by component. Lambda compute comes from the `ingest` and `detect`
 * cases of a benchmark result (`npm run bench -- --json FILE`; default `bench/results/latest.json`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type CostInputs,
  DefaultPrices,
  defaultCostInputs,
  estimateMonthlyCost,
  type PriceKey,
} from './costModel.ts';

const DEFAULT_BENCH_FILE = 'bench/results/latest.json';
/** The checked-in result, found from this file (not the working directory) so the answer never depends on cwd. */
const DEFAULT_BENCH_PATH = fileURLToPath(new URL(`../${DEFAULT_BENCH_FILE}`, import.meta.url));

const HELP = `usage: tidewatch cost --gb-per-day N --services S [options]

options:
  --gb-per-day N        raw log volume per day in GB (required)
  --services S          number of services (series) (required)
  --window-ms W         window size in ms (default 10000)
  --line-bytes B        average log line size in bytes (default 1024)
  --kinesis MODE        on-demand | provisioned (default on-demand)
  --retention-days D    days raw logs stay in S3 (default 30)
  --bench FILE          benchmark JSON for Lambda throughput (default ${DEFAULT_BENCH_FILE})
  --price key=value     override a price (repeatable); keys: ${Object.keys(DefaultPrices).join(', ')}
  --json                print JSON instead of a table`;

/** Runs the command; resolves to the exit code. */
export async function run(argv: string[]): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (error) {
    process.stderr.write(`tidewatch cost: ${(error as Error).message}\n\n${HELP}\n`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const outcome = buildInputs(values);
  if (typeof outcome === 'string') {
    process.stderr.write(`tidewatch cost: ${outcome}\n\n${HELP}\n`);
    return 2;
  }
  const { inputs, throughputSource } = outcome;
  const lines = estimateMonthlyCost(inputs);
  const total = lines.reduce((sum, l) => sum + l.monthlyUsd, 0);
  if (values.json === true) {
    process.stdout.write(
      `${JSON.stringify({ inputs, throughputSource, lines, totalMonthlyUsd: total }, null, 2)}\n`,
    );
    return 0;
  }
  const width = Math.max(...lines.map((l) => l.component.length));
  const out = [
    `Monthly cost for ${inputs.gbPerDay} GB/day, ${inputs.services} services, ${inputs.windowMs} ms windows`,
    `(Lambda throughput ${inputs.ingestMbPerSecPerVcpu} MB/s per vCPU from ${throughputSource})`,
    '',
    ...lines.map((l) => `${l.component.padEnd(width)}  ${usd(l.monthlyUsd).padStart(12)}  ${l.basis}`),
    `${'total'.padEnd(width)}  ${usd(total).padStart(12)}`,
    '',
    'Prices assumed (USD, us-east-1 list prices; override with --price key=value):',
    ...Object.entries(inputs.prices).map(([k, v]) => `  ${k}=${v}`),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    options: {
      'gb-per-day': { type: 'string' },
      services: { type: 'string' },
      'window-ms': { type: 'string' },
      'line-bytes': { type: 'string' },
      kinesis: { type: 'string' },
      'retention-days': { type: 'string' },
      bench: { type: 'string' },
      price: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

type Values = ReturnType<typeof parse>['values'];

function positive(name: string, raw: string | undefined, fallback?: number): number | string {
  if (raw === undefined) return fallback ?? `--${name} is required (a positive number)`;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) return `--${name} must be a positive number, got '${raw}'`;
  return n;
}

function buildInputs(values: Values): { inputs: CostInputs; throughputSource: string } | string {
  const base = defaultCostInputs();
  const gbPerDay = positive('gb-per-day', values['gb-per-day']);
  const services = positive('services', values.services);
  const windowMs = positive('window-ms', values['window-ms'], base.windowMs);
  const lineBytes = positive('line-bytes', values['line-bytes'], base.avgLineBytes);
  const retention = positive('retention-days', values['retention-days'], base.archiveRetentionDays);
  for (const v of [gbPerDay, services, windowMs, lineBytes, retention]) if (typeof v === 'string') return v;
  const mode = values.kinesis ?? base.kinesisMode;
  if (mode !== 'on-demand' && mode !== 'provisioned') {
    return `--kinesis must be 'on-demand' or 'provisioned', got '${mode}'`;
  }
  const prices = { ...base.prices };
  for (const pair of values.price ?? []) {
    const [key, value] = pair.split('=');
    if (key === undefined || !(key in prices))
      return `unknown price '${key}' in --price ${pair}; see the list of keys below`;
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n) || n < 0)
      return `--price ${pair}: the value must be a number ≥ 0`;
    prices[key as PriceKey] = n;
  }
  const benchFile = values.bench ?? DEFAULT_BENCH_PATH;
  let ingestMbPerSec = base.ingestMbPerSecPerVcpu;
  let detectUs = base.detectUsPerSeriesWindow;
  let throughputSource = `the built-in default (no benchmark file at ${benchFile}; run 'npm run bench -- --json ${DEFAULT_BENCH_FILE}')`;
  if (existsSync(benchFile)) {
    try {
      const cases = JSON.parse(readFileSync(benchFile, 'utf8')).cases ?? {};
      if (typeof cases.ingest?.mbPerSec === 'number') ingestMbPerSec = round(cases.ingest.mbPerSec);
      if (typeof cases.detect?.usPerSeriesWindow === 'number') detectUs = cases.detect.usPerSeriesWindow;
      throughputSource = benchFile;
    } catch (error) {
      return `could not read benchmark file ${benchFile}: ${(error as Error).message}; rerun 'npm run bench -- --json ${benchFile}'`;
    }
  } else if (values.bench !== undefined) {
    return `benchmark file ${benchFile} does not exist; create it with 'npm run bench -- --json ${benchFile}'`;
  }
  return {
    inputs: {
      ...base,
      gbPerDay: gbPerDay as number,
      services: services as number,
      windowMs: windowMs as number,
      avgLineBytes: lineBytes as number,
      archiveRetentionDays: retention as number,
      kinesisMode: mode,
      ingestMbPerSecPerVcpu: ingestMbPerSec,
      detectUsPerSeriesWindow: detectUs,
      prices,
    },
    throughputSource,
  };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

function usd(n: number): string {
  return `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}
