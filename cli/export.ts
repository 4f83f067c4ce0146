/**
 * `tidewatch export --from T --to T [--service S] --out FILE.arrow [--raw] [--data-dir DIR]`
 *
 * Pulls an incident's data into a notebook: the stored windows (DuckDB store of `tidewatch start`)
 * or, with `--raw`, the archived log events (local Firehose archive) in a time range, as an Apache
 * Arrow IPC file that pandas (`read_feather`), polars (`read_ipc`) and DuckDB open directly.
 *
 * Exit codes: 0 written, 1 nothing to read or the store is in use, 2 usage errors.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  dataDirPaths,
  ExportError,
  type ExportResult,
  exportArchivedEvents,
  exportWindows,
  writeArrowFile,
} from '../local/exportArrow.ts';
import { Names } from '../processors/schema.ts';

const USAGE = `usage: tidewatch export --from T [--to T] --out FILE.arrow [--service S] [--raw] [--data-dir DIR]

Writes stored windows (or, with --raw, archived log events) whose time is in [--from, --to) to an
Apache Arrow IPC file (Feather v2). Open it with:
  pandas:  pd.read_feather('FILE.arrow')      polars: pl.read_ipc('FILE.arrow')
  DuckDB:  INSTALL arrow FROM community; LOAD arrow; SELECT * FROM 'FILE.arrow';

options:
  --from T          start of the range (inclusive): ISO 8601 (2026-01-15T10:00:00Z; UTC when no
                    zone is given), epoch ms, or a duration ago (15m, 2h, 1d)
  --to T            end of the range (exclusive), same forms; default now
  --out FILE        the Arrow file to write
  --service S       only this service
  --raw             archived log events (<data-dir>/archive/logs/) instead of stored windows
  --table NAME      stored table: ${Names.windowsTable} (default) or ${Names.pipelineTable}
  --data-dir DIR    tidewatch start's data directory (default .tidewatch)
  -h, --help        this help`;

/** Parses a time argument: ISO 8601, epoch ms, `now`, or `<n><s|m|h|d>` ago (before `nowMs`). */
export function parseTimeArg(raw: string, nowMs: number): number | undefined {
  const s = raw.trim();
  if (s === 'now') return nowMs;
  // "15m" means 15 minutes ago (as `docker logs --since 15m`); "-15m" too, given as --from=-15m.
  const rel = /^-?(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(s);
  if (rel !== null) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 's' | 'm' | 'h' | 'd'];
    return nowMs - Math.round(Number(rel[1]) * unit);
  }
  if (/^\d{10,16}$/.test(s)) return Number(s);
  if (/^\d{4}-\d{2}-\d{2}/.test(s)) {
    // A date or date-time without a zone is read as UTC (log times are), not as local time.
    const iso = s.replace(' ', 'T');
    const withZone = /T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(iso)
      ? `${iso}Z`
      : /^\d{4}-\d{2}-\d{2}$/.test(iso)
        ? `${iso}T00:00:00Z`
        : iso;
    const t = Date.parse(withZone);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

function usageError(message: string): number {
  process.stderr.write(`tidewatch export: ${message}\n\n${USAGE}\n`);
  return 2;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1_048_576) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1_048_576).toFixed(1)} MiB`;
}

/**
 * CLI entry: `tidewatch export …`. Resolves to the exit code.
 *
 * @example
 * process.exitCode = await run(['--from', '1h', '--out', 'last-hour.arrow', '--service', 'checkout']);
 */
export async function run(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        out: { type: 'string', short: 'o' },
        service: { type: 'string' },
        raw: { type: 'boolean' },
        table: { type: 'string' },
        'data-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    return usageError((err as Error).message);
  }
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length > 0) return usageError(`unexpected argument '${positionals[0]}'`);
  const nowMs = Date.now();
  if (typeof values.from !== 'string')
    return usageError('--from is required (e.g. --from 1h for the last hour)');
  if (typeof values.out !== 'string' || values.out === '') {
    return usageError('--out FILE.arrow is required');
  }
  const fromMs = parseTimeArg(values.from, nowMs);
  if (fromMs === undefined) {
    return usageError(
      `--from '${values.from}' is not a time: use ISO 8601, epoch ms, or a duration ago like 15m, 2h, 1d`,
    );
  }
  const toMs = typeof values.to === 'string' ? parseTimeArg(values.to, nowMs) : nowMs;
  if (toMs === undefined) {
    return usageError(
      `--to '${String(values.to)}' is not a time: use ISO 8601, epoch ms, or a duration ago like 15m, 2h, 1d`,
    );
  }
  if (!(toMs > fromMs)) {
    return usageError(
      `--to (${new Date(toMs).toISOString()}) must be after --from (${new Date(fromMs).toISOString()})`,
    );
  }
  const table = typeof values.table === 'string' ? values.table : Names.windowsTable;
  if (table !== Names.windowsTable && table !== Names.pipelineTable) {
    return usageError(`--table must be ${Names.windowsTable} or ${Names.pipelineTable}`);
  }
  if (values.raw === true && values.table !== undefined) {
    return usageError('--table applies to stored windows; --raw exports archived events');
  }
  const dataDir = resolve(typeof values['data-dir'] === 'string' ? values['data-dir'] : '.tidewatch');
  const { storePath, archiveDir } = dataDirPaths(dataDir);
  const service = typeof values.service === 'string' ? values.service : undefined;
  const range = { fromMs, toMs, service };

  let result: ExportResult;
  try {
    result =
      values.raw === true
        ? await exportArchivedEvents(archiveDir, range)
        : await exportWindows(storePath, range, { table });
  } catch (err) {
    if (err instanceof ExportError) {
      process.stderr.write(`tidewatch export: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  let bytes: number;
  try {
    bytes = await writeArrowFile(result.table, values.out);
  } catch (err) {
    process.stderr.write(`tidewatch export: cannot write ${values.out}: ${(err as Error).message}\n`);
    return 1;
  }
  const what = values.raw === true ? 'archived events' : `${table} rows`;
  const span = `${new Date(fromMs).toISOString()} – ${new Date(toMs).toISOString()}`;
  process.stdout.write(
    `wrote ${result.rows} ${what} (${result.table.numCols} columns, ${formatBytes(bytes)}) to ${values.out}\n`,
  );
  if (result.rows === 0) {
    process.stderr.write(
      `tidewatch export: nothing in ${span}${service === undefined ? '' : ` for service '${service}'`} — check the range (times are UTC) and --data-dir (${dataDir}).\n`,
    );
  }
  if (result.unparsed > 0) {
    process.stderr.write(
      `tidewatch export: ${result.unparsed} archived lines could not be parsed again; they are in the file with null fields (see column raw).\n`,
    );
  }
  return 0;
}
