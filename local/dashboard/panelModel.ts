/**
 * Reads a generated Grafana dashboard (`dashboards/generated/tidewatch-service.json`) into the panel
 * descriptions the local dashboard renders: the same titles, units, thresholds, series styles and —
 * above all — the same Timestream queries, which `local/timestreamSql.ts` runs against DuckDB.
 *
 * Runtime code: reads JSON only, never imports the (dev-only) Grafana Foundation SDK or `dashboards/`.
 */

import { Dimension } from '../../processors/schema.ts';

/** A Timestream query as stored in dashboard JSON (the fields the local runner needs). */
export interface LocalTarget {
  refId: string;
  rawQuery: string;
  database: string;
  table: string;
  measure?: string;
}

/** Per-series style from Grafana field-config overrides (`matcher: byName`). */
export interface LocalSeriesStyle {
  displayName?: string;
  color?: string;
  fillBelowTo?: string;
  fillOpacity?: number;
  lineWidth?: number;
  axisPlacement?: string;
  min?: number;
  max?: number;
  unit?: string;
  decimals?: number;
  hideInLegend?: boolean;
  threshold?: { value: number; color: string };
}

export interface LocalPanel {
  id: number;
  kind: 'timeseries' | 'stat';
  title: string;
  description: string;
  unit: string;
  min?: number;
  max?: number;
  /** Grafana `custom.axisSoftMax`: the axis reaches at least this value. */
  softMax?: number;
  decimals?: number;
  /** The first non-base threshold step (drawn dashed; stat values above it turn its colour). */
  threshold?: { value: number; color: string };
  /** Reducer of a stat panel. */
  reducer?: string;
  /** Field filter of a stat panel (Grafana `reduceOptions.fields`, a `/regex/`). */
  fields?: string;
  /** Minimum interval in ms (Grafana panel `interval`). */
  minIntervalMs: number;
  series: Record<string, LocalSeriesStyle>;
  targets: LocalTarget[];
  gridPos: { x: number; y: number; w: number; h: number };
}

export interface LocalDashboard {
  uid: string;
  title: string;
  description: string;
  /** Query of the `service` variable. */
  servicesTarget?: LocalTarget;
  /** Annotation queries (processor alerts). */
  annotationTargets: LocalTarget[];
  panels: LocalPanel[];
}

type Json = Record<string, unknown>;

function obj(v: unknown): Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};
}
function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function str(v: unknown, fallback = ''): string {
  return typeof v === 'string' ? v : fallback;
}
function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Grafana duration (`10s`, `1m`, `500ms`) → ms; undefined when absent or unparsable. */
export function parseGrafanaDurationMs(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(v.trim());
  if (m === null) return undefined;
  const scale: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  return Number(m[1]) * (scale[m[2] as string] as number);
}

function target(v: unknown): LocalTarget | undefined {
  const t = obj(v);
  const rawQuery = str(t.rawQuery);
  if (rawQuery === '') return undefined;
  const out: LocalTarget = {
    refId: str(t.refId, 'A'),
    rawQuery,
    database: str(t.database),
    table: str(t.table),
  };
  if (typeof t.measure === 'string') out.measure = t.measure;
  return out;
}

function firstThreshold(thresholds: unknown): { value: number; color: string } | undefined {
  for (const step of arr(obj(thresholds).steps)) {
    const s = obj(step);
    const value = num(s.value);
    if (value !== undefined) return { value, color: str(s.color, 'red') };
  }
  return undefined;
}

