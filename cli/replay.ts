/**
 * `tidewatch replay FILE|- [--window-ms N] [--allowed-lateness-ms N] [--json] [--service-from-key K]`
 *
 * Runs a log file (NDJSON, logfmt or plain text; any format the ingest path reads) through the same
 * processors as the pipeline — `decodeKinesisBatch` parsers, stage one (`aggregateBatch`), the
 * partial codec, stage two (`WindowMerger`) and the detect stage's scoring (default detector and
 * alert rules, `scoreWindows`) — in event time, and prints every closed window of every series and
 * every alert. For incident reviews, and for trying tidewatch on one's own logs without any stream.
 *
 * Exit codes: 0 done (bad lines are counted, not fatal), 1 the input cannot be read, 2 usage errors.
 */
import { createReadStream, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { newDetectShardState } from '../processors/pipeline/detectState.ts';
import { type HandlerConfig, readHandlerConfig } from '../processors/pipeline/handlerConfig.ts';
import { scoreWindows } from '../processors/pipeline/scoreWindows.ts';
import {
  Dimension,
  EnvVar,
  Measure,
  type MetricName,
  RejectCode,
  type RejectCodeName,
  WindowDefaults,
} from '../processors/schema.ts';
import type { SeriesWindowRecord } from '../processors/sinks/timeSeriesRecord.ts';
import { type DecodeOptions, decodeKinesisBatch } from '../processors/sources/decodeKinesisBatch.ts';
import type { KinesisEventRecord } from '../processors/sources/kinesisEvent.ts';
import type { AlertEvent } from '../processors/transforms/detect/alertRules.ts';
import {
  aggregateBatch,
  StageOneState,
  type WindowPartial,
} from '../processors/transforms/window/aggregateBatch.ts';
import { chunkPartials, decodePartials } from '../processors/transforms/window/partialCodec.ts';

const USAGE = `usage: tidewatch replay FILE|- [options]

Runs FILE (or standard input with '-') through tidewatch's processors in event time — the same
parsers, windows and detector as the pipeline — and prints each closed window of each series and
each alert. Lines may be NDJSON (pino, Bunyan, ECS, OTel, CloudWatch Logs exports...), logfmt or
plain text with a leading timestamp. Bad lines are counted by reason on stderr.

options:
  --window-ms N            window size in ms (default ${WindowDefaults.windowMs})
  --allowed-lateness-ms N  how far behind the newest event a line may be and still count
                           (default ${WindowDefaults.allowedLatenessMs}); later lines are counted as late
  --json                   one JSON object per line: each closed window, then each alert ("alert": true)
  --service-from-key K     take the service name from field K of each line (a path like "app" or
                           "kubernetes.labels.app"), before the built-in fields
  --service NAME           service of lines that name none (default "unknown")
  --dimensions LIST        extra series dimensions, comma-separated: route, status_class
  --config FILE            processor configuration (the TW_CONFIG JSON: window, fieldMapping, alerts, ...)
  -h, --help               this help`;

/** Lines per decode/aggregate step: big enough to amortize, small enough to stream. */
const CHUNK_LINES = 2_000;
/** Shard id the replayed file plays (one source, so the watermark is the file's own). */
const REPLAY_SHARD = 'shardId-000000000000';

/** Options of {@link LogReplay}. */
export interface ReplayOptions {
  /** Window size (ms). Default `WindowDefaults.windowMs`. */
  windowMs?: number;
  /** Allowed lateness (ms). Default `WindowDefaults.allowedLatenessMs`. */
  allowedLatenessMs?: number;
  /** Field path to read the service from, tried before the built-in fields. */
  serviceFromKey?: string;
  /** Service of lines naming none. Default `unknown`. */
  service?: string;
  /** Extra dimensions (`route`, `status_class`). */
  dimensions?: readonly string[];
  /** A `TW_CONFIG` object; the options above override its window size, lateness, dimensions, service key. */
  processorConfig?: Record<string, unknown>;
  /** Processing-time clock (ms): bounds future timestamps and source idleness. Default `Date.now`. */
  now?: () => number;
}

/** One closed window of one series. Times are epoch ms. */
export interface ReplayWindow {
  readonly kind: 'window';
  readonly service: string;
  /** Configured extra dimensions (route, status_class); empty when none are configured. */
  readonly dimensions: Readonly<Record<string, string>>;
  readonly windowStartMs: number;
  readonly windowEndMs: number;
  readonly count: number;
  readonly errors: number;
  /** Latency quantiles (ms), null when the window had no durations. */
  readonly p50Ms: number | null;
  readonly p90Ms: number | null;
  readonly p99Ms: number | null;
  /** Highest anomaly score of the window's metrics; null while the detector warms up. */
  readonly anomalyScore: number | null;
  /** True when the record re-emits an already printed window with late data merged in. */
  readonly correction: boolean;
}

/** An alert or recovery decided by the alert rules. */
export interface ReplayAlert {
  readonly kind: 'alert';
  readonly event: AlertEvent;
  readonly dimensions: Readonly<Record<string, string>>;
}

export type ReplayItem = ReplayWindow | ReplayAlert;

/** Counters of a replay. */
export interface ReplayStats {
  lines: number;
  blankLines: number;
  events: number;
  /** Events windowed (events − late − invalid times). */
  windowed: number;
  /** Events later than the allowed lateness. */
  late: number;
  /** Lines or events rejected, by code (late events are under `late`, not here). */
  rejected: Partial<Record<RejectCodeName, number>>;
  windows: number;
  zeroFilledWindows: number;
  alerts: number;
  recoveries: number;
}

/** Usage or configuration error: exit code 2. */
export class ReplayUsageError extends Error {
  override readonly name = 'ReplayUsageError';
}

function num(v: number | undefined): number | null {
  return v === undefined || !Number.isFinite(v) ? null : v;
}

/**
 * Replays log lines through the pipeline's processors, chunk by chunk, in event time. Windows close
 * when the file's own watermark (newest event time − allowed lateness) passes their end; `finish()`
 * closes the rest.
 *
 * @example
 * const replay = new LogReplay({ windowMs: 60_000 });
 * for (const item of replay.push(lines)) print(item);
 * for (const item of replay.finish()) print(item);
 * replay.stats().rejected; // { invalid_json: 2 }
 */
export class LogReplay {
  readonly config: HandlerConfig;
  private readonly decodeOptions: DecodeOptions;
  private readonly partitionKey: string;
  private readonly now: () => number;
  private stageOne = StageOneState.initial();
  private readonly detect;
  private seq = 0;
  private readonly s: ReplayStats = {
    lines: 0,
    blankLines: 0,
    events: 0,
    windowed: 0,
    late: 0,
    rejected: {},
    windows: 0,
    zeroFilledWindows: 0,
    alerts: 0,
    recoveries: 0,
  };

  /** @throws {ReplayUsageError} when the configuration is invalid (message lists every problem). */
  constructor(options: ReplayOptions = {}) {
    const tw: Record<string, unknown> = { ...(options.processorConfig ?? {}) };
    if (options.dimensions !== undefined && options.dimensions.length > 0) {
      const window = (typeof tw.window === 'object' && tw.window !== null ? tw.window : {}) as Record<
        string,
        unknown
      >;
      tw.window = { ...window, dimensions: [...options.dimensions] };
    }
    if (options.serviceFromKey !== undefined) {
      const fm = (
        typeof tw.fieldMapping === 'object' && tw.fieldMapping !== null ? tw.fieldMapping : {}
      ) as Record<string, unknown>;
      tw.fieldMapping = { ...fm, service: options.serviceFromKey };
    }
    const env: Record<string, string> = { [EnvVar.config]: JSON.stringify(tw) };
    if (options.windowMs !== undefined) env[EnvVar.windowMs] = String(options.windowMs);
    if (options.allowedLatenessMs !== undefined)
      env[EnvVar.allowedLatenessMs] = String(options.allowedLatenessMs);
    try {
      this.config = readHandlerConfig(env);
    } catch (err) {
      throw new ReplayUsageError((err as Error).message, { cause: err });
    }
    this.partitionKey = options.service ?? 'unknown';
    this.decodeOptions = {
      fieldMapping: this.config.fieldMapping,
      missingTimestamp: this.config.missingTimestamp,
      ...(this.config.defaultService === undefined ? {} : { defaultService: this.config.defaultService }),
    };
    this.now = options.now ?? Date.now;
    this.detect = newDetectShardState(this.config.window);
  }

  stats(): ReplayStats {
    return { ...this.s, rejected: { ...this.s.rejected } };
  }

  private reject(code: RejectCodeName, n = 1): void {
    this.s.rejected[code] = (this.s.rejected[code] ?? 0) + n;
  }

  /** Feeds lines (without their newline); returns the windows and alerts this closed. */
  push(lines: readonly string[]): ReplayItem[] {
    if (lines.length === 0) return [];
    this.s.lines += lines.length;
    // One Kinesis-like record per line: decoding is then exactly the ingest path's, and a reject
    // names its line. No arrival time: a line without its own time cannot be windowed in a replay.
    const records: KinesisEventRecord[] = [];
    for (const line of lines) {
      if (line.trim().length === 0) {
        this.s.blankLines++;
        continue;
      }
      this.seq++;
      records.push({
        kinesis: {
          data: Buffer.from(line, 'utf8').toString('base64'),
          partitionKey: this.partitionKey,
          sequenceNumber: String(this.seq),
          approximateArrivalTimestamp: 0,
        },
      });
    }
    return this.pushRecords(records);
  }

  /**
   * Feeds Kinesis records (as a Lambda event carries them: base64 data, any producer's format —
   * KPL aggregates, gzip CloudWatch Logs envelopes, OTLP exports); returns the windows and alerts
   * this closed. Sequence numbers must increase across calls, as on one shard.
   */
  pushRecords(records: readonly KinesisEventRecord[]): ReplayItem[] {
    if (records.length === 0) return [];
    const decoded = decodeKinesisBatch(records, this.decodeOptions);
    for (let j = 0; j < decoded.rejectCount; j++) this.reject(decoded.rejectCode[j]!);
    this.s.events += decoded.eventCount;
    const eventBytes = decoded.eventRaw.map((r) => Buffer.byteLength(r, 'utf8'));
    const nowMs = this.now();
    const result = aggregateBatch(decoded.events, {
      sourceShard: REPLAY_SHARD,
      firstSequenceNumber: records[0]!.kinesis.sequenceNumber,
      lastSequenceNumber: records[records.length - 1]!.kinesis.sequenceNumber,
      nowMs,
      config: this.config.window,
      state: this.stageOne,
      eventBytes,
    });
    this.stageOne = result.state;
    this.s.late += result.late.length;
    for (const r of result.rejected) this.reject(r.code);
    this.s.windowed += decoded.eventCount - result.late.length - result.rejected.length;
    return this.merge(result.partials, nowMs, false);
  }

  /** Closes every open window (end of input) and returns what that closed. */
  finish(): ReplayItem[] {
    return this.merge([], this.now(), true);
  }

  private merge(partials: readonly WindowPartial[], nowMs: number, flush: boolean): ReplayItem[] {
    // Through the partial codec, as the metrics stream carries them: what detect sees is what we see.
    const carried: WindowPartial[] = [];
    for (const chunk of chunkPartials(partials)) {
      const back = decodePartials(chunk.data);
      if (back.kind === 'ok') carried.push(...back.value);
      else this.reject(RejectCode.partialMalformed);
    }
    const merger = this.detect.merger;
    merger.add(carried, nowMs);
    const closed = flush ? merger.flush(nowMs) : merger.close(nowMs);
    const scored = scoreWindows(
      this.detect,
      closed.closed,
      closed.corrections,
      merger.watermarkMs,
      this.config,
    );
    // scoreWindows lists the records of closed windows first, then those of corrections.
    const firstCorrection = scored.records.length - closed.corrections.length;
    const items: ReplayItem[] = [];
    const windows = scored.records
      .map((r, i) => ({ r, correction: i >= firstCorrection }))
      .filter(({ r }) => r.table === this.config.windowsTable)
      .sort(
        (a, b) =>
          a.r.timeMs - b.r.timeMs ||
          (a.r.dimensions.service ?? '').localeCompare(b.r.dimensions.service ?? ''),
      );
    for (const { r, correction } of windows) items.push(this.toWindow(r, correction));
    this.s.windows += windows.length;
    this.s.zeroFilledWindows += scored.zeroFilled;
    for (const a of scored.alerts) {
      if (a.event.kind === 'alert') this.s.alerts++;
      else this.s.recoveries++;
      items.push({ kind: 'alert', event: a.event, dimensions: extraDimensions(a.dimensions) });
    }
    return items;
  }

  private toWindow(r: SeriesWindowRecord, correction: boolean): ReplayWindow {
    const m = r.measures;
    const windowMs = Number(r.dimensions[Dimension.windowMs] ?? this.config.window.windowMs);
    return {
      kind: 'window',
      service: r.dimensions.service ?? '',
      dimensions: extraDimensions(r.dimensions),
      windowStartMs: r.timeMs,
      windowEndMs: r.timeMs + windowMs,
      count: m[Measure.count.name] ?? 0,
      errors: m[Measure.errors.name] ?? 0,
      p50Ms: num(m[Measure.latencyP50Ms.name]),
      p90Ms: num(m[Measure.latencyP90Ms.name]),
      p99Ms: num(m[Measure.latencyP99Ms.name]),
      anomalyScore: num(m[Measure.anomalyScore.name]),
      correction,
    };
  }
}

/** Dimensions other than `service` and `window_ms` (the configured extra ones). */
function extraDimensions(d: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(d)) if (k !== Dimension.service && k !== Dimension.windowMs) out[k] = v;
  return out;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * The `--json` line of an item: windows as
 * `{"service","windowStart","windowEnd","count","errors","latencyMs":{"p50","p90","p99"}}` (plus
 * `dimensions` when configured, `correction` when it re-emits a window), alerts with `"alert": true`.
 *
 * @example
 * process.stdout.write(`${replayJson(item, false)}\n`);
 */
export function replayJson(item: ReplayItem, withDimensions: boolean): string {
  if (item.kind === 'window') {
    const o: Record<string, unknown> = {
      service: item.service,
      windowStart: iso(item.windowStartMs),
      windowEnd: iso(item.windowEndMs),
      count: item.count,
      errors: item.errors,
      latencyMs: { p50: item.p50Ms, p90: item.p90Ms, p99: item.p99Ms },
    };
    if (withDimensions) o.dimensions = item.dimensions;
    if (item.correction) o.correction = true;
    return JSON.stringify(o);
  }
  const e = item.event;
  const o: Record<string, unknown> = {
    alert: true,
    kind: e.kind,
    service: e.service,
    metric: e.metric,
    windowStart: iso(e.windowStartMs),
    windowEnd: iso(e.windowEndMs),
    value: e.value,
    expectedLow: e.expectedLow,
    expectedHigh: e.expectedHigh,
    score: e.score,
    threshold: e.threshold,
    reason: e.reason,
  };
  if (withDimensions) o.dimensions = item.dimensions;
  return JSON.stringify(o);
}

const METRIC_LABEL: Readonly<Record<MetricName, string>> = {
  error_rate: 'error rate',
  event_rate: 'event rate',
  latency_p99: 'latency p99',
};

function fmtMs(v: number | null): string {
  if (v === null) return '-';
  return v >= 100 ? v.toFixed(0) : v.toFixed(1);
}

function fmtValue(metric: MetricName, v: number): string {
  if (metric === 'error_rate') return `${(v * 100).toFixed(1)}%`;
  if (metric === 'event_rate') return `${v.toFixed(1)}/s`;
  return `${fmtMs(v)} ms`;
}

/** Readable table output: a header once, one row per window, alerts as marked lines. */
class TablePrinter {
  private headerDone = false;
  constructor(
    private readonly out: (s: string) => void,
    private readonly withDimensions: boolean,
  ) {}

  print(item: ReplayItem): void {
    if (item.kind === 'alert') {
      const e = item.event;
      const dims = Object.entries(item.dimensions)
        .map(([k, v]) => ` ${k}=${v}`)
        .join('');
      const mark = e.kind === 'alert' ? '!! ALERT   ' : '   RECOVERY';
      this.out(
        `${mark} ${iso(e.windowStartMs)} ${e.service}${dims} ${METRIC_LABEL[e.metric]} ${fmtValue(e.metric, e.value)}` +
          ` (expected ${fmtValue(e.metric, Math.max(0, e.expectedLow))} – ${fmtValue(e.metric, Math.max(0, e.expectedHigh))}, score ${e.score.toFixed(2)}${e.reason === 'score' ? '' : `, ${e.reason.replace('_', ' ')}`})\n`,
      );
      return;
    }
    if (!this.headerDone) {
      this.headerDone = true;
      this.out(
        `${'window start'.padEnd(24)} ${'service'.padEnd(20)}${this.withDimensions ? ` ${'dimensions'.padEnd(24)}` : ''} ${'count'.padStart(7)} ${'errors'.padStart(6)} ${'err%'.padStart(6)} ${'p50 ms'.padStart(8)} ${'p90 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'score'.padStart(5)}\n`,
      );
    }
    const dims = Object.entries(item.dimensions)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const errPct = item.count > 0 ? `${((100 * item.errors) / item.count).toFixed(1)}` : '-';
    this.out(
      `${iso(item.windowStartMs).padEnd(24)} ${item.service.padEnd(20)}${this.withDimensions ? ` ${dims.padEnd(24)}` : ''} ${String(item.count).padStart(7)} ${String(item.errors).padStart(6)} ${errPct.padStart(6)} ${fmtMs(item.p50Ms).padStart(8)} ${fmtMs(item.p90Ms).padStart(8)} ${fmtMs(item.p99Ms).padStart(8)} ${(item.anomalyScore === null ? '-' : item.anomalyScore.toFixed(2)).padStart(5)}${item.correction ? ' (corrected)' : ''}\n`,
    );
  }
}

function intOption(name: string, raw: string | undefined, min: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) {
    throw new ReplayUsageError(`--${name} must be an integer ≥ ${min} (milliseconds), got '${raw}'`);
  }
  return n;
}

