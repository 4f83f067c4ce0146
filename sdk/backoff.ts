/**
 * Exponential backoff with full jitter: sleep a uniformly random time in [0, min(cap, base · 2^n)).
 * Of the schemes compared in "Exponential Backoff And Jitter" (AWS Architecture Blog, Marc Brooker,
 * 2015) it does the least total work and spreads competing clients best — what throttled producers
 * on one shard need. The AWS SDKs' standard retry mode uses the same shape.
 */

/**
 * Milliseconds to wait before retry number `attempt` (1 = the first retry).
 *
 * @param random a number in [0, 1), `Math.random()` by default (injectable for tests)
 * @example
 * fullJitterDelayMs(3, 100, 5_000); // uniform in [0, 800)
 */
export function fullJitterDelayMs(
  attempt: number,
  baseMs: number,
  capMs: number,
  random = Math.random(),
): number {
  const exp = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random * exp);
}
