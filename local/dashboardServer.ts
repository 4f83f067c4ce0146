/**
 * The local dashboard of `tidewatch start`: a small HTTP server on 127.0.0.1 that serves a
 * self-contained page (no external network: inline SVG charts, no CDN) and a JSON API. Every panel
 * is a panel of the Grafana service dashboard (`dashboards/generated/tidewatch-service.json`), and its
 * Timestream SQL runs — translated by `local/timestreamSql.ts` — against the embedded DuckDB store,
 * so the laptop and Grafana show the same numbers.
 *
 * The server never opens the database: embedded mode holds the single read-write DuckDB handle, so the
 * caller passes the open store (`DuckDbStore`, whose reads use their own connection), a DuckDB
 * connection, or a query function. Queries from this server are serialized.
 *
 * API:
 * - `GET /api/dashboard` — panel descriptions (titles, units, thresholds, series styles, queries).
 * - `GET /api/data?rangeMs=900000` — every panel of every service for the last `rangeMs`.
 * - `GET /healthz` — `ok`.
 */

import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Dimension } from '../processors/schema.ts';
import { type LocalDashboard, type LocalTarget, readDashboardModel } from './dashboard/panelModel.ts';
import { translateTimestreamSql } from './timestreamSql.ts';

/** A query result with JSON-ready values (timestamps as epoch ms, BIGINT as number). */
export interface QueryResult {
  columns: string[];
  rows: unknown[][];
}

/** Runs one DuckDB SQL statement. */
export type DashboardQueryFn = (sql: string) => Promise<QueryResult>;

/** The part of `@duckdb/node-api`'s `DuckDBConnection` this server uses. */
export interface DuckDbLikeConnection {
  runAndReadAll(sql: string): Promise<{ columnNames(): string[]; getRowsJS(): unknown[][] }>;
}

/** The part of `local/duckdbStore.ts`'s `DuckDbStore` this server uses (its read connection). */
export interface DashboardStoreLike {
  query(sql: string): Promise<Record<string, unknown>[]>;
}

/** Something that can run SQL: the embedded store, a DuckDB connection, or a query function. */
export type DashboardSource =
  | { store: DashboardStoreLike }
  | { connection: DuckDbLikeConnection }
  | { query: DashboardQueryFn };

export type DashboardServerOptions = DashboardSource & {
  /** TCP port; 0 picks a free one (tests). `tidewatch start` uses `LocalPorts.dashboard`. */
  port: number;
  /** Bind address; loopback by default (the page has no authentication). */
  host?: string;
  /** Show only these services (default: the service variable's query, i.e. every service seen). */
  services?: readonly string[];
  /** How often the page refreshes (ms). */
  refreshMs?: number;
  /** Default time range of the page (ms); the page offers 5 min to 3 h. */
  rangeMs?: number;
  /** At most this many services are queried per refresh (most recently seen first). */
  maxServices?: number;
  /** The clock (epoch ms): `now` of the time range. */
  now?: () => number;
  /** A Grafana dashboard JSON model; default: the generated service dashboard. */
  dashboard?: unknown;
};

export interface DashboardServer {
  /** `http://127.0.0.1:<port>/` */
  url: string;
  close(): Promise<void>;
}

const DEFAULT_REFRESH_MS = 5_000;
const DEFAULT_RANGE_MS = 15 * 60_000;
const MIN_RANGE_MS = 60_000;
const MAX_RANGE_MS = 24 * 3_600_000;
const DEFAULT_MAX_SERVICES = 12;
/** Points per series the page asks for (Grafana's maxDataPoints is about the panel width in pixels). */
const MAX_DATA_POINTS = 240;

const ASSET_DIR = new URL('./dashboard/', import.meta.url);
const SERVICE_DASHBOARD = new URL('../dashboards/generated/tidewatch-service.json', import.meta.url);

const ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

/** Nothing but this origin: the page must work with no network (and must not leak data). */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'";

function toJsValue(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.getTime();
  if (Array.isArray(v)) return v.map(toJsValue);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = toJsValue(x);
    return out;
  }
  if (typeof v === 'number' && !Number.isFinite(v)) return null;
  return v;
}

/**
 * Adapts a DuckDB connection to a {@link DashboardQueryFn}: serialized, values converted to JSON
 * (TIMESTAMP → epoch ms, BIGINT/HUGEINT → number, LIST/STRUCT recursively).
 *
 * @example
 * const query = duckDbQueryFn(await instance.connect());
 * const { columns, rows } = await query('SELECT 42 AS answer');
 */
export function duckDbQueryFn(connection: DuckDbLikeConnection): DashboardQueryFn {
  let tail: Promise<unknown> = Promise.resolve();
  return (sql: string) => {
    const run = tail.then(async () => {
      const reader = await connection.runAndReadAll(sql);
      return { columns: reader.columnNames(), rows: reader.getRowsJS().map((r) => r.map(toJsValue)) };
    });
    tail = run.catch(() => undefined);
    return run;
  };
}

