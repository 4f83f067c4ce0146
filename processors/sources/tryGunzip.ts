/**
 * gunzip with a ceiling on the output (a few KB of gzip can inflate to gigabytes) and outcomes
 * instead of exceptions.
 */
import type { Buffer } from 'node:buffer';
import { gunzipSync } from 'node:zlib';
import { RejectCode, type RejectCodeName } from '../schema.ts';

/**
 * True when the bytes start with the gzip magic `1f 8b` (RFC 1952 §2.3.1).
 * @example isGzip(Buffer.of(0x1f, 0x8b, 8)) // true
 */
export function isGzip(b: Uint8Array): boolean {
  return b.byteLength >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

let lastError = '';
export function lastGunzipError(): string {
  return lastError;
}

/**
 * @returns the inflated bytes, or `gzip_corrupt` / `oversized` (message in `lastGunzipError()`).
 * @example
 * const out = tryGunzip(bytes, 16 * 1024 * 1024);
 * if (typeof out === 'string') reject(out, lastGunzipError());
 */
export function tryGunzip(b: Uint8Array, maxOutputBytes: number): Buffer | RejectCodeName {
  try {
    return gunzipSync(b, { maxOutputLength: maxOutputBytes });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    lastError = err.message;
    return err.code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError
      ? RejectCode.oversized
      : RejectCode.gzipCorrupt;
  }
}
