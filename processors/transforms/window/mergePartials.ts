/**
 * Stage two (detect side): merges partial window summaries per (series, window) with
 * exactly-once effect, tracks the merged watermark over source shards, closes windows, emits
 * corrections for late-but-allowed data, counts what arrives too late, and evicts closed windows.
 * The whole state serializes to JSON (`toState` / `fromState`) for DynamoDB checkpoints.
 * Design and guarantees: docs/windows.md.
 */
import { Dimension, Measure, Names } from '../../schema.ts';
import type { RuleAggregate, WindowPartial } from './aggregateBatch.ts';
import { MergerStateError } from './errors.ts';
import { compareSequenceNumbers, isSequenceNumber } from './sequenceNumber.ts';
import { type SeriesDimensions, seriesDimensionRecord, seriesKey } from './seriesKey.ts';
import {
  type ByteReader,
  ByteWriter,
  QuantileSketch,
  readBytes,
  readF64,
  readU8,
  readVarint,
} from './sketch.ts';
import type { ConfigOutcome, WindowConfig } from './windowConfig.ts';

/**
 * A window ready for the time-series sink. Structurally a `SeriesWindowRecord`
 * (processors/sinks/timeSeriesRecord.ts): `table`, `dimensions`, `timeMs`, `version`, `measures`.
 */
export interface ClosedWindow {
  readonly table: string;
  readonly seriesKey: string;
  /** `service`, configured dimensions, and `window_ms`. */
  readonly dimensions: Record<string, string>;
  /** Window start (the record's time). */
  readonly timeMs: number;
  readonly windowStartMs: number;
  readonly windowEndMs: number;
  readonly windowMs: number;
  /**
   * Timestream version: the number of events merged so far. Deterministic for a given set of
   * merged partials and strictly higher for every correction (a partial carries ≥ 1 event).
   */
  readonly version: number;
  readonly measures: Partial<Record<string, number>>;
  /** true when this re-emits a window already closed, with late data merged in. */
  readonly correction: boolean;
  /** Partials merged into the window. */
  readonly contributions: number;
}

/** Counters of one `add` call (telemetry per batch). */
export interface AddStats {
  /** Partials merged into a window. */
  merged: number;
  /** Partials already merged (same or contained sequence range) — skipped. */
  duplicates: number;
  /** Partials whose range partially overlaps a merged one: skipped to avoid double counting. */
  conflicts: number;
  conflictEvents: number;
  /** Partials for windows already evicted: too late to merge. */
  late: number;
  lateEvents: number;
  /** Partials without events (watermark heartbeats). */
  heartbeats: number;
  /** Partials merged into an already closed window (a correction will follow). */
  intoClosed: number;
}

/** Output of one `close` call. */
export interface CloseResult {
  readonly closed: ClosedWindow[];
  readonly corrections: ClosedWindow[];
  /** Closed windows evicted from memory in this call. */
  readonly evicted: number;
  readonly watermarkMs: number;
}

/** Output of `merge` = `add` + `close`. */
export interface MergeResult extends CloseResult {
  readonly stats: AddStats;
}

interface SourceInfo {
  watermarkMs: number;
  lastSeenAtMs: number;
}

interface WindowAcc {
  readonly startMs: number;
  readonly windowMs: number;
  count: number;
  errors: number;
  status4xx: number;
  status5xx: number;
  bytes: number;
  latency: QuantileSketch;
  rules: RuleAggregate[];
  /** shard → flat [first, last, first, last, …] of merged sequence ranges. */
  ranges: Map<string, string[]>;
  contributions: number;
  lastContributionAtMs: number;
  /** −1 while open. */
  closedAtMs: number;
  dirty: boolean;
  /**
   * Where this window's checkpoint bytes sit in its series' cached record (−1 = changed since):
   * reused until the window changes.
   */
  encodedAt: number;
  encodedLength: number;
}

interface SeriesState {
  readonly key: string;
  readonly dims: SeriesDimensions;
  /** By window start. */
  readonly windows: Map<number, WindowAcc>;
  /** Highest last sequence number merged, per source shard. */
  readonly frontier: Map<string, string>;
  /** Windows ending at or before this were evicted. */
  horizonEndMs: number;
  /** Binary checkpoint of the series as last written (a view into that checkpoint), or none yet. */
  record: Uint8Array | undefined;
}

/** What {@link WindowMerger.writeSeriesRecords} wrote, for {@link WindowMerger.adoptSeriesRecords}. */
export interface SeriesRecordsWritten {
  readonly series: SeriesState[];
  /** Flat [start, end) of each record in the writer. */
  readonly bounds: number[];
  /** Per re-encoded series (`undefined` = copied): flat [at, length] of its windows in the record. */
  readonly windowOffsets: (number[] | undefined)[];
}

/** JSON checkpoint of a `WindowMerger` (sketches base64). See docs/windows.md for sizes. */
export interface WindowMergerState {
  readonly v: 1;
  readonly watermarkMs: number | null;
  readonly horizonMs: number | null;
  readonly sources: [shard: string, watermarkMs: number | null, lastSeenAtMs: number][];
  readonly series: SeriesStateJson[];
}

