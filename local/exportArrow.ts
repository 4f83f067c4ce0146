/**
 * Exports tidewatch's local data as Apache Arrow tables, for notebooks (`tidewatch export`):
 *
 * - stored windows: rows of the DuckDB store (`<data-dir>/tidewatch.duckdb`, Timestream layout,
 *   local/duckdbStore.ts), every column as stored — `time`, the dimensions, `measure_name`, the
 *   measures, `version`;
 * - archived events: the raw lines of the local Firehose archive (`<data-dir>/archive/logs/…/*.gz`,
 *   gzip NDJSON as local/firehoseEndpoint.ts delivers it), re-parsed with the ingest path's parsers
 *   into `time`, `service`, `level`, `message`, `status`, `duration_ms`, `route`, `trace_id`, plus the
 *   `raw` line and the `archive_file` it came from.
 *
 * The file is written in the Arrow IPC *file* format (`tableToIPC(table, 'file')`, a.k.a. Feather v2),
 * which `pandas.read_feather`, `polars.read_ipc`, `pyarrow.ipc.open_file` and DuckDB's `arrow`
 * extension open directly. Times are `timestamp[ms, tz=UTC]`.
 */
import { access, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import {
  Float64,
  Int32,
  Int64,
  makeData,
  makeVector,
  Table,
  Timestamp,
  TimeUnit,
  tableToIPC,
  Utf8,
  type Vector,
  vectorFromArray,
} from 'apache-arrow';
import { ArchivePrefix, Names } from '../processors/schema.ts';
import {
  type CompiledFieldMapping,
  defaultFieldMapping,
} from '../processors/transforms/formats/fieldMapping.ts';
import { parseLogLine } from '../processors/transforms/parseLogLine.ts';
import { listArchiveFiles, readArchiveFile } from './firehoseEndpoint.ts';

/** Why an export could not run. Keeps the underlying error in `cause`. */
export class ExportError extends Error {
  constructor(
    message: string,
    /** `locked`: another process holds the DuckDB file; `missing`: nothing to export from. */
    readonly reason: 'locked' | 'missing' | 'failed',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ExportError';
  }
}

/** File name of the DuckDB store inside a data directory (as `tidewatch start` lays it out). */
export const STORE_FILE = 'tidewatch.duckdb';
/** Directory of the local Firehose archive inside a data directory. */
export const ARCHIVE_DIR = 'archive';

/** A half-open event-time range `[fromMs, toMs)` and an optional service. */
export interface ExportRange {
  readonly fromMs: number;
  readonly toMs: number;
  readonly service?: string | undefined;
}

/** What an export produced. */
export interface ExportResult {
  readonly table: Table;
  readonly rows: number;
  /** Archive files read (raw exports) or 1 (the store). */
  readonly sources: number;
  /** Raw exports: archived lines the parsers could not read again (exported with null fields). */
  readonly unparsed: number;
}

const UTC_MS = new Timestamp(TimeUnit.MILLISECOND, 'UTC');
/** Catalog alias of the read-only attachment. */
const CATALOG = 'tidewatch_export';

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function isLockError(message: string): boolean {
  return /lock/i.test(message);
}

/**
 * Stored rows of `table` (default `windows`) with `time` in the range, as an Arrow table with the
 * store's columns in the store's order. Opens the DuckDB file read-only; DuckDB lets no other process
 * open a file that one process has open read-write, so this fails with reason `locked` while
 * `tidewatch start` runs on the same data directory.
 *
 * @throws {ExportError} `missing` when there is no store file, `locked` when another process holds it.
 * @example
 * const { table } = await exportWindows('.tidewatch/tidewatch.duckdb',
 *   { fromMs: Date.parse('2026-01-15T10:00:00Z'), toMs: Date.parse('2026-01-15T11:00:00Z'), service: 'checkout' });
 * await writeArrowFile(table, 'incident.arrow');
 */
export async function exportWindows(
  storePath: string,
  range: ExportRange,
  options: { table?: string; database?: string } = {},
): Promise<ExportResult> {
  try {
    await access(storePath);
  } catch (err) {
    throw new ExportError(
      `no DuckDB store at ${storePath}: run 'tidewatch start' first, or pass the --data-dir it used`,
      'missing',
      { cause: err },
    );
  }
  const database = options.database ?? Names.timestreamDatabase;
  const tableName = options.table ?? Names.windowsTable;
  // Loaded here, not at the top: a raw export needs no DuckDB (and loading it costs a second or two).
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    try {
      await conn.run(`ATTACH '${storePath.replace(/'/g, "''")}' AS ${CATALOG} (READ_ONLY)`);
    } catch (err) {
      const msg = (err as Error).message ?? String(err);
      if (isLockError(msg)) {
        const pid = /PID (\d+)/.exec(msg)?.[1];
        throw new ExportError(
          `the DuckDB store ${storePath} is in use by another process${pid === undefined ? '' : ` (PID ${pid})`}, most likely 'tidewatch start' — DuckDB lets only one process open the file. Stop tidewatch start first (Ctrl-C flushes everything), or export archived events with --raw, which reads plain files and works while it runs.`,
          'locked',
          { cause: err },
        );
      }
      throw new ExportError(`cannot open the DuckDB store ${storePath}: ${msg}`, 'failed', { cause: err });
    }
    const ref = `${CATALOG}.${quoteIdent(database)}.${quoteIdent(tableName)}`;
    const cols = await conn.runAndReadAll(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog = '${CATALOG}' AND table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
      [database, tableName],
    );
    const columns = cols
      .getRowObjectsJS()
      .map((r) => ({ name: String(r.column_name), type: String(r.data_type) }));
    if (columns.length === 0) {
      throw new ExportError(`the store ${storePath} has no table ${database}.${tableName}`, 'missing');
    }
    const select = columns.map((c) =>
      c.type.startsWith('TIMESTAMP')
        ? `epoch_ms(${quoteIdent(c.name)}) AS ${quoteIdent(c.name)}`
        : quoteIdent(c.name),
    );
    const where = ['"time" >= epoch_ms($1::BIGINT)', '"time" < epoch_ms($2::BIGINT)'];
    const params: (number | string)[] = [range.fromMs, range.toMs];
    const hasService = columns.some((c) => c.name === 'service');
    if (range.service !== undefined && hasService) {
      where.push('"service" = $3');
      params.push(range.service);
    }
    const order = hasService ? '"time", "service"' : '"time"';
    const result = await conn.runAndReadAll(
      `SELECT ${select.join(', ')} FROM ${ref} WHERE ${where.join(' AND ')} ORDER BY ${order}`,
      params,
    );
    const data = result.getColumnsJS();
    const vectors: Record<string, Vector> = {};
    for (let i = 0; i < columns.length; i++) {
      const c = columns[i]!;
      vectors[c.name] = columnVector(c.type, data[i] ?? []);
    }
    const table = new Table(vectors);
    return { table, rows: table.numRows, sources: 1, unparsed: 0 };
  } catch (err) {
    if (err instanceof ExportError) throw err;
    throw new ExportError(`cannot read the store ${storePath}: ${(err as Error).message}`, 'failed', {
      cause: err,
    });
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/** DuckDB column values → an Arrow vector of the matching type (unknown types as text). */
function columnVector(duckType: string, values: readonly unknown[]): Vector {
  if (duckType.startsWith('TIMESTAMP')) {
    return vectorFromArray(
      values.map((v) => (v === null || v === undefined ? null : Number(v))),
      UTC_MS,
    );
  }
  if (duckType === 'DOUBLE' || duckType === 'FLOAT' || duckType === 'REAL') {
    return vectorFromArray(
      values.map((v) => (v === null || v === undefined ? null : Number(v))),
      new Float64(),
    );
  }
  if (duckType === 'BIGINT' || duckType === 'INTEGER' || duckType === 'SMALLINT' || duckType === 'HUGEINT') {
    return vectorFromArray(
      values.map((v) => (v === null || v === undefined ? null : BigInt(v as bigint | number))),
      new Int64(),
    );
  }
  return utf8Vector(values.map((v) => (v === null || v === undefined ? null : String(v))));
}

const encoder = new TextEncoder();

/**
 * A UTF-8 Arrow vector built directly from its buffers (offsets, bytes, validity bitmap):
 * `vectorFromArray` goes through a generic builder and is several times slower for long columns of
 * log lines.
 *
 * @example
 * utf8Vector(['a', null, 'ü']).toArray(); // ['a', null, 'ü']
 */
export function utf8Vector(values: readonly (string | null)[]): Vector<Utf8> {
  const n = values.length;
  const offsets = new Int32Array(n + 1);
  const validity = new Uint8Array((n + 7) >> 3);
  let bytes = new Uint8Array(Math.max(64, n * 16));
  let used = 0;
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || v === undefined) nulls++;
    else {
      validity[i >> 3]! |= 1 << (i & 7);
      // UTF-8 needs at most 3 bytes per UTF-16 code unit.
      const need = used + v.length * 3;
      if (need > bytes.byteLength) {
        const grown = new Uint8Array(Math.max(need, bytes.byteLength * 2));
        grown.set(bytes.subarray(0, used));
        bytes = grown;
      }
      used += encoder.encodeInto(v, bytes.subarray(used)).written;
    }
    offsets[i + 1] = used;
  }
  return makeVector(
    makeData({
      type: new Utf8(),
      length: n,
      nullCount: nulls,
      ...(nulls > 0 ? { nullBitmap: validity } : {}),
      valueOffsets: offsets,
      data: bytes.subarray(0, used),
    }),
  );
}

