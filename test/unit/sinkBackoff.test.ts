import { describe, expect, it } from 'vitest';
import { Backoff, errorName, isRetryableError, seededRandom } from '../../processors/sinks/backoff.ts';
import { fakeClock } from './sinkTestClock.ts';

describe('Backoff', () => {
  it('grows the jitter cap exponentially up to maxDelayMs (full jitter)', async () => {
    // Prepare
    const clock = fakeClock();
    const backoff = new Backoff({
      baseDelayMs: 100,
      maxDelayMs: 1_000,
      budgetMs: 60_000,
      ...clock,
      random: () => 0.999,
    });
    // Act
    for (let i = 0; i < 6; i++) expect(await backoff.wait()).toBe(true);
    // Assess: ≈ cap each time (random 0.999), capped at 1,000.
    expect(clock.slept).toEqual([99, 199, 399, 799, 999, 999]);
    expect(backoff.retries).toBe(6);
  });

  it('stops once the next delay would pass the deadline', async () => {
    // Prepare
    const clock = fakeClock();
    const backoff = new Backoff({
      baseDelayMs: 1_000,
      maxDelayMs: 1_000,
      budgetMs: 2_500,
      ...clock,
      random: () => 0.999,
    });
    // Act
    const results = [await backoff.wait(), await backoff.wait(), await backoff.wait()];
    // Assess
    expect(results).toEqual([true, true, false]);
    expect(clock.slept).toEqual([999, 999]);
    expect(backoff.remainingMs()).toBe(502);
  });

  it('honors maxRetries', async () => {
    const clock = fakeClock();
    const backoff = new Backoff({ maxRetries: 2, ...clock });
    expect([await backoff.wait(), await backoff.wait(), await backoff.wait()]).toEqual([true, true, false]);
  });

  it('seededRandom is reproducible and in [0, 1)', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    for (let i = 0; i < 1000; i++) {
      const x = a();
      expect(x).toBe(b());
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
  });
});

describe('isRetryableError', () => {
  it('retries throttling, 5xx and network errors', () => {
    expect(isRetryableError({ name: 'ThrottlingException' })).toBe(true);
    expect(isRetryableError({ name: 'ServiceUnavailableException' })).toBe(true);
    expect(isRetryableError({ name: 'Throttled' })).toBe(true);
    expect(isRetryableError({ name: 'ProvisionedThroughputExceededException' })).toBe(true);
    expect(isRetryableError({ name: 'Whatever', $metadata: { httpStatusCode: 503 } })).toBe(true);
    expect(isRetryableError({ name: 'Whatever', $metadata: { httpStatusCode: 429 } })).toBe(true);
    expect(isRetryableError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isRetryableError({ name: 'Error', cause: { code: 'ECONNREFUSED' } })).toBe(true);
  });

  it('does not retry validation, missing resources or permissions', () => {
    expect(isRetryableError({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } })).toBe(false);
    expect(isRetryableError({ name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } })).toBe(
      false,
    );
    expect(isRetryableError({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } })).toBe(
      false,
    );
    expect(isRetryableError(new TypeError('bug'))).toBe(false);
    expect(isRetryableError(undefined)).toBe(false);
  });

  it('names errors by AWS code or socket code', () => {
    expect(errorName({ name: 'ThrottlingException' })).toBe('ThrottlingException');
    expect(errorName(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe('ECONNRESET');
    expect(errorName(42)).toBe('Unknown');
  });
});