/** One series of a checkpoint; self-contained, so a handler may store series in separate items. */
export interface SeriesStateJson {
  readonly dims: SeriesDimensions;
  readonly horizonEndMs: number | null;
  readonly frontier: [shard: string, sequenceNumber: string][];
  readonly windows: WindowStateJson[];
}

export interface WindowStateJson {
  readonly start: number;
  readonly size: number;
  readonly count: number;
  readonly errors: number;
  readonly status4xx: number;
  readonly status5xx: number;
  readonly bytes: number;
  readonly latency: string;
  readonly rules: [name: string, kind: RuleAggregate['kind'], value: number, sketch: string | null][];
  readonly ranges: [shard: string, firstLast: string[]][];
  readonly contributions: number;
  readonly lastContributionAtMs: number | null;
  readonly closedAtMs: number;
  readonly dirty: boolean;
}

function emptyStats(): AddStats {
  return {
    merged: 0,
    duplicates: 0,
    conflicts: 0,
    conflictEvents: 0,
    late: 0,
    lateEvents: 0,
    heartbeats: 0,
    intoClosed: 0,
  };
}

const RANGE_NEW = 0;
const RANGE_DUPLICATE = 1;
const RANGE_CONFLICT = 2;

/** Classifies [first, last] against merged ranges: new (disjoint), duplicate (contained), conflict. */
function classifyRange(ranges: readonly string[] | undefined, first: string, last: string): number {
  if (ranges === undefined) return RANGE_NEW;
  for (let i = 0; i < ranges.length; i += 2) {
    const a = ranges[i]!;
    const b = ranges[i + 1]!;
    if (compareSequenceNumbers(last, a) < 0 || compareSequenceNumbers(first, b) > 0) continue;
    return compareSequenceNumbers(first, a) >= 0 && compareSequenceNumbers(last, b) <= 0
      ? RANGE_DUPLICATE
      : RANGE_CONFLICT;
  }
  return RANGE_NEW;
}

/**
 * Stage-two merger for the series one metrics shard owns.
 *
 * @example
 * const merger = new WindowMerger(config);           // or WindowMerger.fromState(config, checkpoint)
 * const out = merger.merge(partials, Date.now());    // add + close
 * await sink.write([...out.closed, ...out.corrections]);
 * await checkpoint.save(merger.toState());
 */
export class WindowMerger {
  private readonly series = new Map<string, SeriesState>();
  private readonly sources = new Map<string, SourceInfo>();
  private watermark = Number.NEGATIVE_INFINITY;
  /** Every window ending at or before this is evicted, for every series (watermark − retention). */
  private horizonMs = Number.NEGATIVE_INFINITY;
  /**
   * Series whose state changed (created, merged into, closed, corrected, evicted, deleted) since the
   * last `takeTouchedSeries()`: an incremental checkpoint re-encodes only these.
   */
  private touched = new Set<string>();

  constructor(readonly config: WindowConfig) {}

  /** Merged watermark (monotone): min over active sources of their watermark. */
  get watermarkMs(): number {
    return this.watermark;
  }

  /**
   * Merges partials. Each is merged at most once: a partial whose (series, window, source shard)
   * already holds a sequence range containing its own is a duplicate; a partial overlapping a
   * merged range without being contained in it is a conflict, skipped and counted.
   *
   * @example
   * const stats = merger.add(decoded.value, Date.now());
   */
  add(partials: readonly WindowPartial[], nowMs: number): AddStats {
    const stats = emptyStats();
    for (let i = 0; i < partials.length; i++) this.addOne(partials[i]!, nowMs, stats);
    return stats;
  }

  private addOne(p: WindowPartial, nowMs: number, stats: AddStats): void {
    let src = this.sources.get(p.sourceShard);
    if (src === undefined) {
      src = { watermarkMs: p.sourceWatermarkMs, lastSeenAtMs: nowMs };
      this.sources.set(p.sourceShard, src);
    } else {
      if (p.sourceWatermarkMs > src.watermarkMs) src.watermarkMs = p.sourceWatermarkMs;
      if (nowMs > src.lastSeenAtMs) src.lastSeenAtMs = nowMs;
    }
    if (p.count === 0) {
      stats.heartbeats++;
      return;
    }
    const endMs = p.windowStartMs + p.windowMs;
    let s = this.series.get(p.seriesKey);
    if (endMs <= this.horizonMs || (s !== undefined && endMs <= s.horizonEndMs)) {
      const f = s?.frontier.get(p.sourceShard);
      if (f !== undefined && compareSequenceNumbers(p.lastSequenceNumber, f) <= 0) stats.duplicates++;
      else {
        stats.late++;
        stats.lateEvents += p.count;
      }
      return;
    }
    if (s === undefined) {
      s = {
        key: p.seriesKey,
        dims: p.dimensions,
        windows: new Map(),
        frontier: new Map(),
        horizonEndMs: Number.NEGATIVE_INFINITY,
        record: undefined,
      };
      this.series.set(p.seriesKey, s);
      this.touched.add(p.seriesKey);
    }
    let w = s.windows.get(p.windowStartMs);
    // A config change mid-stream must not mix window sizes in one window.
    if (w !== undefined && w.windowMs !== p.windowMs) {
      stats.conflicts++;
      stats.conflictEvents += p.count;
      return;
    }
    if (w === undefined) {
      w = newWindow(p.windowStartMs, p.windowMs, this.config.relativeAccuracy);
      s.windows.set(p.windowStartMs, w);
    }
    const ranges = w.ranges.get(p.sourceShard);
    const cls = classifyRange(ranges, p.firstSequenceNumber, p.lastSequenceNumber);
    if (cls === RANGE_DUPLICATE) {
      stats.duplicates++;
      return;
    }
    if (cls === RANGE_CONFLICT) {
      stats.conflicts++;
      stats.conflictEvents += p.count;
      return;
    }
    mergeInto(w, p);
    w.encodedAt = -1;
    this.touched.add(s.key);
    if (ranges === undefined) w.ranges.set(p.sourceShard, [p.firstSequenceNumber, p.lastSequenceNumber]);
    else ranges.push(p.firstSequenceNumber, p.lastSequenceNumber);
    w.contributions++;
    w.lastContributionAtMs = nowMs;
    const f = s.frontier.get(p.sourceShard);
    if (f === undefined || compareSequenceNumbers(p.lastSequenceNumber, f) > 0) {
      s.frontier.set(p.sourceShard, p.lastSequenceNumber);
    }
    stats.merged++;
    if (w.closedAtMs >= 0) {
      w.dirty = true;
      stats.intoClosed++;
    }
  }

