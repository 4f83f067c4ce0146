/**
 * A small typed builder for the Timestream SQL our Grafana panels run, and the query object the
 * Amazon Timestream data source (`grafana-timestream-datasource`) stores in dashboard JSON.
 *
 * The Grafana Foundation SDK has no Timestream query type, so this module adds one. Every identifier
 * in a query comes from `processors/schema.ts` (a measure or dimension object, never a string typed
 * here), and every query reads `"$__database"."$__table"`, filters with `$__timeFilter` and
 * `measure_name = '$__measure'`, and bins with `$__interval_ms` — the data source's macros
 * (https://grafana.com/docs/plugins/grafana-timestream-datasource/latest/query-editor/), so the same
 * JSON works against any database/table the target names, and `local/timestreamSql.ts` can run it
 * against the embedded DuckDB store.
 */

import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';
import type { DimensionName, MeasureType } from '../processors/schema.ts';
import { DashboardsError } from './errors.ts';

/** The data source plugin id (`type` of every data source reference). */
export const TIMESTREAM_DATASOURCE_TYPE = 'grafana-timestream-datasource';

/**
 * Macros of the Timestream data source. `$__interval_ms` becomes a duration literal such as
 * `10000ms` (for `bin()`), `$__interval_raw_ms` the bare number of milliseconds.
 */
export const TimestreamMacro = {
  database: '$__database',
  table: '$__table',
  measure: '$__measure',
  timeFilter: '$__timeFilter',
  intervalMs: '$__interval_ms',
  intervalRawMs: '$__interval_raw_ms',
} as const;

/**
 * "Format as" of a Timestream query: the numbering of grafana-plugin-sdk-go `sqlutil.FormatQueryOption`
 * (0 = time series, converted long → wide by the plugin; 1 = table), shared by Grafana's AWS SQL plugins.
 */
export const TimestreamFormat = {
  timeSeries: 0,
  table: 1,
} as const;
export type TimestreamFormatValue = (typeof TimestreamFormat)[keyof typeof TimestreamFormat];

/** Columns every Timestream table has (they are not ours to name). */
export const TimestreamColumn = {
  time: 'time',
  measureName: 'measure_name',
} as const;

/** Field names Grafana gives meaning to in annotation query results. */
export const GrafanaField = {
  text: 'text',
} as const;

/**
 * Suffixes of derived aliases: a per-second rate (`records` → `records_per_s`), a distinct count of a
 * dimension (`service_count`), a bucket's maximum or mean of a measure (`duration_ms_max`).
 */
export const AliasSuffix = {
  perSecond: '_per_s',
  count: '_count',
  max: '_max',
  avg: '_avg',
} as const;

/** A measure as `schema.ts` declares it (`Measure.count`, `PipelineMeasure.iteratorAgeMs`, ...). */
export interface MeasureDef {
  readonly name: string;
  readonly type: MeasureType;
}

/** A rendered SQL fragment; only the helpers below create them, from schema objects. */
export interface SqlExpr {
  readonly sql: string;
}

/** A result column name: a schema name, `time`, a Grafana field or a per-second alias of a measure. */
export interface ColumnAlias {
  readonly name: string;
}

export interface SelectColumn {
  readonly expr: SqlExpr;
  readonly as: ColumnAlias;
}

export interface OrderTerm {
  readonly expr: SqlExpr;
  readonly desc?: boolean;
}

/**
 * One SELECT over the target's table. The FROM clause, `$__timeFilter` and the measure-name filter
 * are always added, so no query can forget them.
 */
export interface SelectSpec {
  readonly columns: readonly SelectColumn[];
  /** Extra conditions, ANDed after the time and measure filters. */
  readonly where?: readonly SqlExpr[];
  readonly groupBy?: readonly SqlExpr[];
  readonly orderBy: readonly OrderTerm[];
  readonly limit?: number;
}

const IDENT_RE = /^[a-z_][a-z0-9_]*$/;

function quoteIdent(name: string): string {
  // Names come from schema.ts; refuse anything that would need escaping rather than escape it.
  if (!IDENT_RE.test(name)) throw new DashboardsError(`not a plain identifier: ${JSON.stringify(name)}`);
  return `"${name}"`;
}

function expr(sql: string): SqlExpr {
  return { sql };
}

function measureRef(m: MeasureDef | SqlExpr): string {
  return 'sql' in m ? m.sql : quoteIdent(m.name);
}

