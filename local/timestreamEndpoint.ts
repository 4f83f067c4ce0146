/**
 * A local Timestream Write endpoint (AWS JSON 1.0, target `Timestream_20181101`) backed by the DuckDB
 * store, so `@aws-sdk/client-timestream-write` runs unchanged (with an explicit `endpoint`, which
 * skips endpoint discovery).
 *
 * Operations: `WriteRecords` and `DescribeEndpoints`. Enforced as Timestream does
 * (API_WriteRecords, API_RejectedRecord, ts-limits.html):
 * - 1..100 records per call, else `ValidationException`; a dimension both in `CommonAttributes` and in
 *   a record is a `ValidationException`; unknown database/table is `ResourceNotFoundException`.
 * - Per-record problems are `RejectedRecordsException` (HTTP 419) with
 *   `RejectedRecords[{RecordIndex, Reason, ExistingVersion?}]`; the other records of the call are
 *   ingested: a record with the same time, dimensions and measure name but different values and a
 *   version not higher than the stored one (identical values are accepted idempotently); a timestamp
 *   outside the memory store retention or more than 15 minutes in the future; more than 128 dimensions;
 *   no measure values; a measure value that does not parse as its type.
 * - Only multi-measure records (`MeasureValueType: MULTI`) are stored; that is all tidewatch writes.
 */
import { join } from 'node:path';
import type { MeasureType } from '../processors/schema.ts';
import { Names } from '../processors/schema.ts';
import { AwsServiceError, startAwsServer } from './awsJsonServer.ts';
import { DuckDbStore, type StoreRow } from './duckdbStore.ts';
import { type FaultConfig, FaultInjector } from './faults.ts';

/** Timestream accepts timestamps at most 15 minutes in the future (API_WriteRecords). */
export const MAX_FUTURE_MS = 15 * 60_000;
/** Records per WriteRecords call. */
export const MAX_RECORDS_PER_WRITE = 100;
/** Dimensions per table (ts-limits.html). */
export const MAX_DIMENSIONS = 128;

/** Options of {@link startTimestreamEndpoint}. */
export interface TimestreamEndpointOptions {
  /** 0 or absent: ephemeral. `LocalPorts.timestream` in `tidewatch start`. */
  port?: number;
  /** Directory for `tidewatch.duckdb` when neither `store` nor `dbPath` is given. */
  dataDir?: string;
  /** DuckDB file (or `:memory:`); default `<dataDir>/tidewatch.duckdb`. */
  dbPath?: string;
  /** Share an open store (the process owning the file); it is not closed by `close()`. */
  store?: DuckDbStore;
  /** Faults to inject (an injector to share, or a config). */
  faults?: FaultInjector | FaultConfig;
  /** Tables that exist. Default `tidewatch.windows` and `tidewatch.pipeline`. */
  tables?: ReadonlyArray<{ database: string; table: string }>;
  /** Create unknown tables on first write instead of answering ResourceNotFoundException. Default false. */
  autoCreateTables?: boolean;
  /** Memory store retention; older timestamps are rejected. Default 24 h. */
  memoryRetentionHours?: number;
  /** Clock. Default `Date.now`. */
  now?: () => number;
}

/** A running local Timestream endpoint. */
export interface TimestreamEndpoint {
  url: string;
  port: number;
  faults: FaultInjector;
  store: DuckDbStore;
  /** Calls and records seen, for tests and the embedded mode's status line. */
  stats: { writeCalls: number; recordsIngested: number; recordsRejected: number };
  close(): Promise<void>;
}

interface Dim {
  Name?: unknown;
  Value?: unknown;
}
interface MeasureValueIn {
  Name?: unknown;
  Value?: unknown;
  Type?: unknown;
}
interface RecordIn {
  Dimensions?: Dim[];
  MeasureName?: unknown;
  MeasureValue?: unknown;
  MeasureValueType?: unknown;
  MeasureValues?: MeasureValueIn[];
  Time?: unknown;
  TimeUnit?: unknown;
  Version?: unknown;
}

const UNIT_TO_MS: Record<string, number> = {
  MILLISECONDS: 1,
  SECONDS: 1000,
  MICROSECONDS: 1e-3,
  NANOSECONDS: 1e-6,
};

function validation(message: string): AwsServiceError {
  return new AwsServiceError('ValidationException', message, 400);
}

