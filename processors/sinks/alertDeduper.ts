/**
 * Per-series alert deduplication with a cooldown, in event time.
 *
 * A series is *open* from its first published alert until its recovery is published. While open,
 * further alerts are suppressed unless `cooldownMs` has passed since the last notification (then a
 * reminder goes out). A recovery is published only for an open series. Time is the window end of the
 * events, not the wall clock, so replays and backtests dedupe exactly as live traffic did.
 *
 * State is small (open series only) and serializable: the detect handler checkpoints
 * {@link AlertDeduper.snapshot} in the state store so a cold start neither re-alerts nor forgets a
 * recovery.
 */
import { type AlertEvent, alertSeriesKey } from './alertEvent.ts';

/** Serialized deduper state (JSON-safe). */
export interface AlertDedupeSnapshot {
  v: 1;
  /** Open series by {@link alertSeriesKey}: when the alert opened and when it was last notified (window end ms). */
  open: Record<string, { openedMs: number; notifiedMs: number }>;
}

/** What to do with an event. */
export type AlertDecision = 'publish' | 'cooldown' | 'not_alerting';

/** Default cooldown between notifications of one open series: 15 minutes. */
export const DEFAULT_ALERT_COOLDOWN_MS = 15 * 60_000;

/**
 * Decides which events reach people; {@link AlertDeduper.record} after a successful publish.
 *
 * @example
 * const dedupe = new AlertDeduper({ cooldownMs: 600_000 });
 * if (dedupe.decide(event) === 'publish') { await publish(event); dedupe.record(event); }
 */
export class AlertDeduper {
  readonly cooldownMs: number;
  private readonly open = new Map<string, { openedMs: number; notifiedMs: number }>();

  constructor(options: { cooldownMs?: number; snapshot?: AlertDedupeSnapshot } = {}) {
    this.cooldownMs = options.cooldownMs ?? DEFAULT_ALERT_COOLDOWN_MS;
    if (options.snapshot !== undefined) {
      for (const [key, s] of Object.entries(options.snapshot.open)) this.open.set(key, { ...s });
    }
  }

  /** Number of series currently alerting. */
  get openCount(): number {
    return this.open.size;
  }

  /** Whether `key` (an {@link alertSeriesKey}) is open. */
  isOpen(key: string): boolean {
    return this.open.has(key);
  }

  /** The decision for `e` given what was published so far. Does not change state. */
  decide(e: AlertEvent): AlertDecision {
    const state = this.open.get(alertSeriesKey(e));
    if (e.kind === 'recovery') return state === undefined ? 'not_alerting' : 'publish';
    if (state === undefined) return 'publish';
    return e.windowEndMs - state.notifiedMs >= this.cooldownMs ? 'publish' : 'cooldown';
  }

  /** Records that `e` was published. */
  record(e: AlertEvent): void {
    const key = alertSeriesKey(e);
    if (e.kind === 'recovery') {
      this.open.delete(key);
      return;
    }
    const state = this.open.get(key);
    if (state === undefined) this.open.set(key, { openedMs: e.windowEndMs, notifiedMs: e.windowEndMs });
    else state.notifiedMs = e.windowEndMs;
  }

  /** JSON-safe copy of the state, for a checkpoint. */
  snapshot(): AlertDedupeSnapshot {
    const open: AlertDedupeSnapshot['open'] = {};
    for (const [key, s] of this.open) open[key] = { ...s };
    return { v: 1, open };
  }
}
