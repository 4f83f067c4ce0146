/**
 * Stage one (ingest side): one Lambda batch of one logs shard → partial summaries per
 * (series, window), each carrying its provenance (source shard, the sequence-number range of the
 * batch, the source watermark). Deterministic: the same events and the same starting state yield
 * the same partials, which is what lets stage two dedupe redelivered batches (docs/windows.md).
 */
import { Level, type LogEvent, RejectCode, type RejectCodeName } from '../../schema.ts';
import { assignWindows } from './assignWindows.ts';
import { WindowError } from './errors.ts';
import { type CompiledRule, compileRules, ruleMatches, ruleValue } from './rules.ts';
import { compareSequenceNumbers, isSequenceNumber } from './sequenceNumber.ts';
import {
  CardinalityGuard,
  type CardinalityGuardState,
  normalizeDimensionValue,
  type SeriesDimensions,
  seriesKey,
  statusClass,
} from './seriesKey.ts';
import { QuantileSketch } from './sketch.ts';
import { SeriesDimension, type WindowConfig } from './windowConfig.ts';

/** Aggregate of one log-to-metric rule in one partial or window. */
export interface RuleAggregate {
  readonly name: string;
  readonly kind: 'count' | 'sum' | 'sketch';
  /** count: matching events; sum: sum of the field; sketch: number of values (see `sketch`). */
  value: number;
  readonly sketch?: QuantileSketch;
}

/**
 * Partial summary of one series in one window from one batch of one source shard. Mergeable:
 * counts and sums add, sketches merge.
 */
export interface WindowPartial {
  readonly seriesKey: string;
  readonly dimensions: SeriesDimensions;
  /** Window `[windowStartMs, windowStartMs + windowMs)`. */
  readonly windowStartMs: number;
  readonly windowMs: number;
  /** Logs-stream shard the events came from, e.g. `shardId-000000000003`. */
  readonly sourceShard: string;
  /** Sequence-number range (inclusive) of the logs-stream records this partial covers. */
  readonly firstSequenceNumber: string;
  readonly lastSequenceNumber: string;
  /** Source watermark after this batch: max event time − allowed lateness (−∞ when unknown). */
  readonly sourceWatermarkMs: number;
  count: number;
  /** level ≥ error, or status ≥ 500 */
  errors: number;
  status4xx: number;
  status5xx: number;
  /** UTF-8 bytes of the raw lines. */
  bytes: number;
  /** Latency (durationMs) sketch; its count/sum/min/max are the latency measures. */
  readonly latency: QuantileSketch;
  /** One entry per configured rule, in configuration order. */
  readonly rules: readonly RuleAggregate[];
}

/** An event later than the allowed lateness: to be archived with reason `late` and counted. */
export interface LateEvent {
  /** Index in the `events` array given to `aggregateBatch`. */
  readonly index: number;
  readonly timeMs: number;
  /** The source watermark it was behind. */
  readonly watermarkMs: number;
}

/** An event whose timestamp cannot be windowed (non-finite, or beyond `maxFutureMs`). */
export interface RejectedEvent {
  readonly index: number;
  readonly code: RejectCodeName;
}

/** JSON form of `StageOneState`. */
export interface StageOneStateJson {
  readonly v: 1;
  readonly maxEventTimeMs: number | null;
  readonly guard?: CardinalityGuardState;
}

/**
 * What stage one remembers about one source shard between batches: the max event time seen
 * (hence the watermark) and the cardinality guard. Immutable from the caller's view: every
 * `aggregateBatch` returns a new state and leaves the given one untouched, so a handler can keep
 * the old one when the batch fails.
 *
 * @example
 * let state = StageOneState.initial();
 * const r = aggregateBatch(events, { sourceShard, firstSequenceNumber, lastSequenceNumber, nowMs, config, state });
 * state = r.state; // only once the batch's partials were delivered
 */
export class StageOneState {
  constructor(
    readonly maxEventTimeMs: number,
    readonly guard: CardinalityGuard,
  ) {}

  static initial(): StageOneState {
    return new StageOneState(Number.NEGATIVE_INFINITY, new CardinalityGuard());
  }

  /** Watermark of the source under `allowedLatenessMs`. */
  watermarkMs(allowedLatenessMs: number): number {
    return this.maxEventTimeMs - allowedLatenessMs;
  }

  toJSON(): StageOneStateJson {
    return {
      v: 1,
      maxEventTimeMs: Number.isFinite(this.maxEventTimeMs) ? this.maxEventTimeMs : null,
      guard: this.guard.toJSON(),
    };
  }

  static fromJSON(json: StageOneStateJson): StageOneState {
    return new StageOneState(
      json.maxEventTimeMs ?? Number.NEGATIVE_INFINITY,
      CardinalityGuard.fromJSON(json.guard),
    );
  }
}

