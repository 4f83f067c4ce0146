import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run as backtest } from '../../cli/backtest.ts';
import { run as detect } from '../../cli/detect.ts';

const exec = promisify(execFile);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tw-cli-detect-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs a CLI `run` with stderr captured. */
async function captured(fn: (argv: string[]) => Promise<number>, argv: string[]) {
  let stderr = '';
  let stdout = '';
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    stderr += String(s);
    return true;
  });
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    stdout += String(s);
    return true;
  });
  try {
    return { code: await fn(argv), stderr, stdout };
  } finally {
    e.mockRestore();
    o.mockRestore();
  }
}

describe('tidewatch detect', () => {
  it('writes one scored row per input row, in order, through the real binary (CRLF, quotes, BOM, backwards time)', async () => {
    // Prepare
    const rows = ['\uFEFFtimestamp,value'];
    for (let i = 0; i < 500; i++) {
      const t = new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString().replace('T', ' ').slice(0, 19);
      rows.push(i % 7 === 0 ? `"${t}","${(10 + (i % 5)).toFixed(1)}"` : `${t},${10 + (i % 5)}`);
    }
    rows.push('2023-12-31 00:00:00,12'); // backwards: kept, warned
    const input = join(dir, 'in.csv');
    const output = join(dir, 'out.csv');
    await writeFile(input, `${rows.join('\r\n')}\r\n`);
    // Act
    const { stderr } = await exec(
      process.execPath,
      ['cli/bin.js', 'detect', '--input', input, '--output', output],
      {
        cwd: join(import.meta.dirname, '../..'),
      },
    );
    // Assess
    const out = (await readFile(output, 'utf8')).trimEnd().split('\n');
    expect(out[0]).toBe('timestamp,value,anomaly_score');
    expect(out).toHaveLength(502);
    expect(out[1]).toMatch(/^2024-01-01 00:00:00,10\.0,0$/);
    expect(out[501]).toMatch(/^2023-12-31 00:00:00,12,[0-9.e-]+$/);
    for (const line of out.slice(1)) {
      const score = Number(line.split(',')[2]);
      expect(score).toBeGreaterThanOrEqual(0);
      expect(score).toBeLessThanOrEqual(1);
    }
    expect(stderr).toMatch(/line 502: timestamp 2023-12-31 00:00:00 is earlier than line 501's/);
    expect(stderr).toMatch(/scored 501 rows with the default detector/);
  }, 60_000);

  it('names the line of bad input and exits 1', async () => {
    const input = join(dir, 'bad.csv');
    await writeFile(input, 'timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:01:00,n/a\n');
    const r = await captured(detect, ['--input', input, '--output', join(dir, 'never.csv')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${input}:3: cannot read value "n/a" as a finite number`);
  });

  it('reports a missing column and usage errors', async () => {
    const input = join(dir, 'nocol.csv');
    await writeFile(input, 'timestamp,count\n2024-01-01 00:00:00,1\n');
    const r = await captured(detect, ['--input', input, '--output', join(dir, 'never.csv')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(':1: the header has no value column');
    expect((await captured(detect, ['--input', input])).code).toBe(2);
    expect((await captured(detect, ['--input', input, '--output', 'x', '--detector', 'magic'])).code).toBe(2);
  });
});

describe('tidewatch backtest', () => {
  it('scores a labeled directory for every detector and prints JSON', async () => {
    // Prepare: one file with a spike inside its labeled window.
    const series = join(dir, 'series', 'cat');
    await mkdir(series, { recursive: true });
    const lines = ['timestamp,value'];
    for (let i = 0; i < 400; i++) {
      const t = new Date(Date.UTC(2024, 0, 1) + i * 300_000).toISOString().replace('T', ' ').slice(0, 19);
      lines.push(`${t},${i === 300 ? 100 : 10 + Math.sin(i)}`);
    }
    await writeFile(join(series, 'a.csv'), `${lines.join('\n')}\n`);
    const windows = join(dir, 'windows.json');
    await writeFile(
      windows,
      JSON.stringify({ 'cat/a.csv': [['2024-01-02 00:00:00', '2024-01-02 02:00:00']] }),
    );
    // Act
    const r = await captured(backtest, ['--series', join(dir, 'series'), '--windows', windows, '--json']);
    // Assess
    expect(r.code).toBe(0);
    const parsed = JSON.parse(r.stdout) as { results: { detector: string; nab: Record<string, unknown> }[] };
    expect(parsed.results.map((x) => x.detector)).toEqual(['default', 'gaussian', 'ewma']);
    expect(Object.keys(parsed.results[0]!.nab)).toEqual(['standard', 'rewardLowFp', 'rewardLowFn']);
  });

  it('explains a missing --windows file', async () => {
    const r = await captured(backtest, ['--series', dir, '--windows', join(dir, 'nope.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot read --windows');
  });
});
