/**
 * What the three dashboards share: generator options, the data source variable, and the target
 * factories that bind a SELECT to a table and its multi-measure name.
 */

import { DatasourceVariableBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import {
  Dimension,
  Names,
  PipelineMeasureName,
  WindowDefaults,
  WindowMeasureName,
} from '../processors/schema.ts';
import { DashboardsError } from './errors.ts';
import {
  type DataSourceRef,
  type SelectSpec,
  TIMESTREAM_DATASOURCE_TYPE,
  type TimestreamFormatValue,
  type TimestreamQuery,
  timestreamTarget,
} from './timestreamQuery.ts';

/** Options of the generator; the checked-in JSON uses {@link defaultDashboardOptions}. */
export interface DashboardOptions {
  /** Timestream database (`$__database`). */
  database: string;
  windowsTable: string;
  pipelineTable: string;
  /** UID of the provisioned Timestream data source (default of the `datasource` variable, alert rules). */
  datasourceUid: string;
  /** Window size: the minimum panel interval, so a bucket never splits a window. */
  windowMs: number;
  /** How many services the fleet panels show. */
  topServices: number;
  /** Anomaly score at or above which a window is anomalous (drawn as a threshold line). */
  scoreThreshold: number;
  /** Static error-rate bound (fraction) drawn on error-rate panels and alerted on. */
  errorRateThreshold: number;
}

/** UIDs are stable so links, provisioning and alert annotations survive regeneration. */
export const DashboardUid = {
  fleet: 'tidewatch-fleet',
  service: 'tidewatch-service',
  pipeline: 'tidewatch-pipeline',
} as const;

/** Dashboard variable names (the service variable is named after its dimension). */
export const Variable = {
  datasource: 'datasource',
  service: Dimension.service,
} as const;

export const DASHBOARD_TAGS = ['tidewatch', 'generated'] as const;

/**
 * Defaults matching the processors' defaults (`schema.ts` names and `WindowDefaults`). The score
 * threshold is the processors' default (`DEFAULT_ALERT_RULE.scoreThreshold` in
 * `processors/transforms/detect/alertRules.ts`; a unit test keeps the two equal, since dashboards may
 * import only `schema.ts`); the error-rate bound is the static rule (error rate > 5 % alerts).
 */
export const defaultDashboardOptions: Readonly<DashboardOptions> = {
  database: Names.timestreamDatabase,
  windowsTable: Names.windowsTable,
  pipelineTable: Names.pipelineTable,
  datasourceUid: 'tidewatch-timestream',
  windowMs: WindowDefaults.windowMs,
  topServices: 5,
  scoreThreshold: 0.7,
  errorRateThreshold: 0.05,
};

/**
 * Fills unset options with defaults and checks them.
 *
 * @example
 * const o = resolveDashboardOptions({ database: 'prod_tidewatch' });
 */
export function resolveDashboardOptions(partial: Partial<DashboardOptions> = {}): DashboardOptions {
  const o: DashboardOptions = { ...defaultDashboardOptions };
  for (const [k, v] of Object.entries(partial) as Array<[keyof DashboardOptions, unknown]>) {
    if (v !== undefined) (o as unknown as Record<string, unknown>)[k] = v;
  }
  if (!Number.isInteger(o.windowMs) || o.windowMs < 1000) {
    throw new DashboardsError(
      `windowMs must be an integer ≥ 1000 (Grafana intervals are whole seconds), got ${o.windowMs}`,
    );
  }
  if (!(o.scoreThreshold > 0 && o.scoreThreshold <= 1)) {
    throw new DashboardsError(`scoreThreshold must be in (0, 1], got ${o.scoreThreshold}`);
  }
  if (!(o.errorRateThreshold > 0 && o.errorRateThreshold <= 1)) {
    throw new DashboardsError(`errorRateThreshold must be in (0, 1], got ${o.errorRateThreshold}`);
  }
  if (!Number.isInteger(o.topServices) || o.topServices < 1) {
    throw new DashboardsError(`topServices must be a positive integer, got ${o.topServices}`);
  }
  return o;
}

/** Panels reference the data source through the `datasource` variable, so one JSON fits every Grafana. */
export const panelDatasource: DataSourceRef = {
  type: TIMESTREAM_DATASOURCE_TYPE,
  uid: `\${${Variable.datasource}}`,
};

/** The `datasource` variable: any Timestream data source, defaulting to the provisioned one. */
export function datasourceVariable(o: DashboardOptions): DatasourceVariableBuilder {
  return new DatasourceVariableBuilder(Variable.datasource)
    .label('Timestream')
    .type(TIMESTREAM_DATASOURCE_TYPE)
    .current({ text: o.datasourceUid, value: o.datasourceUid });
}

/** Grafana interval string of the window size (`10s`): the minimum interval of window panels. */
export function windowInterval(o: DashboardOptions): string {
  return `${Math.round(o.windowMs / 1000)}s`;
}

/** A query on the windows table (multi-measure records named `WindowMeasureName`). */
export function windowsTarget(
  o: DashboardOptions,
  refId: string,
  select: SelectSpec,
  format: TimestreamFormatValue,
  datasource: DataSourceRef = panelDatasource,
): TimestreamQuery {
  return timestreamTarget({
    refId,
    datasource,
    database: o.database,
    table: o.windowsTable,
    measure: WindowMeasureName,
    format,
    select,
  });
}

/** A query on the pipeline-health table (records named `PipelineMeasureName`). */
export function pipelineTarget(
  o: DashboardOptions,
  refId: string,
  select: SelectSpec,
  format: TimestreamFormatValue,
): TimestreamQuery {
  return timestreamTarget({
    refId,
    datasource: panelDatasource,
    database: o.database,
    table: o.pipelineTable,
    measure: PipelineMeasureName,
    format,
    select,
  });
}

/** Grid position helper: Grafana's grid is 24 columns wide. */
export function grid(
  x: number,
  y: number,
  w: number,
  h: number,
): { x: number; y: number; w: number; h: number } {
  return { x, y, w, h };
}