/** Inputs of one stage-one call. */
export interface AggregateContext {
  readonly sourceShard: string;
  /** First and last sequence numbers of the logs-stream records whose events are in `events`. */
  readonly firstSequenceNumber: string;
  readonly lastSequenceNumber: string;
  /** Processing-time clock (ms): caps the watermark and bounds future timestamps. */
  readonly nowMs: number;
  readonly config: WindowConfig;
  readonly state?: StageOneState;
  /**
   * UTF-8 byte length of each event's raw line, aligned with `events`. Without it, `bytes` counts
   * the UTF-8 length of `message` only.
   */
  readonly eventBytes?: ArrayLike<number>;
}

/** Output of one stage-one call. */
export interface AggregateResult {
  /** Sorted by series key, then window start. */
  readonly partials: WindowPartial[];
  readonly late: LateEvent[];
  readonly rejected: RejectedEvent[];
  /** Source watermark after the batch (−∞ when no event was ever accepted). */
  readonly watermarkMs: number;
  readonly state: StageOneState;
}

interface SeriesAcc {
  readonly key: string;
  readonly dims: SeriesDimensions;
  readonly windows: Map<number, WindowPartial>;
}

/**
 * Aggregates one batch of one shard into partial window summaries.
 *
 * @example
 * const config = defaultWindowConfig();
 * const { partials, late } = aggregateBatch(events, {
 *   sourceShard: 'shardId-000000000000',
 *   firstSequenceNumber: records[0].kinesis.sequenceNumber,
 *   lastSequenceNumber: records.at(-1).kinesis.sequenceNumber,
 *   nowMs: Date.now(),
 *   config,
 *   eventBytes, // raw line lengths, aligned with events
 * });
 * // late[i].index → archive events[late[i].index] under reason `late`
 */
export function aggregateBatch(events: readonly LogEvent[], ctx: AggregateContext): AggregateResult {
  const { config, nowMs } = ctx;
  if (!isSequenceNumber(ctx.firstSequenceNumber) || !isSequenceNumber(ctx.lastSequenceNumber)) {
    throw new WindowError(
      `sequence numbers must be Kinesis decimal strings (got ${ctx.firstSequenceNumber}, ${ctx.lastSequenceNumber})`,
    );
  }
  if (compareSequenceNumbers(ctx.firstSequenceNumber, ctx.lastSequenceNumber) > 0) {
    throw new WindowError('firstSequenceNumber is after lastSequenceNumber');
  }
  const prior = ctx.state ?? StageOneState.initial();
  const guard = prior.guard.fork();
  const rules = compileRules(config);
  const nRules = rules.length;
  const ruleHit = new Uint8Array(nRules);
  const ruleNum = new Float64Array(nRules);
  const latenessMs = config.allowedLatenessMs;
  const maxTimeMs = nowMs + config.maxFutureMs;
  const byRoute = config.dimensions.includes(SeriesDimension.route);
  const byStatus = config.dimensions.includes(SeriesDimension.statusClass);
  const maxDistinct = config.maxDistinctPerDimension;
  const bytesIn = ctx.eventBytes;
  const windowMs = config.windowMs;
  const alpha = config.relativeAccuracy;
  const starts: number[] = [];
  const series = new Map<string, SeriesAcc>();
  const dimCache = new Map<string, Map<string, Map<string, SeriesAcc>>>();
  const byService = new Map<string, SeriesAcc>();
  const late: LateEvent[] = [];
  const rejected: RejectedEvent[] = [];
  let maxEventTimeMs = prior.maxEventTimeMs;
  // Partials are created here, then their provenance is filled once the batch watermark is known.
  const created: WindowPartial[] = [];

  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const t = e.timeMs;
    if (!Number.isFinite(t) || t > maxTimeMs) {
      rejected.push({ index: i, code: RejectCode.invalidTimestamp });
      continue;
    }
    if (t < maxEventTimeMs - latenessMs) {
      late.push({ index: i, timeMs: t, watermarkMs: maxEventTimeMs - latenessMs });
      continue;
    }
    // A clock-skewed producer must not push everyone else's events into `late`.
    const capped = Math.min(t, nowMs);
    if (capped > maxEventTimeMs) maxEventTimeMs = capped;

    const service = normalizeDimensionValue(e.service);
    let key: string;
    let acc: SeriesAcc | undefined;
    if (!byRoute && !byStatus) {
      acc = byService.get(service);
      if (acc === undefined) {
        const dims = { service };
        acc = { key: seriesKey(dims), dims, windows: new Map() };
        byService.set(service, acc);
        series.set(acc.key, acc);
      }
      key = acc.key;
    } else {
      // Within one batch a raw (service, route, status class) always maps to the same series (an
      // admitted value stays admitted; a folded one stays folded), so cache it: no per-event keys.
      const rawRoute = byRoute ? (e.route ?? '') : '';
      const sc = byStatus ? statusClass(e.status) : '';
      let byRaw = dimCache.get(service);
      if (byRaw === undefined) {
        byRaw = new Map();
        dimCache.set(service, byRaw);
      }
      let bySc = byRaw.get(rawRoute);
      if (bySc === undefined) {
        bySc = new Map();
        byRaw.set(rawRoute, bySc);
      }
      acc = bySc.get(sc);
      if (acc === undefined) {
        const dims: { service: string; route?: string; statusClass?: string } = { service };
        if (byRoute) {
          dims.route = guard.admit(
            SeriesDimension.route,
            service,
            normalizeDimensionValue(e.route),
            maxDistinct,
          );
        }
        if (byStatus) dims.statusClass = guard.admit(SeriesDimension.statusClass, service, sc, maxDistinct);
        key = seriesKey(dims);
        acc = series.get(key);
        if (acc === undefined) {
          acc = { key, dims, windows: new Map() };
          series.set(key, acc);
        }
        bySc.set(sc, acc);
      }
      key = acc.key;
    }

    const status = e.status;
    const isError =
      ((Level as Record<string, number>)[e.level] ?? 0) >= Level.error ||
      (status !== undefined && status >= 500)
        ? 1
        : 0;
    const is4xx = status !== undefined && status >= 400 && status < 500 ? 1 : 0;
    const is5xx = status !== undefined && status >= 500 && status < 600 ? 1 : 0;
    const bytes = bytesIn !== undefined ? (bytesIn[i] ?? 0) : Buffer.byteLength(e.message ?? '', 'utf8');
    const duration = e.durationMs;
    for (let r = 0; r < nRules; r++) {
      const rule = rules[r]!;
      const hit = ruleMatches(rule, e);
      ruleHit[r] = hit ? 1 : 0;
      ruleNum[r] = hit && rule.kind !== 'count' ? ruleValue(rule, e) : Number.NaN;
    }

    const n = assignWindows(t, config, starts);
    for (let w = 0; w < n; w++) {
      const start = starts[w]!;
      let p = acc.windows.get(start);
      if (p === undefined) {
        p = newPartial(key, acc.dims, start, windowMs, alpha, rules);
        acc.windows.set(start, p);
        created.push(p);
      }
      p.count++;
      p.errors += isError;
      p.status4xx += is4xx;
      p.status5xx += is5xx;
      p.bytes += bytes;
      if (duration !== undefined) p.latency.accept(duration);
      if (nRules > 0) applyRules(p.rules, ruleHit, ruleNum);
    }
  }

  const watermarkMs = maxEventTimeMs - latenessMs;
  const partials: WindowPartial[] = created.map((p) => ({
    ...p,
    sourceShard: ctx.sourceShard,
    firstSequenceNumber: ctx.firstSequenceNumber,
    lastSequenceNumber: ctx.lastSequenceNumber,
    sourceWatermarkMs: watermarkMs,
  }));
  partials.sort(comparePartials);
  return { partials, late, rejected, watermarkMs, state: new StageOneState(maxEventTimeMs, guard) };
}

