/**
 * The embedded mode's time-series store: a DuckDB file laid out the way Timestream presents
 * multi-measure records to SQL (cross-team contract, /work/brief.md), so dashboard SQL written for
 * Timestream runs here almost unchanged:
 *
 * - DuckDB schema = Timestream database (`tidewatch`), table = Timestream table (`windows`,
 *   `pipeline`): `"tidewatch"."windows"` is valid in both.
 * - Columns: `time TIMESTAMP` (window start, ms precision), one nullable `VARCHAR` per dimension name
 *   in schema.ts `Dimension` (unknown dimensions are added with ALTER TABLE), `measure_name VARCHAR`,
 *   one column per measure of the table (`Measure` for windows, `PipelineMeasure` for pipeline; unknown
 *   measures added with their type), and `version BIGINT`.
 * - Upsert as Timestream: same time + dimensions + measure_name → a higher `version` replaces the row;
 *   equal or lower version is accepted only when the measure values are identical, else rejected with
 *   the existing version.
 *
 * DuckDB lets one process open a file read-write, so one process owns the store (the `tidewatch start`
 * process: the Timestream endpoint writes through it and the local dashboard reads through
 * {@link DuckDbStore.query}). Writes are serialized on one connection; reads use another.
 */
import {
  type DuckDBConnection,
  DuckDBInstance,
  DuckDBTimestampValue,
  type DuckDBValue,
} from '@duckdb/node-api';
import {
  Dimension,
  Measure,
  type MeasureType,
  Names,
  PipelineMeasure,
  RejectCode,
} from '../processors/schema.ts';
import {
  countOutcomes,
  emptyWriteStats,
  measureNameOf,
  measureTypeOf,
  OK_OUTCOME,
  type SeriesWindowRecord,
  type SinkOutcome,
  type TimeSeriesSink,
  type TimeSeriesWriteResult,
} from '../processors/sinks/timeSeriesRecord.ts';

/** A DuckDB store could not be opened or a statement failed. Keeps the DuckDB error in `cause`. */
export class DuckDbStoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DuckDbStoreError';
  }
}

/** One row to upsert (a Timestream multi-measure record after merging CommonAttributes). */
export interface StoreRow {
  timeMs: number;
  dimensions: Record<string, string>;
  measureName: string;
  measures: Record<string, number>;
  /** Types of measures not declared in schema.ts (from the request's `MeasureValues[].Type`). */
  measureTypes?: Record<string, MeasureType>;
  version: number;
}

/** What an upsert did with one row. */
export type UpsertResult =
  | { readonly kind: 'inserted' | 'updated' | 'unchanged' }
  | { readonly kind: 'rejected'; readonly reason: string; readonly existingVersion?: number };

/** Options of {@link DuckDbStore.open}. */
export interface DuckDbStoreOptions {
  /** DuckDB file path, or `:memory:`. */
  path: string;
  /** Tables to create up front. Default `tidewatch.windows` and `tidewatch.pipeline`. */
  tables?: ReadonlyArray<{ database: string; table: string }>;
  /** Schema (Timestream database) used by {@link DuckDbStore.write}. Default `Names.timestreamDatabase`. */
  database?: string;
}

type ColumnType = 'TIMESTAMP' | 'VARCHAR' | 'DOUBLE' | 'BIGINT';
/** Catalog alias the DuckDB file is attached under. */
const STORE_CATALOG = 'tidewatch_store';
const RESERVED = new Set(['time', 'measure_name', 'version']);

const INSERTED = Object.freeze({ kind: 'inserted' as const });
const UPDATED = Object.freeze({ kind: 'updated' as const });
const UNCHANGED = Object.freeze({ kind: 'unchanged' as const });

/**
 * Quotes a SQL identifier for DuckDB.
 *
 * @example
 * quoteIdent('status_class'); // '"status_class"'
 */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function tableRef(database: string, table: string): string {
  return `${quoteIdent(database)}.${quoteIdent(table)}`;
}

