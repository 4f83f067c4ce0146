/**
 * Window assigner (Flink vocabulary): which event-time windows `[start, start + windowMs)` an
 * event belongs to. Tumbling windows are aligned to the Unix epoch, so every shard and every stage
 * agrees on the boundaries without talking to each other.
 */
import type { WindowConfig } from './windowConfig.ts';

/**
 * Start of the tumbling window of size `windowMs` that contains `timeMs` (epoch-aligned; correct
 * for negative times too).
 *
 * @example
 * windowStartMs(1_700_000_012_345, 10_000); // 1_700_000_010_000
 */
export function windowStartMs(timeMs: number, windowMs: number): number {
  const r = timeMs % windowMs;
  return r < 0 ? timeMs - r - windowMs : timeMs - r;
}

/**
 * Writes the start of every window containing `timeMs` into `out` (from the earliest) and returns
 * how many: one for tumbling windows, `windowMs / slideMs` for hopping windows. `out` is reused
 * across calls so the hot path allocates nothing.
 *
 * @example
 * const starts: number[] = [];
 * const n = assignWindows(25_000, { windowMs: 20_000, slideMs: 10_000 }, starts); // n = 2, starts = [10_000, 20_000]
 */
export function assignWindows(
  timeMs: number,
  config: Pick<WindowConfig, 'windowMs' | 'slideMs'>,
  out: number[],
): number {
  const slideMs = config.slideMs ?? config.windowMs;
  const last = windowStartMs(timeMs, slideMs);
  const n = config.windowMs / slideMs;
  let start = last - (n - 1) * slideMs;
  for (let i = 0; i < n; i++) {
    out[i] = start;
    start += slideMs;
  }
  return n;
}
