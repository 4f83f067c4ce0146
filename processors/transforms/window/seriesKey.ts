/**
 * Series identity. A series is a service plus the configured dimensions (`route`,
 * `status_class`); its key is a readable, injective string that also serves, shortened when
 * needed, as the metrics-stream partition key (one series → one metrics shard → one merger).
 */
import { Dimension } from '../../schema.ts';
import { NoneValue, type SeriesDimensionName } from './windowConfig.ts';

/** Dimension values of one series. Absent properties = dimension not configured. */
export interface SeriesDimensions {
  readonly service: string;
  readonly route?: string;
  readonly statusClass?: string;
}

/** Kinesis partition keys are at most 256 Unicode characters (Kinesis PutRecords API reference). */
export const MAX_PARTITION_KEY_CHARS = 256;
/** Longer dimension values are cut (a route with an unbounded tail is the usual culprit). */
export const MAX_DIMENSION_VALUE_CHARS = 128;

/**
 * `1xx` … `5xx` for an HTTP status, `none` otherwise.
 *
 * @example
 * statusClass(503); // '5xx'
 */
export function statusClass(status: number | undefined): string {
  if (status === undefined || !(status >= 100 && status < 600)) return NoneValue;
  return STATUS_CLASSES[Math.floor(status / 100)]!;
}
const STATUS_CLASSES = ['', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;

function escapePart(v: string): string {
  return /[%|=]/.test(v) ? v.replace(/%/g, '%25').replace(/\|/g, '%7C').replace(/=/g, '%3D') : v;
}

/**
 * Canonical series key: `service`, then `|route=…`, `|status_class=…` for configured dimensions.
 * `%`, `|` and `=` inside values are percent-escaped, so distinct series never share a key.
 *
 * @example
 * seriesKey({ service: 'checkout', route: '/pay', statusClass: '5xx' }); // 'checkout|route=/pay|status_class=5xx'
 */
export function seriesKey(d: SeriesDimensions): string {
  let key = escapePart(d.service);
  if (d.route !== undefined) key += `|${Dimension.route}=${escapePart(d.route)}`;
  if (d.statusClass !== undefined) key += `|${Dimension.statusClass}=${escapePart(d.statusClass)}`;
  return key;
}

/**
 * Partition key for a series' chunks on the metrics stream: the series key itself when it fits
 * Kinesis' 256-character limit, else a prefix plus a 64-bit FNV-1a hash of the whole key.
 *
 * @example
 * partitionKeyForSeries('checkout|route=/pay'); // 'checkout|route=/pay'
 */
export function partitionKeyForSeries(key: string): string {
  if (key.length <= MAX_PARTITION_KEY_CHARS) return key;
  return `${key.slice(0, MAX_PARTITION_KEY_CHARS - 18)}#${fnv1a64Hex(key)}`;
}

/** FNV-1a, 64 bit, as two 32-bit halves (no BigInt on this path). */
function fnv1a64Hex(s: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0xcbf29ce4;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c ^ (h1 >>> 16), 0x01000193) >>> 0;
  }
  return h2.toString(16).padStart(8, '0') + h1.toString(16).padStart(8, '0');
}

/**
 * Dimensions of the windows table for a series (Timestream dimension names from `schema.ts`).
 *
 * @example
 * seriesDimensionRecord({ service: 'checkout', route: '/pay' }); // { service: 'checkout', route: '/pay' }
 */
export function seriesDimensionRecord(d: SeriesDimensions): Record<string, string> {
  const out: Record<string, string> = { [Dimension.service]: d.service };
  if (d.route !== undefined) out[Dimension.route] = d.route;
  if (d.statusClass !== undefined) out[Dimension.statusClass] = d.statusClass;
  return out;
}

/**
 * Cuts a raw dimension value to a bounded, non-empty string.
 *
 * @example
 * normalizeDimensionValue(undefined); // 'none'
 */
export function normalizeDimensionValue(v: string | undefined): string {
  if (v === undefined || v.length === 0) return NoneValue;
  return v.length > MAX_DIMENSION_VALUE_CHARS ? v.slice(0, MAX_DIMENSION_VALUE_CHARS) : v;
}

/** JSON form of a guard: dimension → service → admitted values (in admission order). */
export type CardinalityGuardState = Partial<Record<SeriesDimensionName, Record<string, string[]>>>;

/**
 * Cardinality guard: per service and dimension, the first `maxDistinct` values seen are admitted,
 * later new values fold into `other`. Copy-on-write: `fork()` is cheap and shares unchanged value
 * sets, so `aggregateBatch` never mutates the state it was given (a retried batch sees the same
 * guard and yields the same series — see docs/windows.md).
 *
 * @example
 * const g = new CardinalityGuard();
 * g.admit('route', 'checkout', '/pay', 1); // '/pay'
 * g.admit('route', 'checkout', '/cart', 1); // 'other'
 */
export class CardinalityGuard {
  private readonly sets: Map<string, Set<string>>;
  private readonly owned = new Set<string>();

  constructor(sets?: Map<string, Set<string>>) {
    this.sets = sets ?? new Map();
  }

  /** `value` if admitted (now or before), else `other`. */
  admit(dimension: SeriesDimensionName, service: string, value: string, maxDistinct: number): string {
    const key = `${dimension}\u0000${service}`;
    let set = this.sets.get(key);
    if (set?.has(value)) return value;
    if (set !== undefined && set.size >= maxDistinct) return 'other';
    if (set === undefined) {
      set = new Set();
      this.sets.set(key, set);
      this.owned.add(key);
    } else if (!this.owned.has(key)) {
      set = new Set(set);
      this.sets.set(key, set);
      this.owned.add(key);
    }
    set.add(value);
    return value;
  }

  /** A guard that starts equal to this one and never changes it. */
  fork(): CardinalityGuard {
    return new CardinalityGuard(new Map(this.sets));
  }

  /** Number of admitted values over all services and dimensions (for telemetry). */
  get size(): number {
    let n = 0;
    for (const s of this.sets.values()) n += s.size;
    return n;
  }

  toJSON(): CardinalityGuardState {
    const out: Record<string, Record<string, string[]>> = {};
    for (const [key, set] of this.sets) {
      const i = key.indexOf('\u0000');
      const dim = key.slice(0, i);
      const service = key.slice(i + 1);
      const perDim = out[dim] ?? {};
      out[dim] = perDim;
      perDim[service] = [...set];
    }
    return out as CardinalityGuardState;
  }

  static fromJSON(state: CardinalityGuardState | undefined): CardinalityGuard {
    const sets = new Map<string, Set<string>>();
    if (state !== undefined) {
      for (const [dim, perService] of Object.entries(state)) {
        if (perService === undefined) continue;
        for (const [service, values] of Object.entries(perService)) {
          sets.set(`${dim}\u0000${service}`, new Set(values));
        }
      }
    }
    return new CardinalityGuard(sets);
  }
}