function plainValue(v: unknown): unknown {
  if (typeof v === 'bigint') {
    return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(v)
      : v.toString();
  }
  return v;
}

function measuresOfTable(table: string): ReadonlyArray<{ name: string; type: MeasureType }> {
  if (table === Names.windowsTable) return Object.values(Measure);
  if (table === Names.pipelineTable) return Object.values(PipelineMeasure);
  return [];
}

interface ExistingRow {
  rowid: bigint | undefined;
  version: number;
  /** Measure values; loaded only for stored rows a batch row might equal (same or lower version). */
  values: Map<string, number | null> | undefined;
  /** Index into the pending inserts when this row is being inserted by the current batch. */
  pending: number;
}

/**
 * DuckDB-backed store with Timestream layout and upsert semantics; also a {@link TimeSeriesSink}.
 *
 * @example
 * const store = await DuckDbStore.open({ path: join(dataDir, 'tidewatch.duckdb') });
 * await store.write(records);
 * const rows = await store.query('SELECT service, count FROM "tidewatch"."windows" ORDER BY time DESC LIMIT 10');
 * await store.close();
 */
export class DuckDbStore implements TimeSeriesSink {
  readonly name = 'duckdb';
  readonly path: string;
  readonly database: string;
  /** DuckDB catalog the tables live in (`memory` for `:memory:`, else the attach alias). */
  private readonly catalog: string;
  private readonly instance: DuckDBInstance;
  private readonly writer: DuckDBConnection;
  private readonly reader: DuckDBConnection;
  private readonly columns = new Map<string, Map<string, ColumnType>>();
  private writeChain: Promise<unknown> = Promise.resolve();
  private readChain: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    path: string,
    database: string,
    instance: DuckDBInstance,
    writer: DuckDBConnection,
    reader: DuckDBConnection,
  ) {
    this.path = path;
    this.database = database;
    this.catalog = path === ':memory:' ? 'memory' : STORE_CATALOG;
    this.instance = instance;
    this.writer = writer;
    this.reader = reader;
  }

  /**
   * Opens (creating if needed) the DuckDB file and its tables.
   * @throws DuckDbStoreError if the file is locked by another process or cannot be created.
   */
  static async open(options: DuckDbStoreOptions): Promise<DuckDbStore> {
    let instance: DuckDBInstance;
    let writer: DuckDBConnection;
    let reader: DuckDBConnection;
    try {
      // The file is ATTACHed under a fixed catalog alias: opening it directly would name the catalog
      // after the file stem, and a file called `tidewatch.duckdb` would make `"tidewatch"."windows"`
      // ambiguous between catalog and schema.
      instance = await DuckDBInstance.create(':memory:');
      writer = await instance.connect();
      reader = await instance.connect();
      if (options.path !== ':memory:') {
        await writer.run(`ATTACH '${options.path.replace(/'/g, "''")}' AS ${STORE_CATALOG}`);
        await writer.run(`USE ${STORE_CATALOG}`);
        await reader.run(`USE ${STORE_CATALOG}`);
      }
    } catch (err) {
      const msg = (err as Error).message ?? String(err);
      const hint = /lock/i.test(msg)
        ? ' Another process (a running `tidewatch start`?) has it open read-write; stop it or use another --data-dir.'
        : '';
      throw new DuckDbStoreError(`cannot open DuckDB file '${options.path}': ${msg}.${hint}`, { cause: err });
    }
    const store = new DuckDbStore(
      options.path,
      options.database ?? Names.timestreamDatabase,
      instance,
      writer,
      reader,
    );
    const tables = options.tables ?? [
      { database: Names.timestreamDatabase, table: Names.windowsTable },
      { database: Names.timestreamDatabase, table: Names.pipelineTable },
    ];
    for (const t of tables) await store.ensureTable(t.database, t.table);
    return store;
  }

  private serialize<T>(chain: 'write' | 'read', fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new DuckDbStoreError(`store '${this.path}' is closed`));
    const prev = chain === 'write' ? this.writeChain : this.readChain;
    const run = prev.then(fn, fn);
    const settled = run.catch(() => undefined);
    if (chain === 'write') this.writeChain = settled;
    else this.readChain = settled;
    return run;
  }

  /** Whether `database.table` exists (created by this store or found in the file). */
  async hasTable(database: string, table: string): Promise<boolean> {
    if (this.columns.has(`${database}.${table}`)) return true;
    return (await this.loadColumns(database, table)) !== undefined;
  }

  private async loadColumns(database: string, table: string): Promise<Map<string, ColumnType> | undefined> {
    const reader = await this.writer.runAndReadAll(
      'SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog = current_database() AND table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
      [database, table],
    );
    const rows = reader.getRowObjectsJS();
    if (rows.length === 0) return undefined;
    const cols = new Map<string, ColumnType>();
    for (const r of rows) cols.set(String(r.column_name), String(r.data_type) as ColumnType);
    this.columns.set(`${database}.${table}`, cols);
    return cols;
  }

  /** Creates the schema and table with the contract's columns if missing. */
  ensureTable(database: string, table: string): Promise<void> {
    return this.serialize('write', async () => {
      await this.ensureTableNow(database, table);
    });
  }

  private async ensureTableNow(database: string, table: string): Promise<Map<string, ColumnType>> {
    const cached = this.columns.get(`${database}.${table}`) ?? (await this.loadColumns(database, table));
    if (cached !== undefined) return cached;
    const defs = ['"time" TIMESTAMP NOT NULL'];
    for (const d of Object.values(Dimension)) defs.push(`${quoteIdent(d)} VARCHAR`);
    defs.push('"measure_name" VARCHAR NOT NULL');
    for (const m of measuresOfTable(table)) defs.push(`${quoteIdent(m.name)} ${m.type}`);
    defs.push('"version" BIGINT NOT NULL');
    try {
      await this.writer.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(database)}`);
      await this.writer.run(`CREATE TABLE IF NOT EXISTS ${tableRef(database, table)} (${defs.join(', ')})`);
    } catch (err) {
      throw new DuckDbStoreError(`cannot create ${database}.${table}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    return (await this.loadColumns(database, table))!;
  }

  /** Column names and types of a table, in order (for dashboards and tests). */
  async describe(database: string, table: string): Promise<Array<{ name: string; type: string }>> {
    const cols = this.columns.get(`${database}.${table}`) ?? (await this.loadColumns(database, table));
    return cols === undefined ? [] : [...cols].map(([name, type]) => ({ name, type }));
  }

  /**
   * Upserts rows into `database.table` (created if missing) with Timestream version semantics, in order.
   * `result[i]` belongs to `rows[i]`.
   */
  upsert(database: string, table: string, rows: readonly StoreRow[]): Promise<UpsertResult[]> {
    return this.serialize('write', () => this.upsertNow(database, table, rows));
  }

  private async upsertNow(
    database: string,
    table: string,
    rows: readonly StoreRow[],
  ): Promise<UpsertResult[]> {
    const results: UpsertResult[] = new Array(rows.length);
    if (rows.length === 0) return results;
    const cols = await this.ensureTableNow(database, table);
    const ref = tableRef(database, table);

    // 1. Validate names and add missing columns.
    const addColumns = new Map<string, ColumnType>();
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const reason = this.checkNames(row, cols, addColumns, table);
      if (reason !== undefined) results[i] = { kind: 'rejected', reason };
    }
    for (const [name, type] of addColumns) {
      await this.writer.run(`ALTER TABLE ${ref} ADD COLUMN ${quoteIdent(name)} ${type}`);
      cols.set(name, type);
    }
    const dimCols: string[] = [];
    const measureCols: string[] = [];
    for (const [name, type] of cols) {
      if (RESERVED.has(name)) continue;
      if (type === 'VARCHAR') dimCols.push(name);
      else measureCols.push(name);
    }
    dimCols.sort();

    const keyOf = (
      timeMs: number,
      measureName: string,
      dims: (name: string) => string | null | undefined,
    ) => {
      let key = `${timeMs}\u0000${measureName}`;
      for (const d of dimCols) {
        const v = dims(d);
        key += v === null || v === undefined || v === '' ? '\u0000\u0001' : `\u0000=${v}`;
      }
      return key;
    };

    // 2. Load the stored rows the batch may collide with: one range scan over the batch's time span, narrowed by a dimension every row has (usually
    // `service`), reading key columns only. Literals, not parameters: DuckDB binds parameter lists
    // slowly and cannot prune row groups on `IN (epoch_ms($n))`. Times are validated integers.
    const existing = new Map<string, ExistingRow>();
    let minMs = Number.POSITIVE_INFINITY;
    let maxMs = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < rows.length; i++) {
      if (results[i] !== undefined) continue;
      const t = rows[i]!.timeMs;
      if (!Number.isSafeInteger(t)) throw new DuckDbStoreError(`time ${t} is not an integer of ms`);
      if (t < minMs) minMs = t;
      if (t > maxMs) maxMs = t;
    }
    if (minMs > maxMs) return results;
    let narrow = '';
    for (const d of [Dimension.service, ...dimCols]) {
      const values = new Set<string>();
      let everyRow = true;
      for (let i = 0; i < rows.length && everyRow; i++) {
        if (results[i] !== undefined) continue;
        const v = rows[i]!.dimensions[d];
        if (v === undefined || v === '') everyRow = false;
        else values.add(v);
      }
      if (everyRow && cols.get(d) === 'VARCHAR') {
        narrow = ` AND ${quoteIdent(d)} IN (${[...values].map((v) => `'${v.replace(/'/g, "''")}'`).join(', ')})`;
        break;
      }
    }
    const keyReader = await this.writer.runAndReadAll(
      `SELECT ${['rowid AS "__rowid"', 'epoch_ms("time") AS "__ms"', '"measure_name"', '"version"', ...dimCols.map(quoteIdent)].join(', ')} FROM ${ref} WHERE "time" BETWEEN epoch_ms(${minMs}::BIGINT) AND epoch_ms(${maxMs}::BIGINT)${narrow}`,
    );
    for (const r of keyReader.getRowObjectsJS()) {
      const key = keyOf(Number(r.__ms), String(r.measure_name), (d) => r[d] as string | null);
      existing.set(key, {
        rowid: r.__rowid as bigint,
        version: Number(r.version),
        values: undefined,
        pending: -1,
      });
    }
    // Values only for stored rows that a row of this batch does not outrank: the equality check.
    const needValues = new Map<bigint, ExistingRow>();
    for (let i = 0; i < rows.length; i++) {
      if (results[i] !== undefined) continue;
      const row = rows[i]!;
      const prev = existing.get(keyOf(row.timeMs, row.measureName, (d) => row.dimensions[d]));
      if (prev?.rowid !== undefined && row.version <= prev.version) needValues.set(prev.rowid, prev);
    }
    if (needValues.size > 0) {
      const valueReader = await this.writer.runAndReadAll(
        `SELECT ${['rowid AS "__rowid"', ...measureCols.map(quoteIdent)].join(', ')} FROM ${ref} WHERE rowid IN (${[...needValues.keys()].join(', ')})`,
      );
      for (const r of valueReader.getRowObjectsJS()) {
        const values = new Map<string, number | null>();
        for (const m of measureCols) {
          const v = r[m];
          values.set(m, v === null || v === undefined ? null : Number(v));
        }
        needValues.get(r.__rowid as bigint)!.values = values;
      }
    }

    // 3. Decide per row, in order.
    const deletes: bigint[] = [];
    const inserts: StoreRow[] = [];
    for (let i = 0; i < rows.length; i++) {
      if (results[i] !== undefined) continue;
      const row = rows[i]!;
      const key = keyOf(row.timeMs, row.measureName, (d) => row.dimensions[d]);
      const prev = existing.get(key);
      const values = new Map<string, number | null>();
      for (const m of measureCols) {
        const v = row.measures[m];
        // BIGINT columns store integers: compare (and insert) the rounded value.
        values.set(m, v === undefined ? null : cols.get(m) === 'BIGINT' ? Math.round(v) : v);
      }
      if (prev === undefined) {
        existing.set(key, { rowid: undefined, version: row.version, values, pending: inserts.length });
        inserts.push(row);
        results[i] = INSERTED;
        continue;
      }
      if (row.version > prev.version) {
        if (prev.pending >= 0) {
          inserts[prev.pending] = row;
        } else {
          if (prev.rowid !== undefined) deletes.push(prev.rowid);
          prev.rowid = undefined;
          prev.pending = inserts.length;
          inserts.push(row);
        }
        prev.version = row.version;
        prev.values = values;
        results[i] = UPDATED;
        continue;
      }
      const stored = prev.values;
      let same = stored !== undefined;
      for (let k = 0; same && k < measureCols.length; k++) {
        const m = measureCols[k]!;
        if (stored!.get(m) !== values.get(m)) same = false;
      }
      results[i] = same
        ? UNCHANGED
        : {
            kind: 'rejected',
            reason:
              'A record with the same time, dimensions and measure name exists with different measure values, and this version is not higher than the existing one; send a higher Version to update it.',
            existingVersion: prev.version,
          };
    }

    // 4. Apply atomically.
    if (deletes.length === 0 && inserts.length === 0) return results;
    await this.writer.run('BEGIN TRANSACTION');
    try {
      for (let start = 0; start < deletes.length; start += 1000) {
        const slice = deletes.slice(start, start + 1000);
        await this.writer.run(`DELETE FROM ${ref} WHERE rowid IN (${slice.join(', ')})`);
      }
      // The appender is DuckDB's bulk path: binding thousands of INSERT parameters costs ~20x more.
      // It writes inside the connection's open transaction.
      const appender = await this.writer.createAppender(table, database, this.catalog);
      const layout = [...cols];
      for (const row of inserts) {
        for (const [name, type] of layout) {
          if (name === 'time') appender.appendTimestamp(new DuckDBTimestampValue(BigInt(row.timeMs) * 1000n));
          else if (name === 'measure_name') appender.appendVarchar(row.measureName);
          else if (name === 'version') appender.appendBigInt(BigInt(row.version));
          else if (type === 'VARCHAR') {
            const v = row.dimensions[name];
            if (v === undefined || v === '') appender.appendNull();
            else appender.appendVarchar(v);
          } else {
            const v = row.measures[name];
            if (v === undefined) appender.appendNull();
            else if (type === 'BIGINT') appender.appendBigInt(BigInt(Math.round(v)));
            else if (type === 'DOUBLE') appender.appendDouble(v);
            else appender.appendNull();
          }
        }
        appender.endRow();
      }
      appender.flushSync();
      appender.closeSync();
      await this.writer.run('COMMIT');
    } catch (err) {
      await this.writer.run('ROLLBACK').catch(() => undefined);
      throw new DuckDbStoreError(`upsert into ${database}.${table} failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
    return results;
  }

  private checkNames(
    row: StoreRow,
    cols: Map<string, ColumnType>,
    addColumns: Map<string, ColumnType>,
    table: string,
  ): string | undefined {
    // Collect this row's new columns apart, so a rejected row adds none.
    const mine = new Map<string, ColumnType>();
    for (const d in row.dimensions) {
      if (RESERVED.has(d)) return `Dimension name '${d}' is reserved.`;
      if (d in row.measures) return `Dimension name '${d}' is also a measure name.`;
      const known = cols.get(d) ?? addColumns.get(d) ?? mine.get(d);
      if (known !== undefined && known !== 'VARCHAR')
        return `Dimension name '${d}' is already a measure column.`;
      if (known === undefined && row.dimensions[d] !== '') mine.set(d, 'VARCHAR');
    }
    for (const m in row.measures) {
      if (RESERVED.has(m)) return `Measure name '${m}' is reserved.`;
      const type = row.measureTypes?.[m] ?? measureTypeOf(table, m);
      const known = cols.get(m) ?? addColumns.get(m) ?? mine.get(m);
      if (known === 'VARCHAR') return `Measure name '${m}' is already a dimension column.`;
      if (known === undefined) mine.set(m, type);
      else if (known !== type) return `Measure '${m}' has type ${known} in this table; got ${type}.`;
    }
    for (const [name, type] of mine) addColumns.set(name, type);
    return undefined;
  }

  /**
   * {@link TimeSeriesSink} over this store (no retention limits, no network): used by replay and as
   * the second backend behind the interface. Rejects are `timestream_rejected` with the reason.
   */
  async write(records: readonly SeriesWindowRecord[]): Promise<TimeSeriesWriteResult> {
    const stats = emptyWriteStats(records.length);
    const outcomes: SinkOutcome[] = new Array(records.length);
    const byTable = new Map<string, number[]>();
    for (let i = 0; i < records.length; i++) {
      const t = records[i]!.table;
      const list = byTable.get(t);
      if (list === undefined) byTable.set(t, [i]);
      else list.push(i);
    }
    for (const [table, indices] of byTable) {
      const rows: StoreRow[] = [];
      const rowIndex: number[] = [];
      for (const i of indices) {
        const r = records[i]!;
        const measures: Record<string, number> = {};
        let any = false;
        for (const name in r.measures) {
          const v = r.measures[name];
          if (v !== undefined && Number.isFinite(v)) {
            measures[name] = v;
            any = true;
          }
        }
        if (!any) {
          outcomes[i] = {
            kind: 'reject',
            code: RejectCode.timestreamRejected,
            detail: 'no finite measure values',
          };
          continue;
        }
        rows.push({
          timeMs: r.timeMs,
          dimensions: r.dimensions,
          measureName: measureNameOf(table),
          measures,
          version: r.version,
        });
        rowIndex.push(i);
      }
      stats.calls++;
      let results: UpsertResult[];
      try {
        results = await this.upsert(this.database, table, rows);
      } catch (err) {
        const retry: SinkOutcome = {
          kind: 'retry',
          reason: `duckdb:${(err as Error).message}`.slice(0, 200),
        };
        for (const i of rowIndex) outcomes[i] = retry;
        continue;
      }
      for (let k = 0; k < rowIndex.length; k++) {
        const res = results[k]!;
        outcomes[rowIndex[k]!] =
          res.kind === 'rejected'
            ? {
                kind: 'reject',
                code: RejectCode.timestreamRejected,
                detail:
                  res.existingVersion === undefined
                    ? res.reason
                    : `${res.reason} (existing version ${res.existingVersion})`,
              }
            : OK_OUTCOME;
      }
    }
    countOutcomes(outcomes, stats);
    return { outcomes, stats };
  }

  /**
   * Runs read SQL and returns plain rows: BIGINT as number (as string beyond 2^53), TIMESTAMP as Date,
   * so rows survive `JSON.stringify`. Positional parameters: `$1`, `$2`, ….
   *
   * @example
   * await store.query('SELECT count(*) AS n FROM "tidewatch"."windows" WHERE service = $1', ['checkout']); // [{ n: 42 }]
   */
  query(sql: string, params: DuckDBValue[] = []): Promise<Record<string, unknown>[]> {
    return this.serialize('read', async () => {
      const reader = await this.reader.runAndReadAll(sql, params);
      const rows = reader.getRowObjectsJS();
      const out: Record<string, unknown>[] = new Array(rows.length);
      for (let i = 0; i < rows.length; i++) {
        const src = rows[i]!;
        const row: Record<string, unknown> = {};
        for (const k in src) row[k] = plainValue(src[k]);
        out[i] = row;
      }
      return out;
    });
  }

  /** Waits for pending writes and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.writeChain;
    await this.readChain;
    this.closed = true;
    this.writer.closeSync();
    this.reader.closeSync();
    this.instance.closeSync();
  }
}