  /**
   * Advances the merged watermark and closes windows whose end it has passed — or every window
   * idle for `idleSourceTimeoutMs` once no source is active (traffic stopped); emits corrections for
   * closed windows that received data; evicts closed windows `closedRetentionMs` past their end.
   *
   * @example
   * const { closed, corrections } = merger.close(Date.now());
   */
  close(nowMs: number): CloseResult {
    const cfg = this.config;
    let minActive = Number.POSITIVE_INFINITY;
    let active = 0;
    for (const src of this.sources.values()) {
      if (nowMs - src.lastSeenAtMs < cfg.idleSourceTimeoutMs) {
        active++;
        if (src.watermarkMs < minActive) minActive = src.watermarkMs;
      }
    }
    if (active > 0 && minActive > this.watermark) this.watermark = minActive;
    const allIdle = active === 0;
    const wm = this.watermark;
    const retention = cfg.closedRetentionMs;
    const closed: ClosedWindow[] = [];
    const corrections: ClosedWindow[] = [];
    let evicted = 0;
    const touched = this.touched;
    for (const [key, s] of this.series) {
      for (const [wkey, w] of s.windows) {
        const endMs = w.startMs + w.windowMs;
        if (w.closedAtMs < 0) {
          if (endMs <= wm || (allIdle && nowMs - w.lastContributionAtMs >= cfg.idleSourceTimeoutMs)) {
            w.closedAtMs = nowMs;
            w.dirty = false;
            w.encodedAt = -1;
            compactWindow(w);
            closed.push(toClosedWindow(s, w, false));
            touched.add(key);
          }
        } else if (w.dirty) {
          compactWindow(w);
          w.dirty = false;
          w.encodedAt = -1;
          corrections.push(toClosedWindow(s, w, true));
          touched.add(key);
        }
        if (
          w.closedAtMs >= 0 &&
          (endMs + retention <= wm || (allIdle && nowMs - w.closedAtMs >= retention))
        ) {
          s.windows.delete(wkey);
          if (endMs > s.horizonEndMs) s.horizonEndMs = endMs;
          evicted++;
          touched.add(key);
        }
      }
      if (s.windows.size === 0 && s.horizonEndMs <= this.horizonMs) {
        this.series.delete(key);
        touched.add(key);
      }
    }
    if (wm - retention > this.horizonMs) this.horizonMs = wm - retention;
    return { closed, corrections, evicted, watermarkMs: wm };
  }

  /**
   * `add` then `close`: what a detect invocation does with one batch.
   *
   * @example
   * const { closed, corrections, stats } = merger.merge(partials, Date.now());
   */
  merge(partials: readonly WindowPartial[], nowMs: number): MergeResult {
    const stats = this.add(partials, nowMs);
    return { ...this.close(nowMs), stats };
  }

  /**
   * Closes every open window now and emits pending corrections (end of a replay, shutdown of the
   * embedded mode). Windows stay in memory as closed, so duplicates are still recognized.
   *
   * @example
   * const { closed } = merger.flush(Date.now());
   */
  flush(nowMs: number): CloseResult {
    const closed: ClosedWindow[] = [];
    const corrections: ClosedWindow[] = [];
    for (const s of this.series.values()) {
      for (const w of s.windows.values()) {
        if (w.closedAtMs < 0) {
          w.closedAtMs = nowMs;
          w.dirty = false;
          w.encodedAt = -1;
          closed.push(toClosedWindow(s, w, false));
          this.touched.add(s.key);
        } else if (w.dirty) {
          w.dirty = false;
          w.encodedAt = -1;
          corrections.push(toClosedWindow(s, w, true));
          this.touched.add(s.key);
        }
      }
    }
    return { closed, corrections, evicted: 0, watermarkMs: this.watermark };
  }

