import { describe, expect, it } from 'vitest';
import { parentsToRetry } from '../../processors/sinks/parentsToRetry.ts';

describe('parentsToRetry', () => {
  it('retries a parent if any of its items is retry; ok and reject items ack it', () => {
    // Prepare
    const outcomes = [
      { kind: 'ok' },
      { kind: 'retry' },
      { kind: 'reject' },
      { kind: 'ok' },
      { kind: 'retry' },
      { kind: 'retry' },
    ];
    // Act
    const parents = parentsToRetry(outcomes, [0, 0, 1, 2, 3, 3]);
    // Assess
    expect(parents).toEqual([0, 3]);
  });

  it('refuses mismatched lengths', () => {
    expect(() => parentsToRetry([{ kind: 'ok' }], [])).toThrow(RangeError);
  });
});
