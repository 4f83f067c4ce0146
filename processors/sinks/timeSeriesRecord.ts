/**
 * The record every time-series sink accepts (cross-team contract, see /work/brief.md) and the
 * `TimeSeriesSink` interface. Timestream for LiveAnalytics is closed to new AWS customers since
 * 2025-06-20 (DESIGN.md §4), so the detect handler depends on this interface, never on Timestream:
 * `TimestreamSink` and the embedded `DuckDbStore` both implement it, and a second cloud backend
 * (e.g. Timestream for InfluxDB, ClickHouse) slots in beside them.
 */
import {
  Measure,
  type MeasureType,
  Names,
  type Outcome,
  PipelineMeasure,
  PipelineMeasureName,
  WindowMeasureName,
} from '../schema.ts';

/**
 * One series·window (or one pipeline-health sample) as a multi-measure row.
 *
 * @example
 * const r: SeriesWindowRecord = {
 *   table: Names.windowsTable,
 *   dimensions: { service: 'checkout', window_ms: '10000' },
 *   timeMs: 1_700_000_000_000,
 *   version: 1,
 *   measures: { count: 120, errors: 3, error_rate: 0.025 },
 * };
 */
export interface SeriesWindowRecord {
  /** `Names.windowsTable` or `Names.pipelineTable`. */
  table: string;
  /** Always includes `service` for windows. Empty-string values are treated as absent. */
  dimensions: Record<string, string>;
  /** Window start, epoch ms. */
  timeMs: number;
  /** Deterministic; higher for corrections (Timestream upsert: the higher version replaces). */
  version: number;
  /** Measure names from schema.ts. Non-finite values are omitted (Timestream rejects NaN/Infinity). */
  measures: Partial<Record<string, number>>;
}

/** Per-record outcome of a sink: `ok` (delivered), `retry` (try the parent again), `reject{code}`. */
export type SinkOutcome = Outcome<null>;

/** The one shared `ok` outcome: sinks return it for every delivered record instead of allocating. */
export const OK_OUTCOME: SinkOutcome = Object.freeze({ kind: 'ok', value: null });

/** Counters of one `write` call, for per-batch telemetry (DESIGN.md §5: telemetry per batch). */
export interface TimeSeriesWriteStats {
  /** Records passed in. */
  records: number;
  /** Records with an `ok` outcome. */
  written: number;
  /** Records with a `reject` outcome. */
  rejected: number;
  /** Records with a `retry` outcome (budget spent or a non-retryable service error). */
  retry: number;
  /** Records not sent because a record with the same key and a higher version was in the same call. */
  superseded: number;
  /** Service calls made, including retries. */
  calls: number;
  /** Calls retried after throttling, 5xx or network errors. */
  retriedCalls: number;
}

/** Result of {@link TimeSeriesSink.write}: `outcomes[i]` belongs to `records[i]`. */
export interface TimeSeriesWriteResult {
  outcomes: SinkOutcome[];
  stats: TimeSeriesWriteStats;
}

/** Options of one write. */
export interface TimeSeriesWriteOptions {
  /** Time budget in ms for the whole call, retries included (e.g. Lambda time left minus a margin). */
  budgetMs?: number;
}

/**
 * A time-series backend. Implementations never throw for data: every record gets an outcome.
 * Writes are idempotent for equal (table, time, dimensions, version, measures), so a redelivered
 * batch never double counts, and a higher `version` replaces the stored row.
 *
 * @example
 * async function flush(sink: TimeSeriesSink, records: SeriesWindowRecord[]) {
 *   const { outcomes } = await sink.write(records, { budgetMs: 10_000 });
 *   return outcomes.filter((o) => o.kind === 'retry').length;
 * }
 */
export interface TimeSeriesSink {
  /** Short backend name for logs and metrics (`timestream`, `duckdb`). */
  readonly name: string;
  write(
    records: readonly SeriesWindowRecord[],
    options?: TimeSeriesWriteOptions,
  ): Promise<TimeSeriesWriteResult>;
}

/** Fresh zeroed stats. */
export function emptyWriteStats(records: number): TimeSeriesWriteStats {
  return { records, written: 0, rejected: 0, retry: 0, superseded: 0, calls: 0, retriedCalls: 0 };
}

/** Fills `written`/`rejected`/`retry` from final outcomes. */
export function countOutcomes(outcomes: readonly SinkOutcome[], stats: TimeSeriesWriteStats): void {
  for (const o of outcomes) {
    if (o.kind === 'ok') stats.written++;
    else if (o.kind === 'reject') stats.rejected++;
    else stats.retry++;
  }
}

const measureTypesByTable = new Map<string, Map<string, MeasureType>>([
  [Names.windowsTable, new Map(Object.values(Measure).map((m) => [m.name, m.type]))],
  [Names.pipelineTable, new Map(Object.values(PipelineMeasure).map((m) => [m.name, m.type]))],
]);
const anyTableMeasureTypes = new Map<string, MeasureType>();
for (const m of [...Object.values(Measure), ...Object.values(PipelineMeasure)]) {
  if (!anyTableMeasureTypes.has(m.name)) anyTableMeasureTypes.set(m.name, m.type);
}

/**
 * The Timestream type of a measure: from schema.ts for the table, else any schema table declaring the
 * name, else `DOUBLE` (a counter written as DOUBLE still sums correctly; the reverse truncates).
 *
 * @example
 * measureTypeOf('windows', 'count'); // 'BIGINT'
 * measureTypeOf('windows', 'custom_ratio'); // 'DOUBLE'
 */
export function measureTypeOf(table: string, measureName: string): MeasureType {
  return (
    measureTypesByTable.get(table)?.get(measureName) ?? anyTableMeasureTypes.get(measureName) ?? 'DOUBLE'
  );
}

/**
 * The multi-measure record's `MeasureName` for a table: `WindowMeasureName` for windows,
 * `PipelineMeasureName` for pipeline, and `WindowMeasureName` for any other table.
 *
 * @example
 * measureNameOf('pipeline'); // 'health'
 */
export function measureNameOf(table: string): string {
  return table === Names.pipelineTable ? PipelineMeasureName : WindowMeasureName;
}

/**
 * The upsert identity of a record: table, time and the non-empty dimensions in name order (measure
 * name is implied by the table). Two records with the same key are the same Timestream row.
 *
 * @example
 * seriesRecordKey({ table: 'windows', timeMs: 0, dimensions: { service: 'a' }, version: 1, measures: {} });
 * // 'windows\u00000\u0000service=a'
 */
export function seriesRecordKey(r: SeriesWindowRecord): string {
  const names = Object.keys(r.dimensions).sort();
  let key = `${r.table}\u0000${r.timeMs}`;
  for (const name of names) {
    const value = r.dimensions[name];
    if (value !== undefined && value !== '') key += `\u0000${name}=${value}`;
  }
  return key;
}
