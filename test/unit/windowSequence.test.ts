import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareSequenceNumbers,
  isSequenceNumber,
} from '../../processors/transforms/window/sequenceNumber.ts';

describe('sequence numbers', () => {
  it('compares 128-bit decimal strings like BigInt does', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 128n }),
        fc.bigInt({ min: 0n, max: 2n ** 128n }),
        (a, b) => {
          const got = Math.sign(compareSequenceNumbers(a.toString(), b.toString()));
          expect(got).toBe(a < b ? -1 : a > b ? 1 : 0);
        },
      ),
    );
  });

  it('accepts only canonical decimal strings', () => {
    expect(isSequenceNumber('49590338271490256608559692538361571095921575989136588898')).toBe(true);
    for (const bad of ['', '007', '-1', '1e5', '12 ']) expect(isSequenceNumber(bad)).toBe(false);
  });
});
