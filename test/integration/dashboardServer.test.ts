import { readFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DashboardFile, GENERATED_DIR } from '../../dashboards/generate.ts';
import { ServicePanel } from '../../dashboards/serviceDashboard.ts';
import {
  type DashboardData,
  type DashboardServer,
  duckDbQueryFn,
  grafanaIntervalMs,
  startDashboardServer,
  storeQueryFn,
} from '../../local/dashboardServer.ts';
import { Measure } from '../../processors/schema.ts';
import { type SeededStore, seedStore } from './dashboardSeed.ts';

let seeded: SeededStore;
let server: DashboardServer;

beforeAll(async () => {
  seeded = await seedStore();
  server = await startDashboardServer({
    port: 0,
    store: seeded.store,
    now: () => seeded.nowMs,
    refreshMs: 2_000,
  });
});

afterAll(async () => {
  await server?.close();
  await seeded?.close();
});

async function get(path: string): Promise<Response> {
  return fetch(new URL(path, server.url));
}

describe('local dashboard server', () => {
  it('listens on loopback on an ephemeral port', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(server.url).not.toMatch(/:0\/$/);
  });

  it('serves the page and its assets with a same-origin-only content security policy', async () => {
    for (const [path, type] of [
      ['/', 'text/html'],
      ['/app.js', 'text/javascript'],
      ['/style.css', 'text/css'],
    ] as const) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toContain(type);
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(res.headers.get('content-security-policy')).toContain("connect-src 'self'");
      const body = await res.text();
      // No CDN, no fonts, no analytics: the only absolute URL allowed is the SVG namespace.
      const urls = [...body.matchAll(/https?:\/\/[^\s'"`)]+/g)].map((m) => m[0]);
      expect(
        urls.filter((u) => u !== 'http://www.w3.org/2000/svg'),
        path,
      ).toEqual([]);
    }
  });

  it('describes the same panels and queries as the Grafana service dashboard', async () => {
    // Prepare
    const grafana = JSON.parse(readFileSync(`${GENERATED_DIR}/${DashboardFile.service}`, 'utf8'));
    // Act
    // biome-ignore lint/suspicious/noExplicitAny: API JSON.
    const meta: any = await (await get('/api/dashboard')).json();
    // Assess
    const expected = grafana.panels.map(
      (p: { id: number; title: string; targets: Array<{ rawQuery: string }> }) => ({
        id: p.id,
        title: p.title,
        rawQuery: p.targets[0]?.rawQuery,
      }),
    );
    const served = meta.panels.map(
      (p: { id: number; title: string; targets: Array<{ rawQuery: string }> }) => ({
        id: p.id,
        title: p.title,
        rawQuery: p.targets[0]?.rawQuery,
      }),
    );
    expect(served).toEqual(expected);
    expect(meta.refreshMs).toBe(2_000);
    expect(meta.annotations[0].rawQuery).toContain(`"${Measure.alerting.name}" = 1`);
  });

  it('returns every service with data for every panel, and the incident alerts as annotations', async () => {
    // Act
    const res = await get('/api/data?rangeMs=900000');
    const data = (await res.json()) as DashboardData;
    // Assess
    expect(res.status).toBe(200);
    expect(data.toMs).toBe(seeded.nowMs);
    expect(data.fromMs).toBe(seeded.nowMs - 900_000);
    expect(data.services.map((s) => s.name).sort()).toEqual([...seeded.services].sort());
    for (const s of data.services) {
      for (const [id, panel] of Object.entries(s.panels)) {
        expect(panel.error, `${s.name} panel ${id}`).toBeUndefined();
        expect(panel.rows?.length, `${s.name} panel ${id}`).toBeGreaterThan(0);
      }
    }
    const incident = data.services.find((s) => s.name === seeded.incident.service);
    expect(incident?.annotations.length).toBeGreaterThan(0);
    for (const a of incident?.annotations ?? []) {
      expect(a.timeMs).toBeGreaterThanOrEqual(seeded.incident.fromMs);
      expect(a.timeMs).toBeLessThanOrEqual(seeded.incident.toMs);
    }
    const others = data.services.filter((s) => s.name !== seeded.incident.service);
    for (const s of others) expect(s.annotations).toEqual([]);
    const anomaly = incident?.panels[String(ServicePanel.anomaly)];
    expect(anomaly?.columns).toEqual([
      'time',
      Measure.anomalyScore.name,
      Measure.expectedLow.name,
      Measure.expectedHigh.name,
    ]);
  });

  it('shows only the configured services when given a list', async () => {
    // Prepare
    const only = await startDashboardServer({
      port: 0,
      store: seeded.store,
      services: [seeded.services[1] as string],
      now: () => seeded.nowMs,
    });
    try {
      // Act
      const data = (await (await fetch(new URL('/api/data', only.url))).json()) as DashboardData;
      // Assess
      expect(data.services.map((s) => s.name)).toEqual([seeded.services[1]]);
    } finally {
      await only.close();
    }
  });

  it('shares one run of the queries between concurrent page refreshes', async () => {
    // Prepare
    const sql: string[] = [];
    const storeQuery = storeQueryFn(seeded.store);
    const counted = await startDashboardServer({
      port: 0,
      query: (q) => {
        sql.push(q);
        return storeQuery(q);
      },
      now: () => seeded.nowMs,
      refreshMs: 10_000,
    });
    try {
      // Act
      const replies = await Promise.all(
        [1, 2, 3].map(async () => (await fetch(new URL('/api/data?rangeMs=900000', counted.url))).json()),
      );
      // Assess
      expect(replies[1]).toEqual(replies[0]);
      expect(replies[2]).toEqual(replies[0]);
      // Stat panels reuse their time-series panel's SQL: each distinct query ran once.
      expect(new Set(sql).size).toBe(sql.length);
      expect(sql.length).toBe(1 + seeded.services.length * 6);
    } finally {
      await counted.close();
    }
  });

  it('rejects bad ranges, writes and unknown paths with a clear status', async () => {
    expect((await get('/api/data?rangeMs=5')).status).toBe(400);
    expect((await get('/api/data?rangeMs=abc')).status).toBe(400);
    expect((await fetch(new URL('/api/data', server.url), { method: 'POST' })).status).toBe(405);
    expect((await get('/nope')).status).toBe(404);
    expect((await get('/healthz')).status).toBe(200);
  });

  it('reports "no data yet" instead of failing when the store has no tables', async () => {
    // Prepare
    const empty = await startDashboardServer({
      port: 0,
      query: async () => {
        throw new Error('Catalog Error: Table with name windows does not exist!');
      },
    });
    try {
      // Act
      const data = (await (await fetch(new URL('/api/data', empty.url))).json()) as DashboardData;
      // Assess
      expect(data.services).toEqual([]);
      expect(data.error).toMatch(/no data yet/);
    } finally {
      await empty.close();
    }
  });
});

describe('duckDbQueryFn', () => {
  it('serializes queries on a raw DuckDB connection and returns JSON-ready values', async () => {
    // Prepare
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const query = duckDbQueryFn(connection);
    try {
      // Act
      const results = await Promise.all([
        query("SELECT epoch_ms(1700000000000) AS time, 42::BIGINT AS n, [1, 2] AS l, 'x' AS s"),
        query('SELECT 1 AS one'),
      ]);
      // Assess
      expect(results[0]).toEqual({
        columns: ['time', 'n', 'l', 's'],
        rows: [[1_700_000_000_000, 42, [1, 2], 'x']],
      });
      expect(results[1]).toEqual({ columns: ['one'], rows: [[1]] });
      await expect(query('SELECT * FROM missing')).rejects.toThrow(/missing/);
      expect(await query('SELECT 2 AS two')).toEqual({ columns: ['two'], rows: [[2]] });
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});

describe('grafanaIntervalMs', () => {
  it('rounds like Grafana and never goes below the panel minimum', () => {
    expect(grafanaIntervalMs(15 * 60_000, 240, 10_000)).toBe(10_000);
    expect(grafanaIntervalMs(3 * 3_600_000, 240, 10_000)).toBe(60_000);
    expect(grafanaIntervalMs(3_600_000, 240, 10_000)).toBe(15_000);
    expect(grafanaIntervalMs(60_000, 240, 1_000)).toBe(1_000);
  });
});