/**
 * Adapts the embedded store (rows as objects, in column order) to a {@link DashboardQueryFn}. An empty
 * result has no columns, which every consumer here treats as "no data".
 *
 * @example
 * const query = storeQueryFn(await DuckDbStore.open({ path: ':memory:' }));
 */
export function storeQueryFn(store: DashboardStoreLike): DashboardQueryFn {
  return async (sql: string) => {
    const objects = await store.query(sql);
    const columns = objects.length === 0 ? [] : Object.keys(objects[0] as object);
    return { columns, rows: objects.map((o) => columns.map((c) => toJsValue(o[c]))) };
  };
}

function resolveQuery(source: DashboardSource): DashboardQueryFn {
  if ('store' in source) return storeQueryFn(source.store);
  if ('connection' in source) return duckDbQueryFn(source.connection);
  return source.query;
}

/** Grafana's interval rounding (kbn.roundInterval): bucket sizes people recognise. */
const ROUND_STEPS: ReadonlyArray<readonly [number, number]> = [
  [15, 10],
  [35, 20],
  [75, 50],
  [150, 100],
  [350, 200],
  [750, 500],
  [1_500, 1_000],
  [3_500, 2_000],
  [7_500, 5_000],
  [12_500, 10_000],
  [17_500, 15_000],
  [25_000, 20_000],
  [45_000, 30_000],
  [90_000, 60_000],
  [210_000, 120_000],
  [450_000, 300_000],
  [750_000, 600_000],
  [1_050_000, 900_000],
  [1_500_000, 1_200_000],
  [2_700_000, 1_800_000],
  [5_400_000, 3_600_000],
  [9_000_000, 7_200_000],
  [16_200_000, 10_800_000],
  [32_400_000, 21_600_000],
  [86_400_000, 43_200_000],
];

/**
 * The `$__interval_ms` Grafana would use: range / max data points, rounded, at least the panel's
 * minimum interval.
 *
 * @example
 * grafanaIntervalMs(15 * 60_000, 240, 10_000); // 10000
 */
export function grafanaIntervalMs(rangeMs: number, maxDataPoints: number, minIntervalMs: number): number {
  const raw = rangeMs / Math.max(1, maxDataPoints);
  let rounded = 86_400_000;
  for (const [below, value] of ROUND_STEPS) {
    if (raw < below) {
      rounded = value;
      break;
    }
  }
  return Math.max(rounded, minIntervalMs);
}

interface PanelData {
  columns?: string[];
  rows?: unknown[][];
  error?: string;
}

interface ServiceData {
  name: string;
  panels: Record<string, PanelData>;
  annotations: Array<{ timeMs: number; text: string }>;
}

/** `GET /api/data` response. */
export interface DashboardData {
  fromMs: number;
  toMs: number;
  intervalMs: number;
  services: ServiceData[];
  error?: string;
  queryMs: number;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

class DashboardQueries {
  readonly #model: LocalDashboard;
  readonly #query: DashboardQueryFn;
  readonly #opts: { services?: readonly string[] | undefined; maxServices: number };

  constructor(
    model: LocalDashboard,
    query: DashboardQueryFn,
    opts: { services?: readonly string[] | undefined; maxServices: number },
  ) {
    this.#model = model;
    this.#query = query;
    this.#opts = opts;
  }

  async #run(
    t: LocalTarget,
    fromMs: number,
    toMs: number,
    intervalMs: number,
    nowMs: number,
    service?: string,
    cache?: Map<string, Promise<QueryResult>>,
  ): Promise<QueryResult> {
    const sql = translateTimestreamSql(t.rawQuery, {
      database: t.database,
      table: t.table,
      ...(t.measure === undefined ? {} : { measure: t.measure }),
      fromMs,
      toMs,
      intervalMs,
      nowMs,
      variables: service === undefined ? {} : { [Dimension.service]: service },
    });
    // Stat panels repeat their time-series panel's query: run each distinct SQL once per refresh.
    const hit = cache?.get(sql);
    if (hit !== undefined) return hit;
    const run = this.#query(sql);
    cache?.set(sql, run);
    return run;
  }

