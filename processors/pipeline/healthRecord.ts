/**
 * The ingest stage's pipeline-health record travels on the metrics stream beside the partials, and the
 * detect stage writes it with its own records: one time-series write per detect invocation instead of
 * one per ingest invocation (Timestream bills and throttles per call; locally each call is a DuckDB
 * transaction).
 *
 * Wire format: `TWH` + version byte 1, then the `SeriesWindowRecord` as UTF-8 JSON. Partials start
 * with `TWP` + 1 (partialCodec.ts), so the first 4 bytes tell them apart.
 */
import type { SeriesWindowRecord } from '../sinks/timeSeriesRecord.ts';

const MAGIC = [0x54, 0x57, 0x48, 0x01] as const; // "TWH" 1

/** Partition key prefix of health records on the metrics stream. */
export const HEALTH_PARTITION_KEY_PREFIX = 'tidewatch-health/';

/**
 * Encodes a health record for the metrics stream.
 *
 * @example
 * publisher.publish([{ partitionKey: `${HEALTH_PARTITION_KEY_PREFIX}${shard}`, data: encodeHealthRecord(r) }]);
 */
export function encodeHealthRecord(r: SeriesWindowRecord): Uint8Array {
  const json = Buffer.from(JSON.stringify(r), 'utf8');
  const out = new Uint8Array(MAGIC.length + json.length);
  out.set(MAGIC, 0);
  out.set(json, MAGIC.length);
  return out;
}

/**
 * Whether a metrics-stream record is a health record.
 *
 * @example
 * if (isHealthRecord(bytes)) records.push(decodeHealthRecord(bytes)!);
 */
export function isHealthRecord(bytes: Uint8Array): boolean {
  return (
    bytes.length > MAGIC.length &&
    bytes[0] === MAGIC[0] &&
    bytes[1] === MAGIC[1] &&
    bytes[2] === MAGIC[2] &&
    bytes[3] === MAGIC[3]
  );
}

/**
 * Decodes a health record, or `undefined` when it is not one (malformed).
 *
 * @example
 * const record = decodeHealthRecord(bytes);
 */
export function decodeHealthRecord(bytes: Uint8Array): SeriesWindowRecord | undefined {
  if (!isHealthRecord(bytes)) return undefined;
  try {
    const r = JSON.parse(
      Buffer.from(bytes.buffer, bytes.byteOffset + 4, bytes.length - 4).toString('utf8'),
    ) as Partial<SeriesWindowRecord> | null;
    if (
      typeof r?.table !== 'string' ||
      typeof r.timeMs !== 'number' ||
      typeof r.version !== 'number' ||
      typeof r.dimensions !== 'object' ||
      r.dimensions === null ||
      typeof r.measures !== 'object' ||
      r.measures === null
    ) {
      return undefined;
    }
    return r as SeriesWindowRecord;
  } catch {
    return undefined;
  }
}
