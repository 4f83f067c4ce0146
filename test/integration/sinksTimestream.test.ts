/**
 * TimestreamSink → real @aws-sdk/client-timestream-write → local Timestream endpoint (DuckDB), with
 * throttling, 500s, latency and lost responses injected: every record lands exactly once (after
 * upserts), every reject is counted with its reason, nothing is lost.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTimestreamEndpoint, type TimestreamEndpoint } from '../../local/timestreamEndpoint.ts';
import { Names } from '../../processors/schema.ts';
import { seededRandom } from '../../processors/sinks/backoff.ts';
import { createTimestreamWriteClient } from '../../processors/sinks/sinkClients.ts';
import type { SeriesWindowRecord, SinkOutcome } from '../../processors/sinks/timeSeriesRecord.ts';
import { TimestreamSink } from '../../processors/sinks/timestreamSink.ts';

const WINDOW_MS = 10_000;
const SERVICES = 24;
const WINDOWS = 40;

let dir: string;
let ts: TimestreamEndpoint;
let sink: TimestreamSink;
const nowMs = Date.now();
const base = nowMs - (nowMs % WINDOW_MS) - WINDOWS * WINDOW_MS;

function record(s: number, w: number, version: number, bump = 0): SeriesWindowRecord {
  const count = 100 + s * 7 + w + bump;
  return {
    table: Names.windowsTable,
    dimensions: { service: `svc-${s}`, window_ms: String(WINDOW_MS) },
    timeMs: base + w * WINDOW_MS,
    version,
    measures: { count, errors: s % 3, error_rate: (s % 3) / count, latency_p99_ms: 10 + w / 4 },
  };
}

function kinds(outcomes: SinkOutcome[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const o of outcomes) out[o.kind] = (out[o.kind] ?? 0) + 1;
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tw-ts-'));
  ts = await startTimestreamEndpoint({
    dataDir: dir,
    faults: {
      throttleCallFraction: 0.15,
      failCallFraction: 0.1,
      dropResponseFraction: 0.1,
      latencyMs: 1,
      latencyJitterMs: 10,
      seed: 11,
    },
  });
  sink = new TimestreamSink({
    client: createTimestreamWriteClient({ endpoint: ts.url }),
    concurrency: 3,
    // 25 per call (not 100) so the run makes enough calls for every kind of fault to fire.
    maxRecordsPerCall: 25,
    backoff: { baseDelayMs: 5, maxDelayMs: 100, random: seededRandom(3) },
  });
});

afterAll(async () => {
  await ts.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('TimestreamSink against the local endpoint with faults', () => {
  it('writes every series·window exactly once, upserts corrections, and counts every reject with its reason', async () => {
    // Prepare
    const all: SeriesWindowRecord[] = [];
    for (let s = 0; s < SERVICES; s++) for (let w = 0; w < WINDOWS; w++) all.push(record(s, w, 1));
    const batches = [all.slice(0, 300), all.slice(300, 620), all.slice(620)];
    const corrections: SeriesWindowRecord[] = [];
    for (let s = 0; s < SERVICES; s += 3)
      for (let w = 0; w < WINDOWS; w += 4) corrections.push(record(s, w, 2, 1000));
    const stale = corrections
      .slice(0, 25)
      .map((r) => ({ ...r, version: 1, measures: { ...r.measures, count: 1 } }));
    const outOfRange = [
      { ...record(0, 0, 1), timeMs: nowMs - 48 * 3_600_000 },
      { ...record(1, 0, 1), timeMs: nowMs + 60 * 60_000 },
    ];

    // Act: three invocations, one redelivery of the first, then corrections, stale and out-of-range writes.
    const results = [];
    for (const b of batches) results.push(await sink.write(b, { budgetMs: 60_000 }));
    const redelivery = await sink.write(batches[0]!, { budgetMs: 60_000 });
    const corrected = await sink.write(corrections, { budgetMs: 60_000 });
    const staleRes = await sink.write(stale, { budgetMs: 60_000 });
    const rangeRes = await sink.write(outOfRange, { budgetMs: 60_000 });

    // Assess: outcomes
    for (const r of [...results, redelivery, corrected])
      expect(kinds(r.outcomes)).toEqual({ ok: r.outcomes.length });
    expect(kinds(staleRes.outcomes)).toEqual({ reject: stale.length });
    for (const o of staleRes.outcomes) {
      expect(o).toMatchObject({ kind: 'reject', code: 'timestream_rejected' });
      expect(o.kind === 'reject' && o.detail).toMatch(/existing version 2/);
    }
    expect(rangeRes.outcomes.map((o) => (o.kind === 'reject' ? o.detail : o.kind))).toEqual([
      expect.stringMatching(/outside the time range/),
      expect.stringMatching(/outside the time range/),
    ]);
    expect(staleRes.stats.rejected + rangeRes.stats.rejected).toBe(stale.length + 2);

    // Assess: the store holds each series·window once, with the highest version's values.
    const [{ n, keys }] = (await ts.store.query(
      'SELECT count(*) AS n, count(DISTINCT (service, time)) AS keys FROM "tidewatch"."windows"',
    )) as [{ n: number; keys: number }];
    expect(n).toBe(SERVICES * WINDOWS);
    expect(keys).toBe(SERVICES * WINDOWS);
    const stored = await ts.store.query(
      'SELECT service, epoch_ms(time) AS t, count, version FROM "tidewatch"."windows" WHERE version = 2 ORDER BY service, t',
    );
    expect(stored.length).toBe(corrections.length);
    const expected = new Map(
      corrections.map((r) => [`${r.dimensions.service}/${r.timeMs}`, r.measures.count]),
    );
    for (const r of stored) expect(r.count).toBe(expected.get(`${r.service}/${r.t}`));
    const v1 = await ts.store.query(
      'SELECT count(*) AS n FROM "tidewatch"."windows" WHERE version = 1 AND count <> 100 + CAST(substr(service, 5) AS INTEGER) * 7 + (epoch_ms(time) - $1) / 10000',
      [base],
    );
    expect(v1).toEqual([{ n: 0 }]);

    // Assess: the faults really happened.
    expect(ts.faults.stats.throttledCalls).toBeGreaterThan(0);
    expect(ts.faults.stats.failedCalls).toBeGreaterThan(0);
    expect(ts.faults.stats.droppedResponses).toBeGreaterThan(0);
  });
});
