/**
 * Kinesis sequence numbers are decimal strings of up to 128 bits (Kinesis `Record.SequenceNumber`,
 * pattern `0|([1-9]\d{0,128})`), beyond `Number` precision. Without leading zeros, comparing by
 * length and then lexicographically is numeric comparison, with no BigInt allocation.
 */

const SEQ_RE = /^(0|[1-9]\d{0,128})$/;

/**
 * Whether `s` is a canonical Kinesis sequence number.
 *
 * @example
 * isSequenceNumber('49590338271490256608559692538361571095921575989136588898'); // true
 */
export function isSequenceNumber(s: string): boolean {
  return SEQ_RE.test(s);
}

/**
 * Numeric comparison of two canonical sequence numbers: negative, zero or positive.
 *
 * @example
 * compareSequenceNumbers('99', '100'); // < 0
 */
export function compareSequenceNumbers(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
