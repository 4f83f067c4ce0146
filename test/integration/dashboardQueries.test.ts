import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertProvisioningFile, alertSelects, buildAlertRuleGroup } from '../../dashboards/alertRules.ts';
import { type DashboardOptions, resolveDashboardOptions, Variable } from '../../dashboards/common.ts';
import { fleetSelects } from '../../dashboards/fleetDashboard.ts';
import { DashboardFile, generateDashboardFiles } from '../../dashboards/generate.ts';
import { pipelineSelects } from '../../dashboards/pipelineDashboard.ts';
import { serviceSelects } from '../../dashboards/serviceDashboard.ts';
import {
  GrafanaField,
  type SelectSpec,
  TIMESTREAM_DATASOURCE_TYPE,
  TimestreamColumn,
  TimestreamFormat,
  timestreamTarget,
} from '../../dashboards/timestreamQuery.ts';
import { translateTimestreamSql } from '../../local/timestreamSql.ts';
import {
  Dimension,
  Measure,
  Names,
  PipelineMeasure,
  PipelineMeasureName,
  WindowMeasureName,
} from '../../processors/schema.ts';
import type { SeriesWindowRecord } from '../../processors/sinks/timeSeriesRecord.ts';
import { type SeededStore, seedStore } from './dashboardSeed.ts';

// Every query of every dashboard, variable, annotation and alert rule runs — translated by
// local/timestreamSql.ts — against the embedded store seeded through its real write path, and must
// return the columns it declares (the names Grafana gets from Timestream), ordered by time, with the
// values an independent computation over the written records gives.

const o: DashboardOptions = resolveDashboardOptions();
const INTERVAL_MS = 30_000;

interface NamedSelect {
  name: string;
  table: string;
  measure: string;
  select: SelectSpec;
}

const windowsSelects: Record<string, SelectSpec> = {
  ...Object.fromEntries(Object.entries(serviceSelects).map(([k, v]) => [`service.${k}`, v])),
  ...Object.fromEntries(Object.entries(fleetSelects(o)).map(([k, v]) => [`fleet.${k}`, v])),
  ...Object.fromEntries(Object.entries(alertSelects).map(([k, v]) => [`alerts.${k}`, v])),
};
const selects: NamedSelect[] = [
  ...Object.entries(windowsSelects).map(([name, select]) => ({
    name,
    table: Names.windowsTable,
    measure: WindowMeasureName,
    select,
  })),
  ...Object.entries(pipelineSelects).map(([name, select]) => ({
    name: `pipeline.${name}`,
    table: Names.pipelineTable,
    measure: PipelineMeasureName,
    select,
  })),
];

function rawQuery(s: NamedSelect): string {
  return timestreamTarget({
    refId: 'A',
    datasource: { type: TIMESTREAM_DATASOURCE_TYPE, uid: o.datasourceUid },
    database: o.database,
    table: s.table,
    measure: s.measure,
    format: TimestreamFormat.timeSeries,
    select: s.select,
  }).rawQuery;
}

let seeded: SeededStore;

beforeAll(async () => {
  seeded = await seedStore();
});

afterAll(async () => {
  await seeded?.close();
});

async function run(s: NamedSelect, service?: string): Promise<Record<string, unknown>[]> {
  const sql = translateTimestreamSql(rawQuery(s), {
    database: o.database,
    table: s.table,
    measure: s.measure,
    fromMs: seeded.firstWindowMs,
    toMs: seeded.nowMs,
    intervalMs: INTERVAL_MS,
    nowMs: seeded.nowMs,
    variables: { [Variable.service]: service ?? seeded.incident.service },
  });
  return seeded.store.query(sql);
}

function ms(v: unknown): number {
  return v instanceof Date ? v.getTime() : Number(v);
}

function bucketOf(tMs: number): number {
  return Math.floor(tMs / INTERVAL_MS) * INTERVAL_MS;
}

function windowsOf(service: string): SeriesWindowRecord[] {
  return seeded.records.windows.filter((r) => r.dimensions[Dimension.service] === service);
}

function m(r: SeriesWindowRecord, name: string): number {
  return r.measures[name] as number;
}