function parseMeasure(mv: MeasureValueIn): { name: string; type: MeasureType; value: number } | string {
  const name = typeof mv.Name === 'string' ? mv.Name : '';
  const type = mv.Type;
  const raw = typeof mv.Value === 'string' ? mv.Value : '';
  if (name === '') return 'Measure name is missing.';
  if (type === 'BIGINT') {
    if (!/^-?\d+$/.test(raw)) return `Measure value '${raw}' of ${name} is not a valid BIGINT.`;
    return { name, type, value: Number(raw) };
  }
  if (type === 'DOUBLE') {
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(v))
      return `Measure value '${raw}' of ${name} is not a valid DOUBLE.`;
    return { name, type, value: v };
  }
  return `Measure value type ${String(type)} of ${name} is not supported by the local endpoint (DOUBLE, BIGINT).`;
}

/**
 * Starts the local Timestream Write endpoint on 127.0.0.1.
 *
 * @example
 * const ts = await startTimestreamEndpoint({ dataDir: '.tidewatch' });
 * const client = new TimestreamWriteClient({ endpoint: ts.url, region: 'us-east-1',
 *   credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
 * // … then ts.store.query('SELECT * FROM "tidewatch"."windows"'); await ts.close();
 */
export async function startTimestreamEndpoint(
  options: TimestreamEndpointOptions = {},
): Promise<TimestreamEndpoint> {
  const faults =
    options.faults instanceof FaultInjector ? options.faults : new FaultInjector(options.faults ?? {});
  const tables = options.tables ?? [
    { database: Names.timestreamDatabase, table: Names.windowsTable },
    { database: Names.timestreamDatabase, table: Names.pipelineTable },
  ];
  const ownStore = options.store === undefined;
  const store =
    options.store ??
    (await DuckDbStore.open({
      path: options.dbPath ?? join(options.dataDir ?? '.', 'tidewatch.duckdb'),
      tables,
    }));
  if (!ownStore) for (const t of tables) await store.ensureTable(t.database, t.table);
  const known = new Set(tables.map((t) => `${t.database}.${t.table}`));
  const retentionMs = (options.memoryRetentionHours ?? 24) * 3_600_000;
  const now = options.now ?? Date.now;
  const stats = { writeCalls: 0, recordsIngested: 0, recordsRejected: 0 };
  let port = 0;

  const writeRecords = async (input: Record<string, unknown>): Promise<unknown> => {
    stats.writeCalls++;
    const database = input.DatabaseName;
    const table = input.TableName;
    if (typeof database !== 'string' || typeof table !== 'string') {
      throw validation('DatabaseName and TableName are required.');
    }
    const records = input.Records;
    if (!Array.isArray(records) || records.length < 1 || records.length > MAX_RECORDS_PER_WRITE) {
      const n = Array.isArray(records) ? records.length : 0;
      throw validation(
        `1 validation error detected: Value at 'records' failed to satisfy constraint: Member must have length less than or equal to ${MAX_RECORDS_PER_WRITE} and greater than or equal to 1 (got ${n}).`,
      );
    }
    const key = `${database}.${table}`;
    if (!known.has(key)) {
      if (!options.autoCreateTables) {
        throw new AwsServiceError(
          'ResourceNotFoundException',
          `The table ${table} in database ${database} does not exist.`,
          404,
        );
      }
      await store.ensureTable(database, table);
      known.add(key);
    }
    const common = (input.CommonAttributes ?? {}) as RecordIn;
    const commonDims = new Map<string, string>();
    for (const d of common.Dimensions ?? []) {
      if (typeof d.Name === 'string' && typeof d.Value === 'string') commonDims.set(d.Name, d.Value);
    }
    const nowMs = now();
    const rejected: Array<{ RecordIndex: number; Reason: string; ExistingVersion?: number }> = [];
    const rows: StoreRow[] = [];
    const rowIndex: number[] = [];
    for (let i = 0; i < records.length; i++) {
      const r = (records[i] ?? {}) as RecordIn;
      const dims: Record<string, string> = Object.fromEntries(commonDims);
      for (const d of r.Dimensions ?? []) {
        if (typeof d.Name !== 'string' || typeof d.Value !== 'string')
          throw validation('Dimension Name and Value are required.');
        if (commonDims.has(d.Name)) {
          throw validation(
            `Dimension ${d.Name} is in both CommonAttributes and record ${i}: dimensions may not overlap.`,
          );
        }
        dims[d.Name] = d.Value;
      }
      const measureName = r.MeasureName ?? common.MeasureName;
      const valueType = r.MeasureValueType ?? common.MeasureValueType;
      const measureValues = r.MeasureValues ?? common.MeasureValues;
      const timeRaw = r.Time ?? common.Time;
      const unit = String(r.TimeUnit ?? common.TimeUnit ?? 'MILLISECONDS');
      const version = Number(r.Version ?? common.Version ?? 1);
      if (typeof measureName !== 'string' || measureName === '') {
        rejected.push({ RecordIndex: i, Reason: 'Record is missing a MeasureName.' });
        continue;
      }
      if (valueType !== 'MULTI') {
        throw validation(
          'The local Timestream endpoint stores multi-measure records only (MeasureValueType MULTI).',
        );
      }
      if (Object.keys(dims).length > MAX_DIMENSIONS) {
        rejected.push({ RecordIndex: i, Reason: `Record has more than ${MAX_DIMENSIONS} dimensions.` });
        continue;
      }
      const factor = UNIT_TO_MS[unit];
      const timeNum = Number(timeRaw);
      if (factor === undefined || typeof timeRaw !== 'string' || !/^\d+$/.test(timeRaw)) {
        rejected.push({ RecordIndex: i, Reason: `Invalid time '${String(timeRaw)}' with TimeUnit ${unit}.` });
        continue;
      }
      const timeMs = Math.floor(timeNum * factor);
      if (timeMs < nowMs - retentionMs || timeMs > nowMs + MAX_FUTURE_MS) {
        rejected.push({
          RecordIndex: i,
          Reason: `The record timestamp is outside the time range [${new Date(nowMs - retentionMs).toISOString()}, ${new Date(nowMs + MAX_FUTURE_MS).toISOString()}) of the memory store.`,
        });
        continue;
      }
      if (!Array.isArray(measureValues) || measureValues.length === 0) {
        rejected.push({ RecordIndex: i, Reason: 'Multi-measure record has no MeasureValues.' });
        continue;
      }
      const measures: Record<string, number> = {};
      const measureTypes: Record<string, MeasureType> = {};
      let bad: string | undefined;
      for (const mv of measureValues) {
        const parsed = parseMeasure(mv);
        if (typeof parsed === 'string') {
          bad = parsed;
          break;
        }
        measures[parsed.name] = parsed.value;
        measureTypes[parsed.name] = parsed.type;
      }
      if (bad !== undefined) {
        rejected.push({ RecordIndex: i, Reason: bad });
        continue;
      }
      if (!Number.isSafeInteger(version) || version < 0) {
        rejected.push({ RecordIndex: i, Reason: `Invalid version ${String(r.Version ?? common.Version)}.` });
        continue;
      }
      rows.push({ timeMs, dimensions: dims, measureName, measures, measureTypes, version });
      rowIndex.push(i);
    }
    const results = await store.upsert(database, table, rows);
    let ingested = 0;
    for (let k = 0; k < results.length; k++) {
      const res = results[k]!;
      if (res.kind === 'rejected') {
        const rr: { RecordIndex: number; Reason: string; ExistingVersion?: number } = {
          RecordIndex: rowIndex[k]!,
          Reason: res.reason,
        };
        if (res.existingVersion !== undefined) rr.ExistingVersion = res.existingVersion;
        rejected.push(rr);
      } else {
        ingested++;
      }
    }
    stats.recordsIngested += ingested;
    stats.recordsRejected += rejected.length;
    if (rejected.length > 0) {
      rejected.sort((a, b) => a.RecordIndex - b.RecordIndex);
      throw new AwsServiceError(
        'RejectedRecordsException',
        'One or more records have been rejected. See RejectedRecords for details.',
        419,
        { RejectedRecords: rejected },
      );
    }
    return { RecordsIngested: { Total: ingested, MemoryStore: ingested, MagneticStore: 0 } };
  };

  const server = await startAwsServer({
    protocol: 'json1.0',
    port: options.port ?? 0,
    targetPrefix: 'Timestream_20181101',
    errorNamespace: 'com.amazonaws.timestreamwrite',
    faults,
    faultErrors: {
      throttle: { code: 'ThrottlingException', statusCode: 429, message: 'Rate exceeded' },
      internal: { code: 'InternalServerException', statusCode: 500, message: 'Internal server error' },
    },
    operations: {
      WriteRecords: writeRecords,
      // Endpoint discovery answer: the SDK would prefix https://, so local clients pass `endpoint` instead.
      DescribeEndpoints: () => ({
        Endpoints: [{ Address: `127.0.0.1:${port}`, CachePeriodInMinutes: 1440 }],
      }),
    },
  });
  port = server.port;
  return {
    url: server.url,
    port: server.port,
    faults,
    store,
    stats,
    close: async () => {
      await server.close();
      if (ownStore) await store.close();
    },
  };
}
