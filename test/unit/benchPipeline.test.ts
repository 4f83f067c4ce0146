/**
 * Smoke test of the pipeline benchmark: `run({ quick: true })` produces every case with the JSON
 * shape `npm run bench` and `tidewatch cost` read. Never asserts speed (shared, noisy machine).
 */
import { describe, expect, it } from 'vitest';
import { makeEvents } from '../../bench/inputs.ts';
import { run } from '../../bench/pipeline.bench.ts';

describe('bench/inputs makeEvents', () => {
  it('wraps the same lines as KPL, NDJSON and CloudWatch Logs events, deterministically', () => {
    // Prepare / Act
    const a = makeEvents({ base64Bytes: 100_000 });
    const b = makeEvents({ base64Bytes: 100_000 });

    // Assess
    expect(a.kpl.lines).toBeGreaterThan(50);
    expect(a.ndjson.lines).toBe(a.kpl.lines);
    expect(a.cloudwatch.lineBytes).toBe(a.kpl.lineBytes);
    expect(Math.round(a.kpl.lineBytes / a.kpl.lines)).toBe(1024);
    expect(a.kpl.offsets).toHaveLength(a.kpl.event.Records.length);
    expect(a.kpl.event.Records[0]!.kinesis.data).toBe(b.kpl.event.Records[0]!.kinesis.data);
    expect(a.cloudwatch.event.Records.at(-1)!.kinesis.data).toBe(
      b.cloudwatch.event.Records.at(-1)!.kinesis.data,
    );
  });
});

describe('bench/pipeline run({ quick: true })', () => {
  it('reports every case with positive throughput, ratios and the detect cost', async () => {
    // Act
    const cases = await run({ quick: true });

    // Assess
    const throughput = [
      'floor',
      'floor_verified',
      'baseline',
      'ingest',
      'floor_ndjson',
      'ingest_ndjson',
      'floor_cloudwatch',
      'ingest_cloudwatch',
    ];
    expect(Object.keys(cases).sort()).toEqual([...throughput, 'detect'].sort());
    for (const name of throughput) {
      const c = cases[name]!;
      expect(c.mbPerSec, name).toBeGreaterThan(0);
      expect(c.recordsPerSec, name).toBeGreaterThan(0);
      expect(c.cpuMbPerSec, name).toBeGreaterThan(0);
      expect(c.peakRssMb, name).toBeGreaterThan(0);
      expect(JSON.parse(JSON.stringify(c))).toEqual(c);
    }
    for (const field of [
      'overFloor',
      'overBaseline',
      'cpuOverFloor',
      'cpuOverBaseline',
      'overFloorVerified',
    ]) {
      expect(cases.ingest![field], field).toBeGreaterThan(0);
    }
    const detect = cases.detect!;
    expect(detect.usPerSeriesWindow).toBeGreaterThan(0);
    expect(detect.cpuUsPerSeriesWindow).toBeGreaterThan(0);
    expect(detect.checkpointCpuUsPerSeries).toBeGreaterThan(0);
    expect(typeof detect.fits100kSeriesPer10sWindow).toBe('boolean');
    expect(detect.invocationsPerWindow).toBe(1);
  }, 180_000);
});