  async services(fromMs: number, toMs: number, nowMs: number): Promise<string[]> {
    if (this.#opts.services !== undefined) return [...this.#opts.services];
    const t = this.#model.servicesTarget;
    if (t === undefined) return [];
    const r = await this.#run(t, fromMs, toMs, 10_000, nowMs);
    const col = r.columns.indexOf(Dimension.service);
    return r.rows
      .map((row) => row[Math.max(col, 0)])
      .filter((v): v is string => typeof v === 'string')
      .slice(0, this.#opts.maxServices);
  }

  async data(rangeMs: number, nowMs: number): Promise<DashboardData> {
    const started = performance.now();
    const toMs = nowMs;
    const fromMs = nowMs - rangeMs;
    let names: string[];
    const out: DashboardData = { fromMs, toMs, intervalMs: 0, services: [], queryMs: 0 };
    try {
      names = await this.services(fromMs, toMs, nowMs);
    } catch (err) {
      out.error = `no data yet (${errorMessage(err)})`;
      out.queryMs = Math.round(performance.now() - started);
      return out;
    }
    const cache = new Map<string, Promise<QueryResult>>();
    for (const name of names) {
      const s: ServiceData = { name, panels: {}, annotations: [] };
      for (const p of this.#model.panels) {
        const intervalMs = grafanaIntervalMs(rangeMs, MAX_DATA_POINTS, p.minIntervalMs);
        out.intervalMs = Math.max(out.intervalMs, intervalMs);
        const t = p.targets[0] as LocalTarget;
        try {
          const r = await this.#run(t, fromMs, toMs, intervalMs, nowMs, name, cache);
          s.panels[String(p.id)] = { columns: r.columns, rows: r.rows };
        } catch (err) {
          s.panels[String(p.id)] = { error: errorMessage(err) };
        }
      }
      for (const t of this.#model.annotationTargets) {
        try {
          const r = await this.#run(t, fromMs, toMs, 10_000, nowMs, name);
          const ti = r.columns.indexOf('time');
          const xi = r.columns.indexOf('text');
          for (const row of r.rows) {
            const timeMs = row[ti];
            if (typeof timeMs === 'number') s.annotations.push({ timeMs, text: String(row[xi] ?? '') });
          }
        } catch {
          // Annotations are decoration: a failing annotation query must not blank the panels.
        }
      }
      out.services.push(s);
    }
    out.queryMs = Math.round(performance.now() - started);
    return out;
  }
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'content-security-policy': CSP,
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));
}

/**
 * Starts the local dashboard.
 *
 * @example
 * const server = await startDashboardServer({ port: LocalPorts.dashboard, store });
 * console.log(`dashboard: ${server.url}`);
 * // ... on shutdown
 * await server.close();
 */
export async function startDashboardServer(options: DashboardServerOptions): Promise<DashboardServer> {
  const dashboardJson = options.dashboard ?? JSON.parse(await readFile(SERVICE_DASHBOARD, 'utf8'));
  const model = readDashboardModel(dashboardJson);
  const queries = new DashboardQueries(model, resolveQuery(options), {
    services: options.services,
    maxServices: options.maxServices ?? DEFAULT_MAX_SERVICES,
  });
  const now = options.now ?? Date.now;
  const refreshMs = options.refreshMs ?? DEFAULT_REFRESH_MS;
  const defaultRangeMs = options.rangeMs ?? DEFAULT_RANGE_MS;
  const assets = new Map<string, Buffer>();
  for (const a of new Set(Object.values(ASSETS).map((x) => x.file))) {
    assets.set(a, await readFile(new URL(a, ASSET_DIR)));
  }
  const meta = {
    title: model.title,
    description: model.description,
    refreshMs,
    rangeMs: defaultRangeMs,
    panels: model.panels,
    annotations: model.annotationTargets,
  };

  // Several tabs (or a slow refresh overlapping the next) share one run of the queries per range,
  // and a finished run is reused for `reuseMs`: in embedded mode DuckDB shares the CPU with the pipeline.
  const runs = new Map<number, { data: Promise<DashboardData>; doneAtMs: number | undefined }>();
  const reuseMs = Math.min(1_000, refreshMs / 2);
  const dataFor = (rangeMs: number): Promise<DashboardData> => {
    const hit = runs.get(rangeMs);
    if (hit !== undefined && (hit.doneAtMs === undefined || performance.now() - hit.doneAtMs < reuseMs)) {
      return hit.data;
    }
    const run = { data: queries.data(rangeMs, now()), doneAtMs: undefined as number | undefined };
    runs.set(rangeMs, run);
    run.data.then(
      () => {
        run.doneAtMs = performance.now();
      },
      () => runs.delete(rangeMs),
    );
    return run.data;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed: the dashboard is read-only\n');
      return;
    }
    const asset = ASSETS[url.pathname];
    if (asset !== undefined) {
      send(res, 200, asset.type, assets.get(asset.file) as Buffer);
      return;
    }
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204, { 'cache-control': 'max-age=86400' }).end();
      return;
    }
    if (url.pathname === '/healthz') {
      send(res, 200, 'text/plain; charset=utf-8', 'ok\n');
      return;
    }
    if (url.pathname === '/api/dashboard') {
      sendJson(res, 200, meta);
      return;
    }
    if (url.pathname === '/api/data') {
      const requested = Number(url.searchParams.get('rangeMs') ?? defaultRangeMs);
      if (!Number.isFinite(requested) || requested < MIN_RANGE_MS || requested > MAX_RANGE_MS) {
        sendJson(res, 400, { error: `rangeMs must be between ${MIN_RANGE_MS} and ${MAX_RANGE_MS}` });
        return;
      }
      sendJson(res, 200, await dataFor(Math.round(requested)));
      return;
    }
    send(res, 404, 'text/plain; charset=utf-8', `not found: ${url.pathname}\n`);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: errorMessage(err) });
      else res.destroy();
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err === undefined ? resolve() : reject(err)));
      }),
  };
}
