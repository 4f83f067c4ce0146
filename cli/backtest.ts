/**
 * `tidewatch backtest --series DIR --windows FILE [--detector NAME[,NAME…]] [--json]`
 *
 * Runs detectors over every CSV under DIR (each file from a fresh state, one point at a time) and scores
 * them against labeled anomaly windows with the NAB method (processors/transforms/detect/nabScore.ts):
 * all three profiles, one threshold per profile swept over every distinct score.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { parseArgs } from 'node:util';
import {
  createDetector,
  DETECTOR_NAMES,
  isDetectorName,
} from '../processors/transforms/detect/createDetector.ts';
import type { DetectorKindName } from '../processors/transforms/detect/detector.ts';
import type {
  NabCorpusResult,
  NabFileInput,
  NabProfileName,
} from '../processors/transforms/detect/nabScore.ts';
import { NabProfiles, scoreCorpus } from '../processors/transforms/detect/nabScore.ts';
import { parseSeriesCsv, parseTimestampMs } from './csv.ts';

const USAGE = `usage: tidewatch backtest --series DIR --windows FILE [--detector NAME[,NAME...]] [--json]

Scores detectors against labeled anomaly windows (NAB method, all three profiles).
  --series DIR      directory searched recursively for timestamp,value CSV files
  --windows FILE    JSON: {"<path relative to DIR>": [["start", "end"], ...], ...}
  --detector LIST   detectors to run: ${DETECTOR_NAMES.join(', ')} (default: all; the per-file
                    table is printed for the first one)
  --json            print the full result as JSON instead of tables`;

/** A loaded labeled series. */
interface LoadedSeries {
  name: string;
  timestampsMs: Float64Array;
  values: Float64Array;
  windows: [number, number][];
}

/** Result of one detector over the corpus. */
export interface BacktestDetectorResult {
  detector: DetectorKindName;
  points: number;
  /** Detector time only (update calls), wall-clock nanoseconds per point. */
  nsPerPoint: number;
  /** Detector CPU time per point (process CPU time, so other threads count too; robust to a busy machine). */
  cpuNsPerPoint: number;
  nab: NabCorpusResult;
}

async function listCsv(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listCsv(p)));
    else if (e.isFile() && e.name.toLowerCase().endsWith('.csv')) out.push(p);
  }
  return out.sort();
}

/**
 * Runs one detector kind over loaded series (fresh state per file) and scores it.
 *
 * @example
 * const r = backtestDetector('default', series);
 */
function backtestDetector(kind: DetectorKindName, series: readonly LoadedSeries[]): BacktestDetectorResult {
  const files: NabFileInput[] = [];
  let points = 0;
  let ns = 0n;
  let cpuUs = 0;
  for (const s of series) {
    const detector = createDetector(kind);
    const scores = new Float64Array(s.values.length);
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < s.values.length; i++)
      scores[i] = detector.update(s.timestampsMs[i]!, s.values[i]!).score;
    ns += process.hrtime.bigint() - t0;
    const cpu = process.cpuUsage(cpu0);
    cpuUs += cpu.user + cpu.system;
    points += s.values.length;
    files.push({ name: s.name, timestampsMs: s.timestampsMs, scores, windows: s.windows });
  }
  return {
    detector: kind,
    points,
    nsPerPoint: points > 0 ? Number(ns) / points : 0,
    cpuNsPerPoint: points > 0 ? (cpuUs * 1000) / points : 0,
    nab: scoreCorpus(files),
  };
}

function fmt(x: number, digits = 2): string {
  return x.toFixed(digits);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) =>
      r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '),
    )
    .join('\n');
}

/** Per-file table (standard profile, at the corpus threshold) for one detector. */
function perFileTable(result: BacktestDetectorResult): string {
  const std = result.nab.standard;
  const rows = [['file', 'rows', 'windows', 'TP', 'FN', 'FP', 'score(std)']];
  for (const f of std.files) {
    rows.push([
      f.name,
      String(f.rows),
      String(f.windows),
      String(f.truePositives),
      String(f.falseNegatives),
      String(f.falsePositives),
      fmt(f.score, 3),
    ]);
  }
  return `${result.detector} detector, standard profile, threshold ${fmt(std.threshold, 4)}:\n${table(rows)}`;
}

function summaryTable(results: readonly BacktestDetectorResult[]): string {
  const profiles = Object.keys(NabProfiles) as NabProfileName[];
  const rows = [['detector', ...profiles, 'threshold(std)', 'cpu ns/point']];
  for (const r of results) {
    rows.push([
      r.detector,
      ...profiles.map((p) => fmt(r.nab[p].normalisedScore)),
      fmt(r.nab.standard.threshold, 4),
      fmt(r.cpuNsPerPoint, 0),
    ]);
  }
  return `NAB normalised scores (0 = never fires, 100 = perfect):\n${table(rows)}`;
}