function seriesStyles(fieldConfig: Json): Record<string, LocalSeriesStyle> {
  const out: Record<string, LocalSeriesStyle> = {};
  for (const o of arr(fieldConfig.overrides)) {
    const override = obj(o);
    const matcher = obj(override.matcher);
    if (matcher.id !== 'byName' || typeof matcher.options !== 'string') continue;
    const style: LocalSeriesStyle = {};
    for (const p of arr(override.properties)) {
      const { id, value } = obj(p);
      switch (id) {
        case 'displayName':
          if (typeof value === 'string') style.displayName = value;
          break;
        case 'color': {
          const c = str(obj(value).fixedColor);
          if (c !== '') style.color = c;
          break;
        }
        case 'custom.fillBelowTo':
          if (typeof value === 'string') style.fillBelowTo = value;
          break;
        case 'custom.fillOpacity':
          if (typeof value === 'number') style.fillOpacity = value;
          break;
        case 'custom.lineWidth':
          if (typeof value === 'number') style.lineWidth = value;
          break;
        case 'custom.axisPlacement':
          if (typeof value === 'string') style.axisPlacement = value;
          break;
        case 'min':
          if (typeof value === 'number') style.min = value;
          break;
        case 'max':
          if (typeof value === 'number') style.max = value;
          break;
        case 'unit':
          if (typeof value === 'string') style.unit = value;
          break;
        case 'decimals':
          if (typeof value === 'number') style.decimals = value;
          break;
        case 'custom.hideFrom':
          if (obj(value).legend === true) style.hideInLegend = true;
          break;
        case 'thresholds': {
          const t = firstThreshold(value);
          if (t !== undefined) style.threshold = t;
          break;
        }
        default:
          break;
      }
    }
    out[matcher.options] = style;
  }
  return out;
}

/**
 * Extracts the renderable panels and queries of a Grafana dashboard JSON model.
 *
 * @example
 * const model = readDashboardModel(JSON.parse(readFileSync(path, 'utf8')));
 * model.panels.map((p) => p.title); // ['Event rate', 'Error rate', ...]
 */
export function readDashboardModel(
  dashboard: unknown,
  defaultMinIntervalMs = 10_000,
  serviceVariable: string = Dimension.service,
): LocalDashboard {
  const d = obj(dashboard);
  const panels: LocalPanel[] = [];
  for (const p of arr(d.panels)) {
    const panel = obj(p);
    const kind = panel.type === 'timeseries' || panel.type === 'stat' ? panel.type : undefined;
    if (kind === undefined) continue;
    const fieldConfig = obj(panel.fieldConfig);
    const defaults = obj(fieldConfig.defaults);
    const targets = arr(panel.targets)
      .map(target)
      .filter((t): t is LocalTarget => t !== undefined);
    if (targets.length === 0) continue;
    const grid = obj(panel.gridPos);
    const lp: LocalPanel = {
      id: num(panel.id) ?? panels.length + 1,
      kind,
      title: str(panel.title),
      description: str(panel.description),
      unit: str(defaults.unit, 'short'),
      minIntervalMs: parseGrafanaDurationMs(panel.interval) ?? defaultMinIntervalMs,
      series: seriesStyles(fieldConfig),
      targets,
      gridPos: { x: num(grid.x) ?? 0, y: num(grid.y) ?? 0, w: num(grid.w) ?? 12, h: num(grid.h) ?? 8 },
    };
    const min = num(defaults.min);
    const max = num(defaults.max);
    const decimals = num(defaults.decimals);
    const threshold = firstThreshold(defaults.thresholds);
    const softMax = num(obj(defaults.custom).axisSoftMax);
    if (min !== undefined) lp.min = min;
    if (max !== undefined) lp.max = max;
    if (softMax !== undefined) lp.softMax = softMax;
    if (decimals !== undefined) lp.decimals = decimals;
    const thresholdsStyle = str(
      obj(obj(defaults.custom).thresholdsStyle).mode,
      kind === 'stat' ? 'color' : 'off',
    );
    if (threshold !== undefined && thresholdsStyle !== 'off') lp.threshold = threshold;
    if (kind === 'stat') {
      const reduceOptions = obj(obj(panel.options).reduceOptions);
      lp.reducer = str(arr(reduceOptions.calcs)[0], 'lastNotNull');
      const fields = str(reduceOptions.fields);
      if (fields !== '') lp.fields = fields;
    }
    panels.push(lp);
  }
  let servicesTarget: LocalTarget | undefined;
  for (const v of arr(obj(d.templating).list)) {
    const variable = obj(v);
    if (variable.type === 'query' && variable.name === serviceVariable)
      servicesTarget = target(variable.query);
  }
  const annotationTargets = arr(obj(d.annotations).list)
    .map((a) => obj(a))
    .filter((a) => a.enable !== false && a.builtIn !== 1)
    .map((a) => target(a.target))
    .filter((t): t is LocalTarget => t !== undefined);
  const model: LocalDashboard = {
    uid: str(d.uid),
    title: str(d.title),
    description: str(d.description),
    annotationTargets,
    panels,
  };
  if (servicesTarget !== undefined) model.servicesTarget = servicesTarget;
  return model;
}