  /**
   * Size of the state: series, open and retained closed windows, and an estimate of the bytes they
   * hold (sketch stores + counters + dedupe ranges + object overhead).
   */
  memoryStats(): {
    series: number;
    openWindows: number;
    closedWindows: number;
    sources: number;
    approxBytes: number;
  } {
    let open = 0;
    let closedN = 0;
    let bytes = 0;
    for (const s of this.series.values()) {
      bytes += 200 + s.key.length * 2 + s.frontier.size * 160;
      for (const w of s.windows.values()) {
        if (w.closedAtMs < 0) open++;
        else closedN++;
        bytes += 260 + w.latency.memoryBytes;
        for (const r of w.rules) bytes += 64 + (r.sketch?.memoryBytes ?? 0);
        for (const list of w.ranges.values()) bytes += 80 + list.length * 80;
      }
    }
    return {
      series: this.series.size,
      openWindows: open,
      closedWindows: closedN,
      sources: this.sources.size,
      approxBytes: bytes,
    };
  }

  /**
   * Serializable checkpoint (JSON; sketches base64). Restore with `WindowMerger.fromState`.
   *
   * @example
   * await ddb.put({ pk: shardId, state: JSON.stringify(merger.toState()) });
   */
  toState(): WindowMergerState {
    const sources: WindowMergerState['sources'] = [];
    for (const [shard, s] of this.sources) sources.push([shard, finiteOrNull(s.watermarkMs), s.lastSeenAtMs]);
    const series: SeriesStateJson[] = [];
    for (const s of this.series.values()) {
      const windows: WindowStateJson[] = [];
      for (const w of s.windows.values()) {
        windows.push({
          start: w.startMs,
          size: w.windowMs,
          count: w.count,
          errors: w.errors,
          status4xx: w.status4xx,
          status5xx: w.status5xx,
          bytes: w.bytes,
          latency: toBase64(w.latency.encode()),
          rules: w.rules.map((r) => [r.name, r.kind, r.value, r.sketch ? toBase64(r.sketch.encode()) : null]),
          ranges: [...w.ranges].map(([shard, list]) => [shard, [...list]]),
          contributions: w.contributions,
          lastContributionAtMs: finiteOrNull(w.lastContributionAtMs),
          closedAtMs: w.closedAtMs,
          dirty: w.dirty,
        });
      }
      series.push({
        dims: s.dims,
        horizonEndMs: finiteOrNull(s.horizonEndMs),
        frontier: [...s.frontier],
        windows,
      });
    }
    return {
      v: 1,
      watermarkMs: finiteOrNull(this.watermark),
      horizonMs: finiteOrNull(this.horizonMs),
      sources,
      series,
    };
  }

  /**
   * Restores a checkpoint written by `toState`. Never throws: a state that does not validate is
   * `{ kind: 'invalid', problems }` (start empty and alert, do not crash-loop).
   *
   * @example
   * const restored = WindowMerger.fromState(config, JSON.parse(item.state));
   * const merger = restored.kind === 'ok' ? restored.value : new WindowMerger(config);
   */
  static fromState(config: WindowConfig, state: unknown): ConfigOutcome<WindowMerger> {
    try {
      return { kind: 'ok', value: restore(config, state) };
    } catch (err) {
      return { kind: 'invalid', problems: [`merger state: ${(err as Error).message}`] };
    }
  }

  /**
   * Keys of the series whose state changed (including series deleted) since the last checkpoint
   * adopted with {@link WindowMerger.adoptSeriesRecords}: the ones the next checkpoint re-encodes.
   *
   * @example
   * merger.touchedSeries().has('checkout');
   */
  touchedSeries(): ReadonlySet<string> {
    return this.touched;
  }

  /** Series keys in merge order (the order `close` visits them). */
  seriesKeys(): IterableIterator<string> {
    return this.series.keys();
  }

  /**
   * Appends the checkpoint records of every series to `w` — a varint count, then per series a varint
   * length and the record ({@link WindowMerger.encodeSeries} bytes) — re-encoding only touched series
   * (and within them only changed windows) and copying the bytes of the rest. Changes nothing until
   * {@link WindowMerger.adoptSeriesRecords}.
   *
   * @example
   * const written = merger.writeSeriesRecords(w);
   * const blob = w.finish();
   * merger.adoptSeriesRecords(blob, written);
   */
  writeSeriesRecords(w: ByteWriter): SeriesRecordsWritten {
    const out: SeriesRecordsWritten = { series: [], bounds: [], windowOffsets: [] };
    w.varint(this.series.size);
    for (const s of this.series.values()) {
      let bytes = s.record;
      let offsets: number[] | undefined;
      if (bytes === undefined || this.touched.has(s.key)) {
        offsets = [];
        const scratch = seriesScratch;
        scratch.length = 0;
        encodeSeriesTo(scratch, s, offsets);
        bytes = writtenBytes(scratch);
      }
      w.varint(bytes.length);
      out.bounds.push(w.length, w.length + bytes.length);
      w.bytes(bytes);
      out.series.push(s);
      out.windowOffsets.push(offsets);
    }
    return out;
  }

  /**
   * Makes the records written by {@link WindowMerger.writeSeriesRecords} the cached ones: `blob` holds
   * the writer's bytes at the same offsets. The next checkpoint copies them unless touched again.
   */
  adoptSeriesRecords(blob: Uint8Array, written: SeriesRecordsWritten): void {
    for (let i = 0; i < written.series.length; i++) {
      const s = written.series[i]!;
      s.record = blob.subarray(written.bounds[2 * i]!, written.bounds[2 * i + 1]!);
      const offsets = written.windowOffsets[i];
      if (offsets === undefined) continue;
      let k = 0;
      for (const win of s.windows.values()) {
        win.encodedAt = offsets[k++]!;
        win.encodedLength = offsets[k++]!;
      }
    }
    this.touched = new Set();
  }