describe('dashboard queries on the embedded store', () => {
  it('cover every query in the generated dashboards and alert rules', () => {
    // Prepare
    const rendered = new Set(selects.map(rawQuery));
    const files = generateDashboardFiles();
    const inJson: string[] = [];
    for (const file of Object.values(DashboardFile)) {
      const d = JSON.parse(files.get(file) as string);
      for (const p of d.panels) for (const t of p.targets) inJson.push(t.rawQuery);
      for (const v of d.templating.list) if (v.type === 'query') inJson.push(v.query.rawQuery);
      for (const a of d.annotations?.list ?? []) if (a.target?.rawQuery) inJson.push(a.target.rawQuery);
    }
    const rules = alertProvisioningFile(buildAlertRuleGroup(o), 'tidewatch').groups[0]?.rules ?? [];
    for (const r of rules)
      for (const q of r.data) if (typeof q.model.rawQuery === 'string') inJson.push(q.model.rawQuery);
    // Act
    const untested = inJson.filter((q) => !rendered.has(q));
    // Assess
    expect(inJson.length).toBeGreaterThan(30);
    expect(untested).toEqual([]);
  });

  it.each(selects.map((s) => [s.name, s] as const))(
    '%s runs translated and returns its declared columns, ordered by time',
    async (_name, s) => {
      // Act
      const rows = await run(s);
      // Assess
      expect(rows.length).toBeGreaterThan(0);
      const declared = s.select.columns.map((c) => c.as.name);
      for (const row of rows) expect(Object.keys(row)).toEqual(declared);
      const first = s.select.orderBy[0]?.expr.sql;
      if (first === TimestreamColumn.time) {
        const times = rows.map((r) => ms(r[TimestreamColumn.time]));
        expect([...times].sort((a, b) => a - b)).toEqual(times);
      }
      for (const row of rows) {
        for (const [k, v] of Object.entries(row)) {
          if (k === TimestreamColumn.time) expect(v instanceof Date, `${k} is a timestamp`).toBe(true);
          else if (k === Dimension.service || k === Dimension.stage || k === GrafanaField.text) {
            expect(typeof v).toBe('string');
          } else if (Array.isArray(v)) expect(v.length).toBeGreaterThan(0);
          else if (v !== null) expect(typeof v, `${k}`).toBe('number');
        }
      }
    },
  );
});