async function loadSeries(
  seriesDir: string,
  windowsFile: string,
): Promise<{ series: LoadedSeries[]; warnings: string[] } | { error: string }> {
  let labels: Record<string, unknown>;
  try {
    labels = JSON.parse(await readFile(windowsFile, 'utf8')) as Record<string, unknown>;
  } catch (cause) {
    return { error: `cannot read --windows ${windowsFile}: ${(cause as Error).message}` };
  }
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) {
    return { error: `--windows ${windowsFile} must be a JSON object {"file.csv": [["start","end"], ...]}` };
  }
  let paths: string[];
  try {
    paths = await listCsv(seriesDir);
  } catch (cause) {
    return { error: `cannot read --series ${seriesDir}: ${(cause as Error).message}` };
  }
  if (paths.length === 0) return { error: `no .csv files under --series ${seriesDir}` };
  const warnings: string[] = [];
  const series: LoadedSeries[] = [];
  const seen = new Set<string>();
  for (const path of paths) {
    const name = relative(seriesDir, path).split(sep).join('/');
    seen.add(name);
    const parsed = parseSeriesCsv(await readFile(path, 'utf8'));
    if (parsed.kind === 'error') return { error: `${path}:${parsed.line}: ${parsed.message}` };
    const raw = labels[name];
    const windows: [number, number][] = [];
    if (raw === undefined) {
      warnings.push(`${name}: not in the windows file; scored as having no anomaly`);
    } else if (!Array.isArray(raw)) {
      return { error: `windows for ${name} must be an array of [start, end] pairs` };
    } else {
      for (const pair of raw) {
        const start = Array.isArray(pair) ? parseTimestampMs(String(pair[0])) : undefined;
        const end = Array.isArray(pair) ? parseTimestampMs(String(pair[1])) : undefined;
        if (start === undefined || end === undefined || end < start) {
          return {
            error: `windows for ${name}: ${JSON.stringify(pair)} is not a [start, end] timestamp pair`,
          };
        }
        windows.push([start, end]);
      }
    }
    const n = parsed.rows.length;
    const timestampsMs = new Float64Array(n);
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      timestampsMs[i] = parsed.rows[i]!.timestampMs;
      values[i] = parsed.rows[i]!.value;
    }
    series.push({ name, timestampsMs, values, windows });
  }
  for (const name of Object.keys(labels)) {
    if (!seen.has(name)) warnings.push(`${name}: in the windows file but not under --series; ignored`);
  }
  return { series, warnings };
}

/**
 * Runs the backtest for the given detectors over DIR/FILE and returns the results (no printing).
 *
 * @example
 * const results = await backtest('data/series', 'data/windows.json', ['default', 'ewma']);
 */
export async function backtest(
  seriesDir: string,
  windowsFile: string,
  detectors: readonly DetectorKindName[] = DETECTOR_NAMES,
): Promise<{ results: BacktestDetectorResult[]; warnings: string[] } | { error: string }> {
  const loaded = await loadSeries(seriesDir, windowsFile);
  if ('error' in loaded) return loaded;
  return { results: detectors.map((d) => backtestDetector(d, loaded.series)), warnings: loaded.warnings };
}

/** CLI entry: see the module comment. Exit codes: 0 ok, 1 input error, 2 usage error. */
export async function run(argv: string[]): Promise<number> {
  let values: { series?: string; windows?: string; detector?: string; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        series: { type: 'string' },
        windows: { type: 'string' },
        detector: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (cause) {
    process.stderr.write(`tidewatch backtest: ${(cause as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.series === undefined || values.windows === undefined) {
    process.stderr.write(`tidewatch backtest: --series and --windows are required.\n\n${USAGE}\n`);
    return 2;
  }
  const names =
    values.detector === undefined ? DETECTOR_NAMES : values.detector.split(',').map((s) => s.trim());
  const detectors: DetectorKindName[] = [];
  for (const n of names) {
    if (!isDetectorName(n)) {
      process.stderr.write(
        `tidewatch backtest: unknown detector '${n}'; use one of ${DETECTOR_NAMES.join(', ')}.\n`,
      );
      return 2;
    }
    detectors.push(n);
  }
  const started = process.hrtime.bigint();
  const outcome = await backtest(values.series, values.windows, detectors);
  if ('error' in outcome) {
    process.stderr.write(`tidewatch backtest: ${outcome.error}\n`);
    return 1;
  }
  for (const w of outcome.warnings) process.stderr.write(`warning: ${w}\n`);
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ elapsedMs, results: outcome.results }, null, 2)}\n`);
    return 0;
  }
  const first = outcome.results[0]!;
  process.stdout.write(`${perFileTable(first)}\n\n${summaryTable(outcome.results)}\n`);
  process.stdout.write(
    `\n${first.points} points per detector, ${outcome.results.length} detector(s), ${fmt(elapsedMs / 1000, 1)} s in total.\n`,
  );
  return 0;
}