  /** Forgets every cached record: the next checkpoint re-encodes everything (a cold checkpoint). */
  invalidateSeriesRecords(): void {
    for (const s of this.series.values()) {
      s.record = undefined;
      for (const win of s.windows.values()) win.encodedAt = -1;
    }
  }

  /**
   * Binary checkpoint of one series (self-contained: dimensions, horizon, frontier, windows with
   * their sketches and dedupe ranges), or `undefined` when the merger holds no such series.
   * Restore with {@link WindowMerger.fromBinary}.
   *
   * @example
   * const bytes = merger.encodeSeries('checkout');
   */
  encodeSeries(key: string): Uint8Array | undefined {
    const s = this.series.get(key);
    if (s === undefined) return undefined;
    const w = new ByteWriter(1024);
    encodeSeriesTo(w, s, undefined);
    return w.finish();
  }

  /**
   * Binary checkpoint of what is not per series: merged watermark, eviction horizon, source shards.
   *
   * @example
   * const globals = merger.encodeGlobals();
   */
  encodeGlobals(): Uint8Array {
    const w = new ByteWriter(64 + 48 * this.sources.size);
    w.u8(BINARY_VERSION);
    w.f64(this.watermark);
    w.f64(this.horizonMs);
    w.varint(this.sources.size);
    for (const [shard, src] of this.sources) {
      writeString(w, shard);
      w.f64(src.watermarkMs);
      w.f64(src.lastSeenAtMs);
    }
    return w.finish();
  }

  /**
   * Restores a merger from {@link WindowMerger.encodeGlobals} and {@link WindowMerger.encodeSeries}
   * outputs (series in the order given; the merger keeps views of them as its cached records). Never
   * throws; the restored merger has no touched series.
   *
   * @example
   * const restored = WindowMerger.fromBinary(config, globals, seriesRecords);
   */
  static fromBinary(
    config: WindowConfig,
    globals: Uint8Array,
    series: readonly Uint8Array[],
  ): ConfigOutcome<WindowMerger> {
    try {
      const m = new WindowMerger(config);
      const r = reader(globals);
      const version = readU8(r);
      if (version !== BINARY_VERSION) throw new MergerStateError(`unknown binary version ${version}`);
      m.watermark = readF64(r);
      m.horizonMs = readF64(r);
      const n = readVarint(r);
      for (let i = 0; i < n; i++) {
        const shard = readString(r);
        m.sources.set(shard, { watermarkMs: readF64(r), lastSeenAtMs: readF64(r) });
      }
      for (const bytes of series) {
        const s = decodeSeriesFrom(reader(bytes), config.relativeAccuracy);
        if (m.series.has(s.key)) throw new MergerStateError(`series ${s.key} appears twice`);
        m.series.set(s.key, s);
      }
      return { kind: 'ok', value: m };
    } catch (err) {
      return { kind: 'invalid', problems: [`merger state: ${(err as Error).message}`] };
    }
  }
}

const BINARY_VERSION = 1;
/** Reused for every re-encoded record: allocating a writer (and its copy) per record was most of the encode time. */
const seriesScratch = new ByteWriter(16 * 1024);

/**
 * The bytes written so far, without copying them (valid until the writer's next write). Reads the
 * writer's buffer, which `ByteWriter` keeps private; falls back to a copy if that ever changes.
 *
 * @internal
 */
export function writtenBytes(w: ByteWriter): Uint8Array {
  const buf = (w as unknown as { buf?: unknown }).buf;
  return buf instanceof Uint8Array ? buf.subarray(0, w.length) : w.finish();
}
const RULE_KINDS = ['count', 'sum', 'sketch'] as const;
const textDecoder = new TextDecoder('utf-8', { fatal: true });

function reader(bytes: Uint8Array): ByteReader {
  return { bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 };
}

/**
 * A length-prefixed UTF-8 string. Keys, shard ids and sequence numbers are ASCII: written byte by
 * byte without an intermediate buffer.
 *
 * @internal
 */
export function writeString(w: ByteWriter, s: string): void {
  // One native UTF-8 write into a scratch buffer, then one copy (a per-character loop was a third
  // of the merger's encode time).
  if (s.length * 3 > stringScratch.length) {
    const b = Buffer.from(s, 'utf8');
    w.varint(b.length);
    w.bytes(b);
    return;
  }
  const n = stringScratch.write(s, 0, 'utf8');
  w.varint(n);
  w.bytes(stringScratch.subarray(0, n));
}

const stringScratch = Buffer.allocUnsafe(4096);

