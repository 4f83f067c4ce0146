/**
 * `tidewatch replay` on a generated log file with a known answer: the windows it prints match the
 * reference aggregator (exact counts and errors, latency quantiles within the sketch's relative
 * accuracy), bad lines are counted by code, late lines are counted, an injected error spike raises
 * an alert — and the real command, reading standard input, prints the same thing.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LogReplay, run } from '../../cli/replay.ts';
import { DemoRandom } from '../../local/demo/random.ts';
import type { LevelName, LogEvent } from '../../processors/schema.ts';
import {
  defaultWindowConfig,
  exactQuantile,
  referenceAggregate,
} from '../../processors/transforms/window/index.ts';

const T0 = Date.UTC(2026, 0, 15, 9, 0, 0);
const WINDOW_MS = 10_000;
const WINDOWS = 70;
/** Error spike of `api`, windows [50, 56). */
const SPIKE = { from: T0 + 50 * WINDOW_MS, to: T0 + 56 * WINDOW_MS };

interface Generated {
  lines: string[];
  /** The events the file's good, in-time lines stand for. */
  accepted: LogEvent[];
  bad: Record<string, number>;
  late: number;
  blank: number;
}

/** A 700 s log of two services in three formats, slightly out of order, with bad and late lines. */
function generate(seed: number): Generated {
  const rng = new DemoRandom(seed);
  const items: { timeMs: number; line: string; event: LogEvent }[] = [];
  const endMs = T0 + WINDOWS * WINDOW_MS;
  for (let t = T0; t < endMs; t += 100) {
    // api: pino JSON, ~10 events/s; worker: logfmt or ISO plain text, ~4 events/s
    for (let k = rng.poisson(1); k > 0; k--) {
      const timeMs = t + rng.int(100);
      const spike = timeMs >= SPIKE.from && timeMs < SPIKE.to;
      const failed = rng.chance(spike ? 0.4 : 0.01);
      const status = failed ? 503 : 200;
      const durationMs = Math.round(rng.logNormal(40, 0.5) * 1000) / 1000;
      const level: LevelName = failed ? 'error' : 'info';
      const line = JSON.stringify({
        level: failed ? 50 : 30,
        time: timeMs,
        app: 'api',
        msg: failed ? 'upstream failed' : 'ok',
        req: { method: 'GET', url: '/items' },
        res: { statusCode: status },
        responseTime: durationMs,
      });
      items.push({ timeMs, line, event: { timeMs, service: 'api', level, message: '', status, durationMs } });
    }
    for (let k = rng.poisson(0.4); k > 0; k--) {
      const timeMs = t + rng.int(100);
      const failed = rng.chance(0.02);
      const level: LevelName = failed ? 'error' : 'info';
      if (rng.chance(0.5)) {
        const durationMs = Math.round(rng.logNormal(300, 0.3) * 1000) / 1000;
        const line = `ts=${new Date(timeMs).toISOString()} level=${level} app=worker msg="job done" duration_ms=${durationMs}`;
        items.push({ timeMs, line, event: { timeMs, service: 'worker', level, message: '', durationMs } });
      } else {
        // Plain text names no service: it falls back on the replay's --service (default "unknown").
        const line = `${new Date(timeMs).toISOString()} ${level.toUpperCase()} job finished`;
        items.push({ timeMs, line, event: { timeMs, service: 'unknown', level, message: '' } });
      }
    }
  }
  // Out of order by up to 5 s (well within the 30 s allowed lateness): sort by a jittered key.
  const keyed = items.map((it) => ({ it, key: it.timeMs + rng.int(5_000) }));
  keyed.sort((a, b) => a.key - b.key);
  const lines: string[] = [];
  const accepted: LogEvent[] = [];
  for (const { it } of keyed) {
    lines.push(it.line);
    accepted.push(it.event);
  }
  // Bad lines, spread through the file.
  const badLines: [string, string][] = [
    ['invalid_json', '{"level":30,"time":'],
    ['invalid_json', '{not json at all}'],
    ['invalid_json', '[1, 2'],
    ['missing_timestamp', 'just some words without a time'],
    ['missing_timestamp', '{"level":30,"msg":"no time here","app":"api"}'],
    ['invalid_timestamp', '{"level":30,"time":"yesterday-ish","msg":"bad time","app":"api"}'],
  ];
  const bad: Record<string, number> = {};
  badLines.forEach(([code, line], i) => {
    lines.splice(Math.floor(((i + 1) * lines.length) / (badLines.length + 1)), 0, line);
    bad[code] = (bad[code] ?? 0) + 1;
  });
  // Two blank lines and two late lines (5 minutes behind, far beyond the 30 s lateness) near the end.
  lines.splice(lines.length - 100, 0, '', '   ');
  const lateTime = endMs - 5 * 60_000 - 20_000;
  lines.splice(
    lines.length - 50,
    0,
    JSON.stringify({ level: 30, time: lateTime, app: 'api', msg: 'late', responseTime: 1 }),
    `${new Date(lateTime).toISOString()} INFO late plain line`,
  );
  return { lines, accepted, bad, late: 2, blank: 2 };
}

