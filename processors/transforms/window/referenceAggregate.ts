/**
 * Single-threaded reference aggregator: the obviously-correct, slow definition of the window
 * metrics, against which property tests check the two-stage pipeline (any shards, batches,
 * duplicates and retries must merge to exactly this). Keeps every latency value, so quantiles are
 * exact. Lateness is not applied here: tests either keep events within the allowed lateness or
 * compare against the events stage one accepted.
 */
import { Level, type LogEvent } from '../../schema.ts';
import { assignWindows } from './assignWindows.ts';
import { compileRules, ruleMatches, ruleValue } from './rules.ts';
import {
  CardinalityGuard,
  normalizeDimensionValue,
  type SeriesDimensions,
  seriesKey,
  statusClass,
} from './seriesKey.ts';
import { SeriesDimension, type WindowConfig } from './windowConfig.ts';

/** Exact metrics of one series·window. */
export interface ReferenceWindow {
  readonly seriesKey: string;
  readonly dimensions: SeriesDimensions;
  readonly windowStartMs: number;
  readonly windowMs: number;
  count: number;
  errors: number;
  status4xx: number;
  status5xx: number;
  bytes: number;
  /** Every latency value (unsorted). */
  readonly latencies: number[];
  /** Rule name → count or sum; sketch rules → every value. */
  readonly rules: Record<string, number | number[]>;
}

/**
 * `seriesKey@windowStartMs`, the key of `referenceAggregate`'s map.
 *
 * @example
 * referenceKey('checkout', 1_700_000_000_000); // 'checkout@1700000000000'
 */
export function referenceKey(seriesKeyValue: string, windowStartMs: number): string {
  return `${seriesKeyValue}@${windowStartMs}`;
}

/**
 * Aggregates all events in one pass, in order, with one cardinality guard.
 *
 * @example
 * const exact = referenceAggregate(events, config);
 * exact.get(referenceKey('checkout', 1_700_000_000_000))?.count;
 */
export function referenceAggregate(
  events: readonly LogEvent[],
  config: WindowConfig,
  eventBytes?: ArrayLike<number>,
): Map<string, ReferenceWindow> {
  const out = new Map<string, ReferenceWindow>();
  const guard = new CardinalityGuard();
  const rules = compileRules(config);
  const starts: number[] = [];
  events.forEach((e, i) => {
    const service = normalizeDimensionValue(e.service);
    const dims: { service: string; route?: string; statusClass?: string } = { service };
    if (config.dimensions.includes(SeriesDimension.route)) {
      dims.route = guard.admit(
        'route',
        service,
        normalizeDimensionValue(e.route),
        config.maxDistinctPerDimension,
      );
    }
    if (config.dimensions.includes(SeriesDimension.statusClass)) {
      dims.statusClass = guard.admit(
        'status_class',
        service,
        statusClass(e.status),
        config.maxDistinctPerDimension,
      );
    }
    const key = seriesKey(dims);
    const n = assignWindows(e.timeMs, config, starts);
    for (let w = 0; w < n; w++) {
      const start = starts[w]!;
      const k = referenceKey(key, start);
      let win = out.get(k);
      if (win === undefined) {
        win = {
          seriesKey: key,
          dimensions: dims,
          windowStartMs: start,
          windowMs: config.windowMs,
          count: 0,
          errors: 0,
          status4xx: 0,
          status5xx: 0,
          bytes: 0,
          latencies: [],
          rules: {},
        };
        for (const r of rules) win.rules[r.name] = r.kind === 'sketch' ? [] : 0;
        out.set(k, win);
      }
      const status = e.status;
      win.count += 1;
      if (
        (Level as Record<string, number>)[e.level]! >= Level.error ||
        (status !== undefined && status >= 500)
      ) {
        win.errors += 1;
      }
      if (status !== undefined && status >= 400 && status < 500) win.status4xx += 1;
      if (status !== undefined && status >= 500 && status < 600) win.status5xx += 1;
      win.bytes +=
        eventBytes !== undefined ? (eventBytes[i] ?? 0) : Buffer.byteLength(e.message ?? '', 'utf8');
      if (e.durationMs !== undefined && e.durationMs >= 0 && Number.isFinite(e.durationMs)) {
        win.latencies.push(e.durationMs);
      }
      for (const r of rules) {
        if (!ruleMatches(r, e)) continue;
        const cur = win.rules[r.name]!;
        if (r.kind === 'count') win.rules[r.name] = (cur as number) + 1;
        else {
          const v = ruleValue(r, e);
          if (Number.isNaN(v)) continue;
          if (r.kind === 'sum') win.rules[r.name] = (cur as number) + v;
          else if (v >= 0) (cur as number[]).push(v);
        }
      }
    }
  });
  return out;
}

/**
 * Exact quantile under the sketch's rule: the sorted value at index ⌊q·(n−1)⌋.
 *
 * @example
 * exactQuantile([5, 1, 3], 0.5); // 3
 */
export function exactQuantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}
