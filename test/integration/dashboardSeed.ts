/**
 * Seeds an in-memory embedded store (`local/duckdbStore.ts`, the Timestream-like layout of the brief's
 * contract) through its `TimeSeriesSink.write`, with deterministic rows: a small fleet, one incident,
 * pipeline-health samples. Used by the dashboard translation, server and browser tests.
 */

import { DuckDbStore } from '../../local/duckdbStore.ts';
import { Dimension, Measure, Names, PipelineMeasure } from '../../processors/schema.ts';
import type { SeriesWindowRecord } from '../../processors/sinks/timeSeriesRecord.ts';

export interface SeededStore {
  store: DuckDbStore;
  /** Window starts are aligned to `windowMs`; the last closed window starts at `lastWindowMs`. */
  windowMs: number;
  nowMs: number;
  firstWindowMs: number;
  lastWindowMs: number;
  services: readonly string[];
  /** The service with the injected incident, and its window range (alerting = 1). */
  incident: { service: string; fromMs: number; toMs: number };
  /** The records written, per table (for independent expectations). */
  records: { windows: SeriesWindowRecord[]; pipeline: SeriesWindowRecord[] };
  close(): Promise<void>;
}

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SeedOptions {
  nowMs?: number;
  windowMs?: number;
  /** How much history to write (ms). */
  historyMs?: number;
  services?: readonly string[];
}

/**
 * Creates an in-memory store and fills it.
 *
 * @example
 * const store = await seedStore({ nowMs: Date.UTC(2025, 0, 1, 12) });
 * // ... run queries on store.connection
 * await store.close();
 */
export async function seedStore(opts: SeedOptions = {}): Promise<SeededStore> {
  const windowMs = opts.windowMs ?? 10_000;
  const nowMs = opts.nowMs ?? Date.UTC(2025, 0, 15, 12, 0, 0);
  const historyMs = opts.historyMs ?? 30 * 60_000;
  const services = opts.services ?? ['checkout', 'search', 'payments', 'inventory'];
  const lastWindowMs = Math.floor(nowMs / windowMs) * windowMs - windowMs;
  const firstWindowMs = lastWindowMs - Math.floor(historyMs / windowMs) * windowMs;
  const incident = {
    service: services[0] as string,
    fromMs: lastWindowMs - 8 * 60_000,
    toMs: lastWindowMs - 3 * 60_000,
  };

  const store = await DuckDbStore.open({ path: ':memory:' });
  const random = rng(42);
  const windows: SeriesWindowRecord[] = [];
  services.forEach((service, si) => {
    const baseRate = 40 + si * 25;
    const baseErr = 0.004 + si * 0.002;
    const baseP50 = 30 + si * 12;
    for (let t = firstWindowMs; t <= lastWindowMs; t += windowMs) {
      const phase = (t / 60_000 / 12) * 2 * Math.PI + si;
      const rate = baseRate * (1 + 0.15 * Math.sin(phase)) * (0.95 + 0.1 * random());
      const inIncident = service === incident.service && t >= incident.fromMs && t <= incident.toMs;
      const count = Math.round((rate * windowMs) / 1000);
      const errRate = inIncident ? 0.12 + 0.04 * random() : baseErr * (0.6 + 0.8 * random());
      const errors = Math.round(count * errRate);
      const s5 = Math.round(errors * 0.8);
      const s4 = Math.round(count * 0.01 * random());
      const latencyCount = Math.round(count * 0.9);
      const slow = inIncident ? 2.5 : 1;
      const p50 = baseP50 * slow * (0.9 + 0.2 * random());
      const score = inIncident ? 0.92 + 0.07 * random() : 0.05 + 0.3 * random();
      const expectedErr = baseErr;
      const measures: Record<string, number> = {
        [Measure.count.name]: count,
        [Measure.errors.name]: errors,
        [Measure.status4xx.name]: s4,
        [Measure.status5xx.name]: s5,
        [Measure.bytes.name]: count * 512,
        [Measure.eventRate.name]: (count * 1000) / windowMs,
        [Measure.errorRate.name]: count === 0 ? Number.NaN : errors / count,
        [Measure.latencyCount.name]: latencyCount,
        [Measure.latencySumMs.name]: p50 * 1.3 * latencyCount,
        [Measure.latencyMinMs.name]: p50 * 0.2,
        [Measure.latencyMaxMs.name]: p50 * 9,
        [Measure.latencyP50Ms.name]: p50,
        [Measure.latencyP90Ms.name]: p50 * 2.2,
        [Measure.latencyP99Ms.name]: p50 * 4.5,
        [Measure.anomalyScore.name]: score,
        // Detectors' lower bounds go below zero for quiet series (the dashboard clamps them).
        [Measure.expectedLow.name]: expectedErr * (0.4 * random() - 0.1),
        [Measure.expectedHigh.name]: expectedErr * (2 + random()),
        [Measure.alerting.name]: inIncident ? 1 : 0,
      };
      windows.push({
        table: Names.windowsTable,
        dimensions: { [Dimension.service]: service },
        timeMs: t,
        version: 1,
        measures,
      });
    }
  });

  const pipeline: SeriesWindowRecord[] = [];
  const stages = ['ingest', 'detect'];
  for (let t = firstWindowMs; t <= lastWindowMs; t += 5_000) {
    stages.forEach((stage, i) => {
      for (const shard of ['shardId-000000000000', 'shardId-000000000001']) {
        const records = 200 + Math.round(100 * random()) - i * 120;
        const measures: Record<string, number> = {
          [PipelineMeasure.records.name]: records,
          [PipelineMeasure.events.name]: records * (i === 0 ? 6 : 1),
          [PipelineMeasure.bytes.name]: records * 2048,
          [PipelineMeasure.rejected.name]: Math.round(3 * random()),
          [PipelineMeasure.late.name]: Math.round(2 * random()),
          [PipelineMeasure.retried.name]: random() < 0.1 ? 5 : 0,
          [PipelineMeasure.iteratorAgeMs.name]: 200 + 800 * random(),
          [PipelineMeasure.archiveFailed.name]: random() < 0.05 ? 1 : 0,
          [PipelineMeasure.timestreamRejected.name]: random() < 0.03 ? 2 : 0,
          [PipelineMeasure.durationMs.name]: 40 + 60 * random(),
        };
        pipeline.push({
          table: Names.pipelineTable,
          dimensions: { [Dimension.stage]: stage, [Dimension.shard]: shard },
          timeMs: t,
          version: 1,
          measures,
        });
      }
    });
  }
  for (const batch of [windows, pipeline]) {
    const { outcomes } = await store.write(batch);
    const bad = outcomes.find((o) => o.kind !== 'ok');
    if (bad !== undefined) throw new Error(`seeding the store failed: ${JSON.stringify(bad)}`);
  }

  return {
    store,
    windowMs,
    nowMs,
    firstWindowMs,
    lastWindowMs,
    services,
    incident,
    records: { windows, pipeline },
    close: () => store.close(),
  };
}