function numberLiteral(n: number): string {
  if (!Number.isFinite(n)) throw new DashboardsError(`not a finite number: ${n}`);
  return String(n);
}

/** Grafana template variable reference inside a SQL string literal: `'${service}'`. */
function variableLiteral(variable: string): string {
  if (!IDENT_RE.test(variable)) throw new DashboardsError(`not a variable name: ${JSON.stringify(variable)}`);
  return `'\${${variable}}'`;
}

/**
 * Column aliases. Every alias is a schema name (or derived from one), so result columns carry the
 * same names in Grafana, in the local dashboard and in the tests.
 *
 * @example
 * alias.of(Measure.errorRate)            // error_rate
 * alias.perSecond(PipelineMeasure.records) // records_per_s
 */
export const alias = {
  time: { name: TimestreamColumn.time } as ColumnAlias,
  text: { name: GrafanaField.text } as ColumnAlias,
  of(m: MeasureDef): ColumnAlias {
    return { name: m.name };
  },
  dim(d: DimensionName): ColumnAlias {
    return { name: d };
  },
  perSecond(m: MeasureDef): ColumnAlias {
    return { name: `${m.name}${AliasSuffix.perSecond}` };
  },
  countOf(d: DimensionName): ColumnAlias {
    return { name: `${d}${AliasSuffix.count}` };
  },
  maxOf(m: MeasureDef): ColumnAlias {
    return { name: `${m.name}${AliasSuffix.max}` };
  },
  avgOf(m: MeasureDef): ColumnAlias {
    return { name: `${m.name}${AliasSuffix.avg}` };
  },
};

/**
 * SQL fragments, each valid Timestream SQL (https://docs.aws.amazon.com/timestream/latest/developerguide/reference.html).
 *
 * @example
 * ts.ratio(Measure.errors, Measure.count).sql
 * // CAST(SUM("errors") AS DOUBLE) / NULLIF(SUM("count"), 0)
 */