/** Rule fields read from the event itself; any other field path reads `attributes` (rules.ts). */
const EVENT_FIELDS: ReadonlySet<string> = new Set([
  'service',
  'level',
  'message',
  'status',
  'durationMs',
  'route',
  'traceId',
]);

/**
 * Whether any rule reads an event's `attributes` (a field other than the named event fields).
 * When none does, a decoder need not keep the parsed lines alive for stage one.
 *
 * @example
 * decodeKinesisBatch(records, { keepAttributes: rulesReadAttributes(config.rules) });
 */
export function rulesReadAttributes(rules: WindowConfig['rules']): boolean {
  for (const r of rules) {
    if (r.field !== undefined && !EVENT_FIELDS.has(r.field)) return true;
    for (const c of r.where ?? []) if (!EVENT_FIELDS.has(c.field)) return true;
  }
  return false;
}

function applyRules(aggs: readonly RuleAggregate[], hit: Uint8Array, num: Float64Array): void {
  for (let r = 0; r < aggs.length; r++) {
    if (hit[r] === 0) continue;
    const a = aggs[r]!;
    if (a.kind === 'count') a.value++;
    else {
      const v = num[r]!;
      if (Number.isNaN(v)) continue;
      if (a.kind === 'sum') a.value += v;
      else {
        a.sketch!.accept(v);
        a.value = a.sketch!.count;
      }
    }
  }
}

function newPartial(
  key: string,
  dims: SeriesDimensions,
  windowStartMs: number,
  windowMs: number,
  alpha: number,
  rules: readonly CompiledRule[],
): WindowPartial {
  return {
    seriesKey: key,
    dimensions: dims,
    windowStartMs,
    windowMs,
    sourceShard: '',
    firstSequenceNumber: '0',
    lastSequenceNumber: '0',
    sourceWatermarkMs: Number.NEGATIVE_INFINITY,
    count: 0,
    errors: 0,
    status4xx: 0,
    status5xx: 0,
    bytes: 0,
    latency: new QuantileSketch(alpha),
    rules: rules.map((r) =>
      r.kind === 'sketch'
        ? { name: r.name, kind: r.kind, value: 0, sketch: new QuantileSketch(alpha) }
        : { name: r.name, kind: r.kind, value: 0 },
    ),
  };
}

/**
 * Order of partials in a batch and in a chunk: series key, then window start.
 *
 * @example
 * partials.sort(comparePartials);
 */
export function comparePartials(a: WindowPartial, b: WindowPartial): number {
  if (a.seriesKey !== b.seriesKey) return a.seriesKey < b.seriesKey ? -1 : 1;
  return a.windowStartMs - b.windowStartMs;
}
