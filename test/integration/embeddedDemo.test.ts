/**
 * `tidewatch start --demo --seconds N --summary FILE`, the real command in a child process, on a temp
 * data directory and free ports: the summary must show every produced event ingested and archived, the
 * demo's malformed records rejected by code, nothing late, every injected incident detected and at most
 * one false alarm. (Latency is reported, not asserted: this box's load decides it.)
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../local/summary.ts';

const bin = fileURLToPath(new URL('../../cli/bin.js', import.meta.url));

describe('tidewatch start --demo', () => {
  let dir: string | undefined;

  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('ingests and archives every produced event and detects every injected incident', {
    timeout: 180_000,
  }, async () => {
    // Prepare
    dir = await mkdtemp(join(tmpdir(), 'tw-demo-'));
    const summaryFile = join(dir, 'summary.json');
    // Act
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        bin,
        'start',
        '--demo',
        '--seconds',
        '75',
        '--seed',
        '1',
        '--ports',
        '0',
        '--no-dashboard',
        '--data-dir',
        join(dir, 'data'),
        '--summary',
        summaryFile,
      ],
      { timeout: 170_000, maxBuffer: 16 * 1024 * 1024 },
    );
    const s = JSON.parse(await readFile(summaryFile, 'utf8')) as RunSummary;
    // Assess
    expect(stdout).toMatch(/tidewatch stopped/);
    expect(s.events.produced).toBeGreaterThan(10_000);
    expect(s.events.ingested).toBe(s.events.produced);
    expect(s.events.archivedProduced).toBe(s.events.produced);
    expect(s.events.late).toBe(0);
    expect(s.events.rejected).toEqual(s.events.malformedSent);
    expect(s.windows.written).toBeGreaterThan(0);
    expect(s.incidents.length).toBeGreaterThan(0);
    expect(s.incidents.filter((i) => i.detectedAt === null)).toEqual([]);
    expect(s.alerts.filter((a) => a.incident === null).length).toBeLessThanOrEqual(1);
    expect(s.latencyMs.eventToMetric.p99).not.toBeNull();
  });
});
