/**
 * Malformed records the demo fleet slips into the stream, one of each kind in turn, so a demo shows
 * rejects being counted by code and archived under the error prefix instead of crashing anything.
 * Each record yields exactly one reject of the named code and no event.
 */
import { Buffer } from 'node:buffer';
import { gzipSync } from 'node:zlib';
import { RejectCode, type RejectCodeName } from '../../processors/schema.ts';
import { encodeAggregate } from '../../sdk/kpl.ts';
import type { DemoRandom } from './random.ts';

/** Kinds of malformed records, named by the reject code each one must produce. */
export const MALFORMED_CODES = [
  RejectCode.invalidJson,
  RejectCode.kplChecksumMismatch,
  RejectCode.gzipCorrupt,
] as const satisfies readonly RejectCodeName[];
export type MalformedCode = (typeof MALFORMED_CODES)[number];

/** Partition key of malformed records (also the service a decoder would fall back on). */
export const MALFORMED_PARTITION_KEY = 'demo-malformed';

/**
 * The bytes of one malformed Kinesis record of kind `code`.
 *
 * - `invalid_json`: a JSON log line cut off mid-object (a crashed writer's last line).
 * - `kpl_checksum_mismatch`: a genuine KPL aggregate with one bit of its MD5 trailer flipped.
 * - `gzip_corrupt`: the start of a real gzip stream followed by garbage (a truncated upload).
 *
 * @example
 * const data = malformedRecord('gzip_corrupt', new DemoRandom(1));
 */
export function malformedRecord(code: MalformedCode, rng: DemoRandom): Uint8Array {
  switch (code) {
    case RejectCode.invalidJson:
      return Buffer.from(
        `{"level":50,"time":${1_700_000_000_000 + rng.int(1e9)},"msg":"write interrupt`,
        'utf8',
      );
    case RejectCode.kplChecksumMismatch: {
      const agg = encodeAggregate([
        {
          partitionKey: MALFORMED_PARTITION_KEY,
          data: Buffer.from('corrupted aggregate, record one', 'utf8'),
        },
        {
          partitionKey: MALFORMED_PARTITION_KEY,
          data: Buffer.from('corrupted aggregate, record two', 'utf8'),
        },
      ]);
      const data = Uint8Array.prototype.slice.call(agg.data);
      const i = data.byteLength - 1 - rng.int(16);
      data[i] = (data[i] as number) ^ (1 << rng.int(8));
      return data;
    }
    case RejectCode.gzipCorrupt: {
      const whole = gzipSync(
        Buffer.from('{"level":30,"msg":"this upload never finished"}\n'.repeat(20), 'utf8'),
      );
      const cut = whole.subarray(0, Math.floor(whole.byteLength / 2));
      const garbage = Buffer.alloc(16);
      for (let i = 0; i < garbage.byteLength; i++) garbage[i] = rng.int(256);
      return Buffer.concat([cut, garbage]);
    }
  }
}