/** Delivery time of an archive object from its key (`…/<stream>-YYYY-MM-DD-HH-MM-SS-<id>.gz`). */
function deliveryTimeMs(file: string): number {
  const m = /-(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-[^/]*\.gz$/.exec(file);
  if (m === null) return Number.NaN;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

/**
 * How far an archived event's time can be from its object's delivery time: events may be up to the
 * maximum allowed lateness (24 h) older than their arrival, up to 15 min newer (the future bound), and
 * a buffer is delivered up to 15 min after its first record. Objects outside the range ± these are
 * not read.
 */
const ARCHIVE_EARLY_MS = 24 * 3_600_000 + 15 * 60_000;
const ARCHIVE_LATE_MS = 30 * 60_000;
/** Archive objects read and inflated ahead of the one being parsed. */
const READ_AHEAD = 8;

/**
 * Archived log events with event time in the range, re-parsed from their raw lines, as an Arrow table:
 * `time`, `service`, `level`, `message`, `status`, `duration_ms`, `route`, `trace_id`, `raw`,
 * `archive_file`, sorted by time. Lines whose producer context is gone (a plain-text CloudWatch line
 * named its service only through its log group) get what the line itself says: `unknown` service, and
 * the object's delivery time when they carry no time.
 *
 * @example
 * const { table, unparsed } = await exportArchivedEvents('.tidewatch/archive',
 *   { fromMs: Date.now() - 3_600_000, toMs: Date.now() });
 */
export async function exportArchivedEvents(
  archiveDir: string,
  range: ExportRange,
  options: { fieldMapping?: CompiledFieldMapping } = {},
): Promise<ExportResult> {
  let files: string[];
  try {
    files = await listArchiveFiles(archiveDir, ArchivePrefix.logs);
  } catch (err) {
    throw new ExportError(`cannot list the archive ${archiveDir}: ${(err as Error).message}`, 'failed', {
      cause: err,
    });
  }
  if (files.length === 0) {
    try {
      await access(archiveDir);
    } catch (err) {
      throw new ExportError(
        `no archive at ${archiveDir}: run 'tidewatch start' first, or pass the --data-dir it used`,
        'missing',
        { cause: err },
      );
    }
  }
  const mapping = options.fieldMapping ?? defaultFieldMapping;
  const time: number[] = [];
  const service: string[] = [];
  const level: (string | null)[] = [];
  const message: (string | null)[] = [];
  const status: (number | null)[] = [];
  const duration: (number | null)[] = [];
  const route: (string | null)[] = [];
  const traceId: (string | null)[] = [];
  const raw: string[] = [];
  const file: string[] = [];
  let read = 0;
  let unparsed = 0;
  const wanted = files.filter((path) => {
    const deliveredMs = deliveryTimeMs(path);
    return (
      Number.isNaN(deliveredMs) ||
      (deliveredMs - ARCHIVE_EARLY_MS < range.toMs && deliveredMs + ARCHIVE_LATE_MS >= range.fromMs)
    );
  });
  // Read and gunzip a few objects at a time (each is a thread-pool round trip), parse in order.
  const queue: Promise<string>[] = [];
  let next = 0;
  const readAhead = () => {
    while (next < wanted.length && queue.length < READ_AHEAD) {
      const path = wanted[next++]!;
      const p = readArchiveFile(path).then(
        (b) => b.toString('utf8'),
        (err: unknown) => {
          throw new ExportError(`cannot read archive file ${path}: ${(err as Error).message}`, 'failed', {
            cause: err,
          });
        },
      );
      p.catch(() => undefined); // awaited in order below; keeps an early failure from going unhandled
      queue.push(p);
    }
  };
  for (const path of wanted) {
    const deliveredMs = deliveryTimeMs(path);
    readAhead();
    const text = await queue.shift()!;
    read++;
    const key = relative(archiveDir, path);
    const fallbackMs = Number.isNaN(deliveredMs) ? Number.NaN : deliveredMs;
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      const parsed = parseLogLine(line, {
        mapping,
        service: 'unknown',
        nowMs: fallbackMs,
        missingTimestamp: 'arrival',
      });
      let t: number;
      if (parsed.kind === 'ok') {
        const e = parsed.value;
        t = e.timeMs;
        if (t < range.fromMs || t >= range.toMs) continue;
        if (range.service !== undefined && e.service !== range.service) continue;
        service.push(e.service);
        level.push(e.level);
        message.push(e.message);
        status.push(e.status ?? null);
        duration.push(e.durationMs ?? null);
        route.push(e.route ?? null);
        traceId.push(e.traceId ?? null);
      } else {
        t = fallbackMs;
        if (range.service !== undefined || !(t >= range.fromMs && t < range.toMs)) continue;
        unparsed++;
        service.push('unknown');
        level.push(null);
        message.push(null);
        status.push(null);
        duration.push(null);
        route.push(null);
        traceId.push(null);
      }
      time.push(t);
      raw.push(line);
      file.push(key);
    }
  }
  // Sorted by event time (stable: archive order within a millisecond).
  const order = time.map((_, i) => i).sort((a, b) => time[a]! - time[b]! || a - b);
  const pick = <T>(xs: readonly T[]): T[] => order.map((i) => xs[i]!);
  const table = new Table({
    time: vectorFromArray(pick(time), UTC_MS),
    service: utf8Vector(pick(service)),
    level: utf8Vector(pick(level)),
    message: utf8Vector(pick(message)),
    status: vectorFromArray(pick(status), new Int32()),
    duration_ms: vectorFromArray(pick(duration), new Float64()),
    route: utf8Vector(pick(route)),
    trace_id: utf8Vector(pick(traceId)),
    raw: utf8Vector(pick(raw)),
    archive_file: utf8Vector(pick(file)),
  });
  return { table, rows: table.numRows, sources: read, unparsed };
}

/**
 * Writes `table` as an Arrow IPC file (Feather v2). Resolves to the number of bytes written.
 *
 * @example
 * const bytes = await writeArrowFile(table, 'windows.arrow');
 * // python: pandas.read_feather('windows.arrow') / polars.read_ipc('windows.arrow')
 */
export async function writeArrowFile(table: Table, path: string): Promise<number> {
  const bytes = tableToIPC(table, 'file');
  await writeFile(path, bytes);
  return bytes.byteLength;
}

/** The store file and archive directory of a data directory. */
export function dataDirPaths(dataDir: string): { storePath: string; archiveDir: string } {
  return { storePath: join(dataDir, STORE_FILE), archiveDir: join(dataDir, ARCHIVE_DIR) };
}
