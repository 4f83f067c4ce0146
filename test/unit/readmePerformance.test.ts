import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type BenchResult,
  END_MARKER,
  renderPerformance,
  START_MARKER,
  withPerformance,
} from '../../scripts/readmePerformance.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const latest = JSON.parse(
  readFileSync(new URL('../../bench/results/latest.json', import.meta.url), 'utf8'),
) as BenchResult;

describe('README performance section', () => {
  it('is the rendering of the checked-in benchmark run (npm run readme:performance)', () => {
    // Act
    const expected = withPerformance(readme, latest);
    // Assess
    expect(readme).toBe(expected);
  });

  it('shows a case the run did not produce as missing, and a missed target as missed', () => {
    // Prepare
    const run: BenchResult = {
      cases: {
        floor: { cpuMbPerSec: 100 },
        ingest: { cpuMbPerSec: 40 },
        detect: { cpuUsPerSeriesWindow: 50 },
      },
    };
    // Act
    const text = renderPerformance(run);
    // Assess
    expect(text).toMatch(/`ingest` ≥ 0.5 × `floor` \| 0.4 \| — \| \*\*missed\*\*/);
    expect(text).toMatch(/≤ 100 µs per series·window .*\| 50 µs \| — \| met \|/);
    expect(text).toMatch(/`ingest` ≥ 2 × `baseline` \| — \| — \| not measured/);
  });

  it('refuses a README without the markers', () => {
    expect(() => withPerformance('# no section', latest)).toThrow(START_MARKER);
    expect(readme.indexOf(END_MARKER)).toBeGreaterThan(readme.indexOf(START_MARKER));
  });
});