let dir: string;
let file: string;
let gen: Generated;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tw-replay-'));
  file = join(dir, 'app.log');
  gen = generate(17);
  writeFileSync(file, `${gen.lines.join('\n')}\n`);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function capture(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
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
    return { code: await run(argv), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

interface WindowLine {
  service: string;
  windowStart: string;
  windowEnd: string;
  count: number;
  errors: number;
  latencyMs: { p50: number | null; p90: number | null; p99: number | null };
  dimensions?: Record<string, string>;
}

interface AlertLine {
  alert: true;
  kind: string;
  service: string;
  metric: string;
  windowStart: string;
  score: number;
}

function parseJsonLines(stdout: string): { windows: WindowLine[]; alerts: AlertLine[] } {
  const objs = stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    windows: objs.filter((o) => o.alert === undefined) as unknown as WindowLine[],
    alerts: objs.filter((o) => o.alert === true) as unknown as AlertLine[],
  };
}

describe('tidewatch replay --json', () => {
  it('prints every closed window as the reference aggregator computes it, and alerts on the error spike', async () => {
    // Prepare
    const config = defaultWindowConfig({ windowMs: WINDOW_MS });
    const reference = referenceAggregate(gen.accepted, config);
    // Act
    const { code, stdout, stderr } = await capture([
      file,
      '--json',
      '--window-ms',
      String(WINDOW_MS),
      '--service-from-key',
      'app',
    ]);
    // Assess: one window line per reference window, same numbers
    expect(code).toBe(0);
    const { windows, alerts } = parseJsonLines(stdout);
    expect(windows).toHaveLength(reference.size);
    const byKey = new Map(windows.map((w) => [`${w.service}@${Date.parse(w.windowStart)}`, w]));
    for (const r of reference.values()) {
      const w = byKey.get(`${r.dimensions.service}@${r.windowStartMs}`);
      expect(w, `${r.dimensions.service} ${new Date(r.windowStartMs).toISOString()}`).toBeDefined();
      expect(Object.keys(w!).sort()).toEqual([
        'count',
        'errors',
        'latencyMs',
        'service',
        'windowEnd',
        'windowStart',
      ]);
      expect(Date.parse(w!.windowEnd) - Date.parse(w!.windowStart)).toBe(WINDOW_MS);
      expect(w!.windowStart).toBe(new Date(r.windowStartMs).toISOString());
      expect(w!.count).toBe(r.count);
      expect(w!.errors).toBe(r.errors);
      if (r.latencies.length === 0) {
        expect(w!.latencyMs).toEqual({ p50: null, p90: null, p99: null });
      } else {
        for (const [q, got] of [
          [0.5, w!.latencyMs.p50],
          [0.9, w!.latencyMs.p90],
          [0.99, w!.latencyMs.p99],
        ] as const) {
          const exact = exactQuantile(r.latencies, q);
          expect(Math.abs(got! - exact)).toBeLessThanOrEqual(config.relativeAccuracy * exact * (1 + 1e-9));
        }
      }
    }
    expect(new Set(windows.map((w) => w.service))).toEqual(new Set(['api', 'worker', 'unknown']));
    // Assess: the spike alerts api's error rate, and nothing else alerts
    const fired = alerts.filter((a) => a.kind === 'alert');
    expect(fired.length).toBeGreaterThanOrEqual(1);
    for (const a of fired) {
      expect(a).toMatchObject({ alert: true, service: 'api', metric: 'error_rate' });
      expect(Date.parse(a.windowStart)).toBeGreaterThanOrEqual(SPIKE.from);
      expect(Date.parse(a.windowStart)).toBeLessThan(SPIKE.to);
    }
    // Assess: bad and late lines counted on stderr, never fatal
    expect(stderr).toMatch(
      /6 lines or events rejected: invalid_json 3, missing_timestamp 2, invalid_timestamp 1/,
    );
    expect(stderr).toMatch(/2 events more than 30000 ms behind the newest event were counted as late/);
  });

  it('counts lines, blanks, rejects and late events exactly (LogReplay)', () => {
    // Prepare
    const replay = new LogReplay({ windowMs: WINDOW_MS, serviceFromKey: 'app' });
    // Act
    for (let i = 0; i < gen.lines.length; i += 777) replay.push(gen.lines.slice(i, i + 777));
    replay.finish();
    // Assess
    const s = replay.stats();
    expect(s.lines).toBe(gen.lines.length);
    expect(s.blankLines).toBe(gen.blank);
    expect(s.rejected).toEqual(gen.bad);
    expect(s.late).toBe(gen.late);
    expect(s.windowed).toBe(gen.accepted.length);
    expect(s.events).toBe(gen.accepted.length + gen.late);
  });

  it('adds dimensions when configured', async () => {
    // Act
    const { code, stdout } = await capture([
      file,
      '--json',
      '--window-ms',
      '60000',
      '--dimensions',
      'route',
      '--service-from-key',
      'app',
    ]);
    // Assess
    expect(code).toBe(0);
    const { windows } = parseJsonLines(stdout);
    expect(windows.length).toBeGreaterThan(0);
    for (const w of windows) expect(w.dimensions).toEqual({ route: w.service === 'api' ? '/items' : 'none' });
  });

  it('prints a readable table with the alert marked', async () => {
    // Act
    const { code, stdout } = await capture([
      file,
      '--window-ms',
      String(WINDOW_MS),
      '--service-from-key',
      'app',
    ]);
    // Assess
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[0]).toMatch(
      /^window start\s+service\s+count\s+errors\s+err%\s+p50 ms\s+p90 ms\s+p99 ms\s+score$/,
    );
    expect(stdout).toMatch(/!! ALERT\s+2026-01-15T09:0\d:\d0\.000Z api error rate \d+\.\d% \(expected/);
    expect(lines.filter((l) => l.startsWith('2026-01-15T')).length).toBeGreaterThan(WINDOWS * 2);
  });

  it('rejects bad usage with exit code 2 and a hint', async () => {
    const none = await capture([]);
    const missing = await capture([join(dir, 'nope.log')]);
    const badWindow = await capture([file, '--window-ms', '10s']);
    const badDimension = await capture([file, '--dimensions', 'colour']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/name a log file, or - for standard input/);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/does not exist/);
    expect(badWindow.code).toBe(2);
    expect(badWindow.stderr).toMatch(/--window-ms must be an integer/);
    expect(badDimension.code).toBe(2);
    expect(badDimension.stderr).toMatch(/colour/);
  });
});

describe('tidewatch replay - (the command, reading standard input)', () => {
  it('prints the same JSON lines as the in-process run', async () => {
    // Prepare
    const expected = await capture([
      file,
      '--json',
      '--window-ms',
      String(WINDOW_MS),
      '--service-from-key',
      'app',
    ]);
    // Act
    const child = spawn(
      process.execPath,
      ['cli/bin.js', 'replay', '-', '--json', '--window-ms', String(WINDOW_MS), '--service-from-key', 'app'],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdin.end(`${gen.lines.join('\n')}\n`);
    const code = await new Promise<number | null>((r) => child.on('close', r));
    // Assess
    expect(code).toBe(0);
    expect(stdout).toBe(expected.stdout);
    expect(stderr).toMatch(/invalid_json 3/);
  }, 120_000);
});