export const ts = {
  /** The record time column. */
  time: expr(TimestreamColumn.time),
  /** A result column by its alias (for ORDER BY). */
  ref(a: ColumnAlias): SqlExpr {
    return expr(quoteIdent(a.name));
  },
  /** `bin(time, $__interval_ms)`: the panel's time bucket. */
  bin(): SqlExpr {
    return expr(`bin(${TimestreamColumn.time}, ${TimestreamMacro.intervalMs})`);
  },
  col(m: MeasureDef): SqlExpr {
    return expr(quoteIdent(m.name));
  },
  dim(d: DimensionName): SqlExpr {
    return expr(quoteIdent(d));
  },
  sum(m: MeasureDef | SqlExpr): SqlExpr {
    return expr(`SUM(${measureRef(m)})`);
  },
  max(m: MeasureDef | SqlExpr): SqlExpr {
    return expr(`MAX(${measureRef(m)})`);
  },
  min(m: MeasureDef | SqlExpr): SqlExpr {
    return expr(`MIN(${measureRef(m)})`);
  },
  avg(m: MeasureDef | SqlExpr): SqlExpr {
    return expr(`AVG(${measureRef(m)})`);
  },
  /**
   * The value of `m` in the bucket's row with the largest `by` (`max_by`, in both dialects): keeps
   * columns of one record together, e.g. the band of the window with the highest score.
   */
  maxBy(m: MeasureDef, by: MeasureDef): SqlExpr {
    return expr(`max_by(${quoteIdent(m.name)}, ${quoteIdent(by.name)})`);
  },
  /** `GREATEST(e, n)`: clamp a derived value to a floor (none of our metrics can be negative). */
  atLeast(e: SqlExpr, n: number): SqlExpr {
    return expr(`GREATEST(${e.sql}, ${numberLiteral(n)})`);
  },
  /** Number of distinct values of a dimension. */
  countDistinct(d: DimensionName): SqlExpr {
    return expr(`COUNT(DISTINCT ${quoteIdent(d)})`);
  },
  /** `num / den` over the bucket, as a DOUBLE (BIGINT division would truncate). */
  ratio(num: MeasureDef, den: MeasureDef): SqlExpr {
    return expr(`CAST(SUM(${quoteIdent(num.name)}) AS DOUBLE) / NULLIF(SUM(${quoteIdent(den.name)}), 0)`);
  },
  /**
   * A per-window rate summed over series and averaged over the windows in the bucket: windows are
   * tumbling and aligned across series, so `SUM(rate) / COUNT(DISTINCT time)` is the total rate, and it
   * does not saw-tooth when the bucket holds a varying number of windows.
   */
  windowRate(rate: MeasureDef): SqlExpr {
    return expr(`SUM(${quoteIdent(rate.name)}) / COUNT(DISTINCT ${TimestreamColumn.time})`);
  },
  /** `windowRate(rate) × part / whole`: e.g. 5xx responses per second. */
  windowRateShare(rate: MeasureDef, part: MeasureDef, whole: MeasureDef): SqlExpr {
    return expr(
      `SUM(${quoteIdent(rate.name)}) / COUNT(DISTINCT ${TimestreamColumn.time}) * SUM(${quoteIdent(part.name)}) / NULLIF(SUM(${quoteIdent(whole.name)}), 0)`,
    );
  },
  /**
   * Mean of a per-window value weighted by another (latency quantiles by latency count). Exact when a
   * bucket holds one window of one series; otherwise the usual approximation of merged quantiles.
   */
  weightedMean(value: MeasureDef, weight: MeasureDef): SqlExpr {
    const v = quoteIdent(value.name);
    const w = quoteIdent(weight.name);
    return expr(`SUM(${v} * ${w}) / NULLIF(SUM(CASE WHEN ${v} IS NULL THEN 0 ELSE ${w} END), 0)`);
  },
  /** Per-invocation counters (pipeline table) as a per-second rate over the bucket. */
  perSecond(m: MeasureDef): SqlExpr {
    return expr(`SUM(${quoteIdent(m.name)}) * 1000.0 / ${TimestreamMacro.intervalRawMs}`);
  },
  /** `CREATE_TIME_SERIES(time, m)`: the wide series Grafana alerting needs from Timestream. */
  createTimeSeries(m: MeasureDef | SqlExpr): SqlExpr {
    return expr(`CREATE_TIME_SERIES(${TimestreamColumn.time}, ${measureRef(m)})`);
  },
  /** `'<prefix>' || CAST(ROUND(m, digits) AS VARCHAR)`: annotation text. */
  labelled(prefix: string, m: MeasureDef, digits: number): SqlExpr {
    if (/['\\]/.test(prefix))
      throw new DashboardsError(`annotation text prefix must not contain quotes: ${prefix}`);
    return expr(`'${prefix}' || CAST(ROUND(${quoteIdent(m.name)}, ${numberLiteral(digits)}) AS VARCHAR)`);
  },
  /** `"<dim>" = '${variable}'`: filter on a dashboard variable. */
  eqVariable(d: DimensionName, variable: string): SqlExpr {
    return expr(`${quoteIdent(d)} = ${variableLiteral(variable)}`);
  },
  /** `"<m>" = <n>` */
  eq(m: MeasureDef, n: number): SqlExpr {
    return expr(`${quoteIdent(m.name)} = ${numberLiteral(n)}`);
  },
  /** `"<m>" > <n>` */
  gt(m: MeasureDef, n: number): SqlExpr {
    return expr(`${quoteIdent(m.name)} > ${numberLiteral(n)}`);
  },
  /** `"<m>" IS NOT NULL` */
  notNull(m: MeasureDef): SqlExpr {
    return expr(`${quoteIdent(m.name)} IS NOT NULL`);
  },
  /** `"<dim>" IN (SELECT "<dim>" ... top n by rankBy)`: restrict a long-format panel to the top n. */
  inTop(d: DimensionName, rankBy: SqlExpr, n: number): SqlExpr {
    const inner = renderSelect(
      {
        columns: [{ expr: ts.dim(d), as: alias.dim(d) }],
        groupBy: [ts.dim(d)],
        orderBy: [{ expr: rankBy, desc: true }],
        limit: n,
      },
      '    ',
    );
    return expr(`${quoteIdent(d)} IN (\n${inner}\n  )`);
  },
};

function renderColumn(c: SelectColumn): string {
  // Aliases are quoted like every other identifier (`count` is a function name in both dialects).
  const quoted = c.as.name === TimestreamColumn.time ? c.as.name : quoteIdent(c.as.name);
  return c.expr.sql === quoted ? c.expr.sql : `${c.expr.sql} AS ${quoted}`;
}

/**
 * Renders a SELECT over `"$__database"."$__table"`, always filtered by `$__timeFilter` and
 * `measure_name = '$__measure'`.
 *
 * @example
 * renderSelect({
 *   columns: [{ expr: ts.bin(), as: alias.time }, { expr: ts.ratio(Measure.errors, Measure.count), as: alias.of(Measure.errorRate) }],
 *   groupBy: [ts.bin()],
 *   orderBy: [{ expr: ts.time }],
 * });
 */
export function renderSelect(spec: SelectSpec, indent = ''): string {
  if (spec.columns.length === 0) throw new DashboardsError('a query needs at least one column');
  if (spec.orderBy.length === 0) throw new DashboardsError('every query must be ordered (ORDER BY)');
  const lines: string[] = [];
  lines.push(`SELECT ${spec.columns.map(renderColumn).join(`,\n${indent}  `)}`);
  lines.push(`FROM "${TimestreamMacro.database}"."${TimestreamMacro.table}"`);
  lines.push(`WHERE ${TimestreamMacro.timeFilter}`);
  lines.push(`  AND ${TimestreamColumn.measureName} = '${TimestreamMacro.measure}'`);
  for (const w of spec.where ?? []) lines.push(`  AND ${w.sql}`);
  if (spec.groupBy !== undefined && spec.groupBy.length > 0) {
    lines.push(`GROUP BY ${spec.groupBy.map((g) => g.sql).join(', ')}`);
  }
  lines.push(
    `ORDER BY ${spec.orderBy.map((o) => (o.desc === true ? `${o.expr.sql} DESC` : o.expr.sql)).join(', ')}`,
  );
  if (spec.limit !== undefined) {
    if (!Number.isInteger(spec.limit) || spec.limit <= 0)
      throw new DashboardsError(`bad LIMIT ${spec.limit}`);
    lines.push(`LIMIT ${spec.limit}`);
  }
  return lines.map((l) => indent + l).join('\n');
}

/** A data source reference as dashboards store it. */
export interface DataSourceRef {
  type: string;
  uid: string;
}

/**
 * The query object of the Timestream data source as stored in dashboard JSON and alert rules
 * (fields of the plugin's query model: `rawQuery`, and `database` / `table` / `measure`, which
 * populate the macros).
 */
export interface TimestreamQuery {
  refId: string;
  datasource: DataSourceRef;
  queryType: 'raw';
  rawQuery: string;
  database: string;
  table: string;
  measure: string;
  format: TimestreamFormatValue;
  /** Fetch every result page before returning; the plugin requires it for alerting. */
  waitForResult?: boolean;
}

export interface TimestreamTargetArgs {
  refId: string;
  datasource: DataSourceRef;
  database: string;
  table: string;
  /** The multi-measure record name (`WindowMeasureName` / `PipelineMeasureName`): `$__measure`. */
  measure: string;
  select: SelectSpec;
  format: TimestreamFormatValue;
  waitForResult?: boolean;
}

/**
 * Builds the stored query object for a SELECT.
 *
 * @example
 * const q = timestreamTarget({ refId: 'A', datasource, database: 'tidewatch', table: 'windows',
 *   measure: WindowMeasureName, format: TimestreamFormat.timeSeries, select });
 */
export function timestreamTarget(args: TimestreamTargetArgs): TimestreamQuery {
  const q: TimestreamQuery = {
    refId: args.refId,
    datasource: { type: args.datasource.type, uid: args.datasource.uid },
    queryType: 'raw',
    rawQuery: renderSelect(args.select),
    database: args.database,
    table: args.table,
    measure: args.measure,
    format: args.format,
  };
  if (args.waitForResult !== undefined) q.waitForResult = args.waitForResult;
  return q;
}

/**
 * Adapter so a {@link TimestreamQuery} can be given to Foundation SDK panel builders (`withTarget`).
 *
 * @example
 * new TimeseriesPanelBuilder().withTarget(new TimestreamQueryBuilder(timestreamTarget(args)));
 */
export class TimestreamQueryBuilder implements Builder<Dataquery> {
  readonly #query: TimestreamQuery;
  constructor(query: TimestreamQuery) {
    this.#query = query;
  }
  build(): Dataquery {
    // The SDK's Dataquery is a structural marker; JSON.stringify drops the marker function.
    return { ...this.#query, _implementsDataqueryVariant() {} } as unknown as Dataquery;
  }
}
