/**
 * `npm run bench [-- --json FILE] [--quick] [--only NAME,...]`
 *
 * Runs every `bench/*.bench.ts` module in its own child process (so one case's heap does not
 * inflate the next one's peak RSS) and merges their cases into one JSON document:
 * `{ machine, startedAt, cases: { "<name>": { mbPerSec, recordsPerSec, peakRssMb, ... } }, ratios }`.
 * Inputs are seeded, so two runs on the same machine measure the same bytes.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export interface BenchCase {
  mbPerSec?: number;
  recordsPerSec?: number;
  eventsPerSec?: number;
  peakRssMb?: number;
  nsPerOp?: number;
  [key: string]: unknown;
}

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = join(benchDir, '..');

const { values } = parseArgs({
  options: {
    json: { type: 'string' },
    quick: { type: 'boolean' },
    only: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help === true) {
  process.stdout.write('usage: npm run bench -- [--json FILE] [--quick] [--only decode,windows,...]\n');
  process.exit(0);
}

const only = values.only?.split(',').map((s) => s.trim());
const modules = readdirSync(benchDir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''))
  .filter((name) => only === undefined || only.includes(name))
  .sort();
if (modules.length === 0) {
  process.stderr.write(
    `bench: no benchmark matched --only ${values.only}; available: ${readdirSync(benchDir).join(', ')}\n`,
  );
  process.exit(2);
}

// The machine is shared: say how busy it was, at the start and the end (1, 5, 15 min load averages).
const startedAt = new Date();
const loadAverageAtStart = loadavg().map((l) => Math.round(l * 100) / 100);

const cases: Record<string, BenchCase> = {};
const failures: Record<string, string> = {};
for (const name of modules) {
  process.stderr.write(`bench: ${name} …\n`);
  const started = Date.now();
  try {
    const outFile = join(tmpdir(), `tidewatch-bench-${process.pid}-${name}.json`);
    execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--expose-gc',
        join(benchDir, 'child.ts'),
        join(benchDir, `${name}.bench.ts`),
        outFile,
        ...(values.quick === true ? ['--quick'] : []),
      ],
      { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], timeout: 600_000 },
    );
    const result = JSON.parse(readFileSync(outFile, 'utf8')) as Record<string, BenchCase>;
    rmSync(outFile, { force: true });
    for (const [caseName, c] of Object.entries(result)) cases[caseName] = c;
    process.stderr.write(`bench: ${name} done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  } catch (error) {
    failures[name] = (error as Error).message.split('\n')[0] ?? 'failed';
    process.stderr.write(`bench: ${name} FAILED: ${failures[name]}\n`);
  }
}

function ratio(a: string, b: string, field: keyof BenchCase = 'mbPerSec'): number | null {
  const x = cases[a]?.[field];
  const y = cases[b]?.[field];
  return typeof x === 'number' && typeof y === 'number' && y > 0 ? Math.round((x / y) * 100) / 100 : null;
}

const cpu = cpus()[0];
const report = {
  machine: {
    cpu: cpu?.model ?? 'unknown',
    cores: cpus().length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    note: 'shared, noisy 2-core machine: compare ratios measured in one run, not absolute numbers across runs',
    loadAverage: loadAverageAtStart,
    loadAverageAtEnd: loadavg().map((l) => Math.round(l * 100) / 100),
  },
  startedAt: startedAt.toISOString(),
  durationSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
  quick: values.quick === true,
  cases,
  ratios: {
    ingestOverFloor: ratio('ingest', 'floor'),
    ingestOverBaseline: ratio('ingest', 'baseline'),
    cpuIngestOverFloor: ratio('ingest', 'floor', 'cpuMbPerSec'),
    cpuIngestOverBaseline: ratio('ingest', 'baseline', 'cpuMbPerSec'),
  },
  failures,
};
const json = JSON.stringify(report, null, 2);
if (values.json !== undefined) {
  mkdirSync(dirname(values.json), { recursive: true });
  writeFileSync(values.json, `${json}\n`);
  process.stderr.write(`bench: wrote ${values.json}\n`);
}
process.stdout.write(`${json}\n`);
process.exitCode = Object.keys(failures).length === 0 ? 0 : 1;