function summaryLine(s: ReplayStats): string {
  const parts = [
    `${s.lines} lines`,
    `${s.events} events`,
    `${s.windows} windows${s.zeroFilledWindows > 0 ? ` (${s.zeroFilledWindows} without events)` : ''}`,
    `${s.alerts} alerts`,
  ];
  return `tidewatch replay: ${parts.join(', ')}\n`;
}

function problemLines(s: ReplayStats, latenessMs: number): string {
  let out = '';
  const codes = Object.entries(s.rejected).sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0));
  const total = codes.reduce((n, [, c]) => n + (c ?? 0), 0);
  if (total > 0) {
    out += `tidewatch replay: ${total} lines or events rejected: ${codes.map(([c, n]) => `${c} ${n}`).join(', ')}\n`;
    if (s.rejected.missing_timestamp !== undefined) {
      out +=
        '  missing_timestamp: the line has no time field tidewatch knows; map it with --config {"fieldMapping":{"time":"<field>"}}\n';
    }
    if (s.rejected.invalid_json !== undefined)
      out += '  invalid_json: the line starts with { or [ but is not JSON\n';
  }
  if (s.late > 0) {
    out += `tidewatch replay: ${s.late} events more than ${latenessMs} ms behind the newest event were counted as late and left out; sort the file or raise --allowed-lateness-ms\n`;
  }
  return out;
}

