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
import { QuantileSketch } from './sketch.ts';
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
      };
      this.series.set(p.seriesKey, s);
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
    for (const [key, s] of this.series) {
      for (const [wkey, w] of s.windows) {
        const endMs = w.startMs + w.windowMs;
        if (w.closedAtMs < 0) {
          if (endMs <= wm || (allIdle && nowMs - w.lastContributionAtMs >= cfg.idleSourceTimeoutMs)) {
            w.closedAtMs = nowMs;
            w.dirty = false;
            compactWindow(w);
            closed.push(toClosedWindow(s, w, false));
          }
        } else if (w.dirty) {
          compactWindow(w);
          w.dirty = false;
          corrections.push(toClosedWindow(s, w, true));
        }
        if (
          w.closedAtMs >= 0 &&
          (endMs + retention <= wm || (allIdle && nowMs - w.closedAtMs >= retention))
        ) {
          s.windows.delete(wkey);
          if (endMs > s.horizonEndMs) s.horizonEndMs = endMs;
          evicted++;
        }
      }
      if (s.windows.size === 0 && s.horizonEndMs <= this.horizonMs) this.series.delete(key);
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
          closed.push(toClosedWindow(s, w, false));
        } else if (w.dirty) {
          w.dirty = false;
          corrections.push(toClosedWindow(s, w, true));
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