/** @internal */
export function readString(r: ByteReader): string {
  const b = readBytes(r, readVarint(r));
  // Keys, shard ids and names are short ASCII: skip the decoder's per-call cost for those.
  if (b.length <= 64) {
    let ascii = true;
    for (let i = 0; i < b.length; i++) {
      if (b[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return String.fromCharCode.apply(null, b as unknown as number[]);
  }
  return textDecoder.decode(b);
}

/**
 * Writes a series record; windows unchanged since `s.record` are copied from it. `offsets` receives
 * each window's [at, length] relative to the record's start.
 */
function encodeSeriesTo(w: ByteWriter, s: SeriesState, offsets: number[] | undefined): void {
  const start = w.length;
  const d = s.dims;
  w.u8((d.route === undefined ? 0 : 1) | (d.statusClass === undefined ? 0 : 2));
  writeString(w, d.service);
  if (d.route !== undefined) writeString(w, d.route);
  if (d.statusClass !== undefined) writeString(w, d.statusClass);
  w.f64(s.horizonEndMs);
  // The frontier lists every shard the series' windows hold ranges of, in first-merge order (entries
  // are never removed), so windows name shards by their index here.
  w.varint(s.frontier.size);
  for (const [shard, f] of s.frontier) {
    writeString(w, shard);
    writeSequenceNumber(w, f);
  }
  w.varint(s.windows.size);
  const prev = s.record;
  for (const win of s.windows.values()) {
    const at = w.length;
    if (win.encodedAt >= 0 && prev !== undefined) {
      w.bytes(prev.subarray(win.encodedAt, win.encodedAt + win.encodedLength));
    } else encodeWindowTo(w, win, s.frontier);
    offsets?.push(at - start, w.length - at);
  }
}

/** 1 + the shard's index in the frontier; 0 = not there (never by construction), name follows. */
function writeShard(w: ByteWriter, frontier: ReadonlyMap<string, string>, shard: string): void {
  let i = 1;
  for (const k of frontier.keys()) {
    if (k === shard) {
      w.varint(i);
      return;
    }
    i++;
  }
  w.varint(0);
  writeString(w, shard);
}

/**
 * A canonical sequence number (decimal, ≤ 129 digits) as its digit count and packed digit pairs:
 * half the bytes of the string.
 */
function writeSequenceNumber(w: ByteWriter, s: string): void {
  const n = s.length;
  w.varint(n);
  // Packed into a scratch buffer, then one copy (a write call per byte was most of a window's encode).
  const out = seqScratch;
  let k = 0;
  for (let i = 0; i < n; i += 2) {
    const hi = s.charCodeAt(i) - 48;
    const lo = i + 1 < n ? s.charCodeAt(i + 1) - 48 : 0;
    out[k++] = hi * 10 + lo;
  }
  w.bytes(out.subarray(0, k));
}

const windowHeadBytes = new Uint8Array(56);
const windowHead = new DataView(windowHeadBytes.buffer);
const windowTailBytes = new Uint8Array(25);
const windowTail = new DataView(windowTailBytes.buffer);

/** Canonical sequence numbers have at most 129 digits (sequenceNumber.ts). */
const seqScratch = new Uint8Array(65);

function readSequenceNumber(r: ByteReader): string {
  const n = readVarint(r);
  if (n < 1 || n > 129) throw new MergerStateError(`sequence number of ${n} digits`);
  const bytes = readBytes(r, Math.ceil(n / 2));
  // Digits into a scratch buffer, one string at the end (concatenating pairs, then validating with
  // the regular expression, was most of a restore's merger time).
  const digits = digitScratch;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b > 99) throw new MergerStateError('sequence number digit pair out of range');
    digits[2 * i] = 48 + Math.floor(b / 10);
    digits[2 * i + 1] = 48 + (b % 10);
  }
  // Canonical form (isSequenceNumber): no leading zero unless the number is 0.
  if (n > 1 && digits[0] === 48) throw new MergerStateError('sequence number with a leading zero');
  return digits.toString('latin1', 0, n);
}

const digitScratch = Buffer.alloc(130);

function encodeWindowTo(w: ByteWriter, win: WindowAcc, frontier: ReadonlyMap<string, string>): void {
  // The fixed numeric fields as one little-endian block, copied once.
  const head = windowHead;
  head.setFloat64(0, win.startMs, true);
  head.setFloat64(8, win.windowMs, true);
  head.setFloat64(16, win.count, true);
  head.setFloat64(24, win.errors, true);
  head.setFloat64(32, win.status4xx, true);
  head.setFloat64(40, win.status5xx, true);
  head.setFloat64(48, win.bytes, true);
  w.bytes(windowHeadBytes);
  win.latency.encodeTo(w);
  w.varint(win.rules.length);
  for (const r of win.rules) {
    writeString(w, r.name);
    if (r.sketch !== undefined) {
      w.u8(2);
      r.sketch.encodeTo(w);
    } else {
      w.u8(r.kind === 'sum' ? 1 : 0);
      w.f64(r.value);
    }
  }
  w.varint(win.ranges.size);
  for (const [shard, list] of win.ranges) {
    writeShard(w, frontier, shard);
    w.varint(list.length);
    for (let i = 0; i < list.length; i++) writeSequenceNumber(w, list[i]!);
  }
  const tail = windowTail;
  tail.setFloat64(0, win.contributions, true);
  tail.setFloat64(8, win.lastContributionAtMs, true);
  tail.setFloat64(16, win.closedAtMs, true);
  windowTailBytes[24] = win.dirty ? 1 : 0;
  w.bytes(windowTailBytes);
}

function decodeSeriesFrom(r: ByteReader, alpha: number): SeriesState {
  const flags = readU8(r);
  const dims: { service: string; route?: string; statusClass?: string } = { service: readString(r) };
  if ((flags & 1) !== 0) dims.route = readString(r);
  if ((flags & 2) !== 0) dims.statusClass = readString(r);
  const s: SeriesState = {
    key: seriesKey(dims),
    dims,
    windows: new Map(),
    frontier: new Map(),
    horizonEndMs: readF64(r),
    record: r.bytes,
  };
  const nFrontier = readVarint(r);
  const shards: string[] = [];
  for (let i = 0; i < nFrontier; i++) {
    const shard = readString(r);
    shards.push(shard);
    s.frontier.set(shard, readSequenceNumber(r));
  }
  const nWindows = readVarint(r);
  for (let i = 0; i < nWindows; i++) {
    const from = r.offset;
    const w = newWindow(readF64(r), readF64(r), alpha);
    w.count = readF64(r);
    w.errors = readF64(r);
    w.status4xx = readF64(r);
    w.status5xx = readF64(r);
    w.bytes = readF64(r);
    w.latency = QuantileSketch.decodeFrom(r);
    const nRules = readVarint(r);
    for (let k = 0; k < nRules; k++) {
      const name = readString(r);
      const kind = RULE_KINDS[readU8(r)];
      if (kind === undefined) throw new MergerStateError('unknown rule kind');
      if (kind === 'sketch') {
        const sketch = QuantileSketch.decodeFrom(r);
        w.rules.push({ name, kind, value: sketch.count, sketch });
      } else w.rules.push({ name, kind, value: readF64(r) });
    }
    const nRanges = readVarint(r);
    for (let k = 0; k < nRanges; k++) {
      const index = readVarint(r);
      const shard = index === 0 ? readString(r) : shards[index - 1];
      if (shard === undefined) throw new MergerStateError('range shard index out of bounds');
      const n = readVarint(r);
      if (n % 2 !== 0) throw new MergerStateError('ranges must be [first, last] pairs');
      const list: string[] = new Array(n);
      for (let j = 0; j < n; j++) list[j] = readSequenceNumber(r);
      w.ranges.set(shard, list);
    }
    w.contributions = readF64(r);
    w.lastContributionAtMs = readF64(r);
    w.closedAtMs = readF64(r);
    w.dirty = readU8(r) === 1;
    // These bytes are what encoding the window again would produce: reuse them.
    w.encodedAt = from;
    w.encodedLength = r.offset - from;
    s.windows.set(w.startMs, w);
  }
  if (r.offset !== r.bytes.length) throw new MergerStateError('trailing bytes after series');
  return s;
}

function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

function toBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

function fromBase64(s: unknown): Uint8Array {
  if (typeof s !== 'string') throw new Error('sketch must be a base64 string');
  return new Uint8Array(Buffer.from(s, 'base64'));
}

function compactWindow(w: WindowAcc): void {
  w.latency.compact();
  for (const r of w.rules) r.sketch?.compact();
}

function newWindow(startMs: number, windowMs: number, alpha: number): WindowAcc {
  return {
    startMs,
    windowMs,
    count: 0,
    errors: 0,
    status4xx: 0,
    status5xx: 0,
    bytes: 0,
    latency: new QuantileSketch(alpha),
    rules: [],
    ranges: new Map(),
    contributions: 0,
    lastContributionAtMs: Number.NEGATIVE_INFINITY,
    closedAtMs: -1,
    dirty: false,
    encodedAt: -1,
    encodedLength: 0,
  };
}

function mergeInto(w: WindowAcc, p: WindowPartial): void {
  w.count += p.count;
  w.errors += p.errors;
  w.status4xx += p.status4xx;
  w.status5xx += p.status5xx;
  w.bytes += p.bytes;
  w.latency.merge(p.latency);
  for (const r of p.rules) {
    let mine: RuleAggregate | undefined;
    for (const x of w.rules) {
      if (x.name === r.name && x.kind === r.kind) {
        mine = x;
        break;
      }
    }
    if (mine === undefined) {
      mine =
        r.kind === 'sketch'
          ? { name: r.name, kind: r.kind, value: 0, sketch: new QuantileSketch(w.latency.relativeAccuracy) }
          : { name: r.name, kind: r.kind, value: 0 };
      w.rules.push(mine);
    }
    if (mine.sketch !== undefined && r.sketch !== undefined) {
      mine.sketch.merge(r.sketch);
      mine.value = mine.sketch.count;
    } else mine.value += r.value;
  }
}

const QUANTILES = [0.5, 0.9, 0.99] as const;

function round(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

function toClosedWindow(s: SeriesState, w: WindowAcc, correction: boolean): ClosedWindow {
  const m: Record<string, number> = {
    [Measure.count.name]: w.count,
    [Measure.errors.name]: w.errors,
    [Measure.status4xx.name]: w.status4xx,
    [Measure.status5xx.name]: w.status5xx,
    [Measure.bytes.name]: w.bytes,
    [Measure.eventRate.name]: round(w.count / (w.windowMs / 1000)),
    [Measure.errorRate.name]: w.count > 0 ? round(w.errors / w.count) : 0,
    [Measure.latencyCount.name]: w.latency.count,
  };
  const lat = w.latency;
  if (lat.count > 0) {
    const [p50, p90, p99] = lat.quantiles(QUANTILES);
    m[Measure.latencySumMs.name] = lat.sum;
    m[Measure.latencyMinMs.name] = lat.min;
    m[Measure.latencyMaxMs.name] = lat.max;
    m[Measure.latencyP50Ms.name] = p50!;
    m[Measure.latencyP90Ms.name] = p90!;
    m[Measure.latencyP99Ms.name] = p99!;
  }
  for (const r of w.rules) {
    if (r.sketch === undefined) m[r.name] = r.value;
    else {
      m[`${r.name}_count`] = r.sketch.count;
      if (r.sketch.count > 0) {
        const [p50, p90, p99] = r.sketch.quantiles(QUANTILES);
        m[`${r.name}_p50`] = p50!;
        m[`${r.name}_p90`] = p90!;
        m[`${r.name}_p99`] = p99!;
      }
    }
  }
  const dimensions = seriesDimensionRecord(s.dims);
  dimensions[Dimension.windowMs] = String(w.windowMs);
  return {
    table: Names.windowsTable,
    seriesKey: s.key,
    dimensions,
    timeMs: w.startMs,
    windowStartMs: w.startMs,
    windowEndMs: w.startMs + w.windowMs,
    windowMs: w.windowMs,
    version: w.count,
    measures: m,
    correction,
    contributions: w.contributions,
  };
}

function num(v: unknown, what: string): number {
  if (typeof v !== 'number' || Number.isNaN(v)) throw new MergerStateError(`${what} must be a number`);
  return v;
}

function numOrNull(v: unknown, what: string): number {
  return v === null ? Number.NEGATIVE_INFINITY : num(v, what);
}

function seq(v: unknown, what: string): string {
  if (typeof v !== 'string' || !isSequenceNumber(v))
    throw new MergerStateError(`${what} must be a sequence number`);
  return v;
}

function restore(config: WindowConfig, raw: unknown): WindowMerger {
  if (typeof raw !== 'object' || raw === null) throw new MergerStateError('not an object');
  const st = raw as Partial<WindowMergerState>;
  if (st.v !== 1) throw new MergerStateError(`unknown version ${String(st.v)}`);
  const m = new WindowMerger(config);
  const priv = m as unknown as {
    series: Map<string, SeriesState>;
    sources: Map<string, SourceInfo>;
    watermark: number;
    horizonMs: number;
  };
  priv.watermark = numOrNull(st.watermarkMs ?? null, 'watermarkMs');
  priv.horizonMs = numOrNull(st.horizonMs ?? null, 'horizonMs');
  if (!Array.isArray(st.sources) || !Array.isArray(st.series))
    throw new MergerStateError('sources and series must be arrays');
  for (const [shard, wm, seen] of st.sources) {
    if (typeof shard !== 'string') throw new MergerStateError('source shard must be a string');
    priv.sources.set(shard, {
      watermarkMs: numOrNull(wm, 'source watermark'),
      lastSeenAtMs: num(seen, 'lastSeenAtMs'),
    });
  }
  for (const sj of st.series) {
    const d = sj.dims;
    if (typeof d?.service !== 'string') throw new MergerStateError('series dims.service must be a string');
    const dims: { service: string; route?: string; statusClass?: string } = { service: d.service };
    if (typeof d.route === 'string') dims.route = d.route;
    if (typeof d.statusClass === 'string') dims.statusClass = d.statusClass;
    const key = seriesKey(dims);
    const s: SeriesState = {
      key,
      dims,
      windows: new Map(),
      frontier: new Map(),
      horizonEndMs: numOrNull(sj.horizonEndMs, 'horizonEndMs'),
      record: undefined,
    };
    for (const [shard, f] of sj.frontier) s.frontier.set(String(shard), seq(f, 'frontier'));
    for (const wj of sj.windows) {
      const w = newWindow(num(wj.start, 'start'), num(wj.size, 'size'), config.relativeAccuracy);
      w.count = num(wj.count, 'count');
      w.errors = num(wj.errors, 'errors');
      w.status4xx = num(wj.status4xx, 'status4xx');
      w.status5xx = num(wj.status5xx, 'status5xx');
      w.bytes = num(wj.bytes, 'bytes');
      w.latency = QuantileSketch.decode(fromBase64(wj.latency));
      for (const [name, kind, value, sk] of wj.rules) {
        if (kind === 'sketch') {
          const sketch = QuantileSketch.decode(fromBase64(sk));
          w.rules.push({ name: String(name), kind, value: sketch.count, sketch });
        } else if (kind === 'count' || kind === 'sum')
          w.rules.push({ name: String(name), kind, value: num(value, 'rule') });
        else throw new MergerStateError(`unknown rule kind ${String(kind)}`);
      }
      for (const [shard, list] of wj.ranges) {
        if (!Array.isArray(list) || list.length % 2 !== 0)
          throw new MergerStateError('ranges must be [first, last] pairs');
        w.ranges.set(
          String(shard),
          list.map((x) => seq(x, 'range')),
        );
      }
      w.contributions = num(wj.contributions, 'contributions');
      w.lastContributionAtMs = numOrNull(wj.lastContributionAtMs, 'lastContributionAtMs');
      w.closedAtMs = num(wj.closedAtMs, 'closedAtMs');
      w.dirty = wj.dirty === true;
      s.windows.set(w.startMs, w);
    }
    priv.series.set(key, s);
  }
  return m;
}
