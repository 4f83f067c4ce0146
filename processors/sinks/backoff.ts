/**
 * Jittered exponential backoff within a time budget, and the classification of AWS errors into
 * "retry later" and "will never work". Every sink retries throttling, 5xx and network errors with
 * "full jitter" (delay = random(0, min(cap, base · 2^attempt))), the variant the AWS Architecture
 * Blog ("Exponential Backoff And Jitter", 2015) shows spreads contending clients best.
 *
 * The budget is a deadline, not a count: a Lambda handler passes the time it has left so that a
 * sink returns `retry` outcomes before the invocation times out instead of being killed mid-call.
 */

/** Options of {@link Backoff}. Every field has a default; `random`, `now`, `sleep` exist for tests. */
export interface BackoffOptions {
  /** First delay cap in ms (attempt 0). Default 50. */
  baseDelayMs?: number;
  /** Largest delay cap in ms. Default 2,000. */
  maxDelayMs?: number;
  /** Time budget in ms from construction; no new attempt starts after it. Default 20,000. */
  budgetMs?: number;
  /** Absolute deadline (epoch ms, same clock as `now`); overrides `budgetMs` when given. */
  deadlineMs?: number;
  /** Maximum number of waits (retries). Default unlimited: the budget decides. */
  maxRetries?: number;
  /** Uniform random in [0, 1). Default `Math.random`; pass a seeded one for reproducible tests. */
  random?: () => number;
  /** Clock in epoch ms. Default `Date.now`. */
  now?: () => number;
  /** Sleep. Default a `setTimeout` promise. */
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One retry sequence: call {@link Backoff.wait} after each failed attempt; it sleeps a jittered,
 * exponentially growing delay and resolves `false` once the budget or retry count is spent.
 *
 * @example
 * const backoff = new Backoff({ budgetMs: 5_000 });
 * for (;;) {
 *   try { return await client.send(cmd); }
 *   catch (err) { if (!isRetryableError(err) || !(await backoff.wait())) throw err; }
 * }
 */
export class Backoff {
  /** Number of waits so far. */
  retries = 0;
  readonly deadlineMs: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxRetries: number;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: BackoffOptions = {}) {
    this.baseDelayMs = options.baseDelayMs ?? 50;
    this.maxDelayMs = options.maxDelayMs ?? 2_000;
    this.maxRetries = options.maxRetries ?? Number.POSITIVE_INFINITY;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? defaultSleep;
    this.deadlineMs = options.deadlineMs ?? this.now() + (options.budgetMs ?? 20_000);
  }

  /** Milliseconds left in the budget (0 when spent). */
  remainingMs(): number {
    return Math.max(0, this.deadlineMs - this.now());
  }

  /**
   * The next delay, or -1 when no further attempt may start (budget or retries spent). Does not sleep
   * and does not count as a retry; {@link wait} does both.
   */
  nextDelayMs(): number {
    if (this.retries >= this.maxRetries) return -1;
    const capMs = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.min(this.retries, 30));
    const delayMs = Math.floor(this.random() * capMs);
    return this.now() + delayMs < this.deadlineMs ? delayMs : -1;
  }

  /** Sleeps before the next attempt; resolves `false` (without sleeping) when the budget is spent. */
  async wait(): Promise<boolean> {
    const delayMs = this.nextDelayMs();
    if (delayMs < 0) return false;
    this.retries++;
    if (delayMs > 0) await this.sleep(delayMs);
    return true;
  }
}

/**
 * Error names AWS services use for throttling and transient server faults, across the JSON and Query
 * protocols (Timestream `ThrottlingException`, Firehose `ServiceUnavailableException`, SNS `Throttled`,
 * DynamoDB `ProvisionedThroughputExceededException`, …). Mirrors `@smithy/service-error-classification`.
 */
const RETRYABLE_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'Throttled',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'ProvisionedThroughputExceededException',
  'TransactionInProgressException',
  'SlowDown',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalServerException',
  'InternalServerError',
  'InternalFailure',
  'InternalError',
  'InternalErrorException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

/** Node socket error codes that mean "the request may not have arrived": always safe to retry here. */
const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
]);

interface AwsLikeError {
  name?: unknown;
  code?: unknown;
  $retryable?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  cause?: unknown;
}

/**
 * The error's AWS code (`ThrottlingException`, `ECONNRESET`, …) or `'Unknown'`; low-cardinality,
 * fit for a `retry` reason and a metric label.
 *
 * @example
 * errorName(new Error('x')); // 'Error'
 */
export function errorName(err: unknown): string {
  if (typeof err !== 'object' || err === null) return 'Unknown';
  const e = err as AwsLikeError;
  if (typeof e.code === 'string' && RETRYABLE_NETWORK_CODES.has(e.code)) return e.code;
  if (typeof e.name === 'string' && e.name !== '') return e.name;
  return 'Unknown';
}

/**
 * True for throttling, 5xx, timeouts and connection errors: worth another attempt after a backoff.
 * False for validation, missing resources and permissions: retrying cannot help.
 *
 * @example
 * isRetryableError({ name: 'ThrottlingException' }); // true
 * isRetryableError({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } }); // false
 */
export function isRetryableError(err: unknown): boolean {
  for (let depth = 0; depth < 3 && typeof err === 'object' && err !== null; depth++) {
    const e = err as AwsLikeError;
    if (e.$retryable !== undefined && e.$retryable !== null) return true;
    if (typeof e.name === 'string' && RETRYABLE_NAMES.has(e.name)) return true;
    if (typeof e.code === 'string' && (RETRYABLE_NETWORK_CODES.has(e.code) || RETRYABLE_NAMES.has(e.code))) {
      return true;
    }
    const status = e.$metadata?.httpStatusCode;
    if (typeof status === 'number' && (status === 429 || status >= 500)) return true;
    if (e.$fault === 'server') return true;
    err = e.cause;
  }
  return false;
}

/**
 * A small seeded PRNG (mulberry32) for reproducible jitter in tests and benchmarks.
 *
 * @example
 * const backoff = new Backoff({ random: seededRandom(42) });
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