describe('dashboard query values', () => {
  it('service error rate per bucket is Σerrors / Σcount of its windows', async () => {
    // Prepare
    const service = seeded.incident.service;
    const expected = new Map<number, { errors: number; count: number }>();
    for (const r of windowsOf(service)) {
      const b = bucketOf(r.timeMs);
      const e = expected.get(b) ?? { errors: 0, count: 0 };
      e.errors += m(r, Measure.errors.name);
      e.count += m(r, Measure.count.name);
      expected.set(b, e);
    }
    // Act
    const rows = await run(selects.find((s) => s.name === 'service.errorRate') as NamedSelect, service);
    // Assess
    expect(rows.length).toBe(expected.size);
    for (const row of rows) {
      const e = expected.get(ms(row.time)) as { errors: number; count: number };
      expect(row[Measure.errorRate.name]).toBeCloseTo(e.errors / e.count, 12);
    }
  });

  it('service event rate per bucket is the mean of its windows’ event rates', async () => {
    // Prepare
    const service = seeded.services[1] as string;
    const expected = new Map<number, number[]>();
    for (const r of windowsOf(service)) {
      const list = expected.get(bucketOf(r.timeMs)) ?? [];
      list.push(m(r, Measure.eventRate.name));
      expected.set(bucketOf(r.timeMs), list);
    }
    // Act
    const rows = await run(selects.find((s) => s.name === 'service.eventRate') as NamedSelect, service);
    // Assess
    for (const row of rows) {
      const list = expected.get(ms(row.time)) as number[];
      expect(row[Measure.eventRate.name]).toBeCloseTo(list.reduce((a, b) => a + b, 0) / list.length, 9);
    }
  });

  it('latency p99 per bucket is the count-weighted mean of the windows’ p99', async () => {
    const service = seeded.services[2] as string;
    const rows = await run(selects.find((s) => s.name === 'service.latency') as NamedSelect, service);
    const row = rows[3] as Record<string, unknown>;
    const inBucket = windowsOf(service).filter((r) => bucketOf(r.timeMs) === ms(row.time));
    const weight = inBucket.reduce((a, r) => a + m(r, Measure.latencyCount.name), 0);
    const weighted = inBucket.reduce(
      (a, r) => a + m(r, Measure.latencyP99Ms.name) * m(r, Measure.latencyCount.name),
      0,
    );
    expect(row[Measure.latencyP99Ms.name]).toBeCloseTo(weighted / weight, 9);
  });

  it('the expected band of a bucket is the band of its highest-scoring window, floored at 0', async () => {
    const service = seeded.services[0] as string;
    const rows = await run(selects.find((s) => s.name === 'service.anomaly') as NamedSelect, service);
    for (const row of rows) {
      const inBucket = windowsOf(service).filter((r) => bucketOf(r.timeMs) === ms(row.time));
      const top = inBucket.reduce((a, b) =>
        m(b, Measure.anomalyScore.name) > m(a, Measure.anomalyScore.name) ? b : a,
      );
      expect(row[Measure.anomalyScore.name]).toBe(m(top, Measure.anomalyScore.name));
      expect(row[Measure.expectedHigh.name]).toBe(m(top, Measure.expectedHigh.name));
      expect(row[Measure.expectedLow.name]).toBe(Math.max(0, m(top, Measure.expectedLow.name)));
    }
  });

  it('the alert annotation returns exactly the incident windows', async () => {
    const rows = await run(selects.find((s) => s.name === 'service.alerts') as NamedSelect);
    const expected = windowsOf(seeded.incident.service)
      .filter((r) => m(r, Measure.alerting.name) === 1)
      .map((r) => r.timeMs);
    expect(rows.map((r) => ms(r.time))).toEqual(expected);
    expect(String(rows[0]?.text)).toMatch(/^anomaly score 0\.\d+$/);
  });

  it('the service variable lists every service, most recently seen first', async () => {
    const rows = await run(selects.find((s) => s.name === 'service.services') as NamedSelect);
    expect(rows.map((r) => r[Dimension.service]).sort()).toEqual([...seeded.services].sort());
  });

  it('the fleet ranking puts the service with the incident first by error rate and anomaly score', async () => {
    const byError = await run(selects.find((s) => s.name === 'fleet.topByErrorRate') as NamedSelect);
    const byScore = await run(selects.find((s) => s.name === 'fleet.topByAnomalyScore') as NamedSelect);
    expect(byError[0]?.[Dimension.service]).toBe(seeded.incident.service);
    expect(byScore[0]?.[Dimension.service]).toBe(seeded.incident.service);
    const total = windowsOf(seeded.incident.service).reduce((a, r) => a + m(r, Measure.count.name), 0);
    expect(byError[0]?.[Measure.count.name]).toBe(total);
  });

  it('alerts over time count the alerting windows of each bucket', async () => {
    const rows = await run(selects.find((s) => s.name === 'fleet.alertsByService') as NamedSelect);
    const sum = rows.reduce((a, r) => a + Number(r[Measure.alerting.name]), 0);
    const expected = seeded.records.windows.filter((r) => m(r, Measure.alerting.name) === 1).length;
    expect(sum).toBe(expected);
  });

  it('pipeline throughput is Σrecords per bucket per second, by stage', async () => {
    // Prepare
    const expected = new Map<string, number>();
    for (const r of seeded.records.pipeline) {
      const key = `${bucketOf(r.timeMs)}|${r.dimensions[Dimension.stage]}`;
      expected.set(key, (expected.get(key) ?? 0) + m(r, PipelineMeasure.records.name));
    }
    // Act
    const rows = await run(selects.find((s) => s.name === 'pipeline.throughput') as NamedSelect);
    // Assess
    expect(rows.length).toBe(expected.size);
    for (const row of rows) {
      const total = expected.get(`${ms(row.time)}|${row[Dimension.stage]}`) as number;
      expect(row[`${PipelineMeasure.records.name}_per_s`]).toBeCloseTo((total * 1000) / INTERVAL_MS, 9);
    }
  });

  it('alert-rule series are one time-ordered list per service (CREATE_TIME_SERIES)', async () => {
    const rows = await run(selects.find((s) => s.name === 'alerts.anomalyScore') as NamedSelect);
    expect(rows.map((r) => r[Dimension.service]).sort()).toEqual([...seeded.services].sort());
    for (const row of rows) {
      const series = row[Measure.anomalyScore.name] as Array<{ time: Date; value: number }>;
      const times = series.map((p) => p.time.getTime());
      expect(times).toEqual(windowsOf(row[Dimension.service] as string).map((r) => r.timeMs));
    }
  });
});
