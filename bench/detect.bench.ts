/**
 * Detector benchmark: nanoseconds per point and checkpoint bytes per series for the default detector and
 * the two baselines, on a seeded 10 s series with daily seasonality and noise.
 *
 * Run alone: `npx tsx bench/detect.bench.ts` (add `--quick` for a smoke run). Prints JSON.
 */
import { createDetector, DETECTOR_NAMES } from '../processors/transforms/detect/createDetector.ts';

export interface BenchCase {
  mbPerSec?: number;
  recordsPerSec?: number;
  eventsPerSec?: number;
  peakRssMb?: number;
  nsPerOp?: number;
  [k: string]: unknown;
}

/** Seeded series: 10 s windows, daily sine, Gaussian-ish noise, a few spikes. */
function makeSeries(points: number, seed: number): { timesMs: Float64Array; values: Float64Array } {
  let s = seed >>> 0;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  const timesMs = new Float64Array(points);
  const values = new Float64Array(points);
  const start = Date.UTC(2024, 0, 1);
  for (let i = 0; i < points; i++) {
    timesMs[i] = start + i * 10_000;
    const noise = u() + u() + u() - 1.5;
    values[i] = 100 + 40 * Math.sin((2 * Math.PI * i) / 8640) + 5 * noise + (u() < 0.001 ? 80 : 0);
  }
  return { timesMs, values };
}

function median(xs: number[]): number {
  const v = [...xs].sort((a, b) => a - b);
  return v[Math.floor(v.length / 2)]!;
}

/**
 * Runs the benchmark (median of several runs).
 *
 * @example
 * const cases = await run({ quick: true });
 */
export async function run(opts: { quick: boolean }): Promise<Record<string, BenchCase>> {
  // Sized for the full-suite budget (~4 min on the shared 2-core machine); results are per point.
  const points = opts.quick ? 20_000 : 100_000;
  const runs = opts.quick ? 3 : 5;
  const { timesMs, values } = makeSeries(points, 42);
  const out: Record<string, BenchCase> = {};
  for (const kind of DETECTOR_NAMES) {
    const samples: number[] = [];
    const cpuSamples: number[] = [];
    let stateBytes = 0;
    let sink = 0;
    for (let r = 0; r < runs; r++) {
      const d = createDetector(kind);
      const cpu0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < points; i++) sink += d.update(timesMs[i]!, values[i]!).score;
      samples.push(Number(process.hrtime.bigint() - t0) / points);
      const cpu = process.cpuUsage(cpu0);
      cpuSamples.push(((cpu.user + cpu.system) * 1000) / points);
      stateBytes = d.saveState().byteLength;
    }
    const nsPerOp = median(samples);
    out[`detector_${kind}`] = {
      nsPerOp,
      recordsPerSec: 1e9 / nsPerOp,
      // CPU time per point: the shared machine's wall clock includes time spent waiting for a core.
      cpuNsPerOp: median(cpuSamples),
      stateBytesPerSeries: stateBytes,
      points,
      runs,
      checksum: Number(sink.toFixed(3)),
    };
  }
  // Checkpoint cost: save + restore of the default detector's state.
  const d = createDetector('default');
  for (let i = 0; i < 10_000; i++) d.update(timesMs[i]!, values[i]!);
  const { restoreDetector } = await import('../processors/transforms/detect/createDetector.ts');
  const n = opts.quick ? 2_000 : 20_000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) restoreDetector(d.saveState());
  out.default_state_roundtrip = { nsPerOp: Number(process.hrtime.bigint() - t0) / n };
  out.peak = { peakRssMb: process.memoryUsage().rss / 1_048_576 };
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await run({ quick: process.argv.includes('--quick') });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