async function* linesOf(input: Readable): AsyncGenerator<string[]> {
  const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let chunk: string[] = [];
  for await (const line of rl) {
    chunk.push(line);
    if (chunk.length >= CHUNK_LINES) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

/**
 * CLI entry: `tidewatch replay FILE|- [options]`. Resolves to the exit code.
 *
 * @example
 * process.exitCode = await run(['app.log', '--window-ms', '60000', '--json']);
 */
export async function run(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'window-ms': { type: 'string' },
        'allowed-lateness-ms': { type: 'string' },
        json: { type: 'boolean' },
        'service-from-key': { type: 'string' },
        service: { type: 'string' },
        dimensions: { type: 'string' },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`tidewatch replay: ${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1) {
    process.stderr.write(
      `tidewatch replay: ${positionals.length === 0 ? 'name a log file, or - for standard input' : `expected one file, got ${positionals.length}`}.\n\n${USAGE}\n`,
    );
    return 2;
  }
  const file = positionals[0]!;
  let replay: LogReplay;
  try {
    let processorConfig: Record<string, unknown> | undefined;
    if (typeof values.config === 'string') {
      let text: string;
      try {
        text = await readFile(values.config, 'utf8');
      } catch (err) {
        throw new ReplayUsageError(`cannot read --config ${values.config}: ${(err as Error).message}`);
      }
      try {
        const parsed: unknown = JSON.parse(text);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
          throw new Error('not an object');
        processorConfig = parsed as Record<string, unknown>;
      } catch (err) {
        throw new ReplayUsageError(
          `--config ${values.config} must hold a JSON object like {"window":{"dimensions":["route"]}} (${(err as Error).message})`,
        );
      }
    }
    const dimensions =
      typeof values.dimensions === 'string'
        ? values.dimensions
            .split(',')
            .map((d) => d.trim())
            .filter((d) => d.length > 0)
        : undefined;
    const windowMs = intOption('window-ms', values['window-ms'] as string | undefined, 1);
    const allowedLatenessMs = intOption(
      'allowed-lateness-ms',
      values['allowed-lateness-ms'] as string | undefined,
      0,
    );
    replay = new LogReplay({
      ...(windowMs === undefined ? {} : { windowMs }),
      ...(allowedLatenessMs === undefined ? {} : { allowedLatenessMs }),
      ...(typeof values['service-from-key'] === 'string'
        ? { serviceFromKey: values['service-from-key'] }
        : {}),
      ...(typeof values.service === 'string' ? { service: values.service } : {}),
      ...(dimensions === undefined ? {} : { dimensions }),
      ...(processorConfig === undefined ? {} : { processorConfig }),
    });
  } catch (err) {
    if (err instanceof ReplayUsageError) {
      process.stderr.write(`tidewatch replay: ${err.message}\n`);
      return 2;
    }
    throw err;
  }

  let input: Readable;
  if (file === '-') input = process.stdin;
  else {
    try {
      if (!statSync(file).isFile()) {
        process.stderr.write(`tidewatch replay: ${file} is not a file.\n`);
        return 2;
      }
    } catch {
      process.stderr.write(
        `tidewatch replay: ${file} does not exist (pass a log file, or - for standard input).\n`,
      );
      return 2;
    }
    input = createReadStream(file);
  }

  const withDimensions = replay.config.window.dimensions.length > 0;
  const json = values.json === true;
  // Respect stdout backpressure: a large replay piped into `head` or a slow consumer must not buffer.
  let pending = '';
  const write = (s: string) => {
    pending += s;
  };
  const table = new TablePrinter(write, withDimensions);
  const emit = (items: ReplayItem[]) => {
    if (items.length === 0) return;
    if (json) write(`${items.map((i) => replayJson(i, withDimensions)).join('\n')}\n`);
    else for (const i of items) table.print(i);
  };
  try {
    for await (const chunk of linesOf(input)) {
      emit(replay.push(chunk));
      if (pending.length > 0) {
        const text = pending;
        pending = '';
        if (!process.stdout.write(text)) await new Promise((r) => process.stdout.once('drain', r));
      }
    }
  } catch (err) {
    process.stderr.write(
      `tidewatch replay: cannot read ${file === '-' ? 'standard input' : file}: ${(err as Error).message}\n`,
    );
    return 1;
  }
  emit(replay.finish());
  if (pending.length > 0) process.stdout.write(pending);
  const s = replay.stats();
  process.stderr.write(summaryLine(s));
  process.stderr.write(problemLines(s, replay.config.window.allowedLatenessMs));
  return 0;
}
