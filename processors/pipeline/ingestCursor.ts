/**
 * The ingest stage's write-ahead intent, one per logs shard (state store, kind `ingest`).
 *
 * Why: stage two dedupes partials by their (series, window, source shard) sequence range — a range
 * contained in a merged one is a duplicate, a partially overlapping one is a conflict and is skipped
 * (docs/windows.md). A crash after some partials of a batch were sent but before Lambda checkpointed
 * makes Lambda redeliver from the batch's first record, possibly as a longer or shorter batch. Were
 * the redelivery aggregated as one new range, it would overlap the range already merged and its new
 * events would be skipped as a conflict: lost.
 *
 * So before sending the partials of a range, ingest stores `{first, last, state}` (the stage-one
 * state before `first`). A later batch that starts inside `[first, last]` replays exactly that range
 * from that state — identical partials, dropped as duplicates where they arrived, merged where they did
 * not — and aggregates anything after `last` as a new range. A shorter redelivery (bisect) replays a
 * prefix, whose ranges are contained in the original ones, and moves `first` past it.
 */
import { StageOneState, type StageOneStateJson } from '../transforms/window/aggregateBatch.ts';
import { isSequenceNumber } from '../transforms/window/sequenceNumber.ts';
import { CheckpointError } from './errors.ts';

/** State kind of the ingest cursors in the state table. */
export const IngestCursorKind = 'ingest';

/** The stored intent. */
export interface IngestCursor {
  readonly v: 1;
  /** First sequence number of the range (inclusive; may be one past a real record after a prefix replay). */
  readonly first: string;
  /** Last sequence number of the range (inclusive): a real record. */
  readonly last: string;
  /** Stage-one state before `first`. */
  readonly state: StageOneStateJson;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Serializes a cursor.
 *
 * @example
 * encodeIngestCursor({ v: 1, first: '1', last: '9', state: StageOneState.initial().toJSON() });
 */
export function encodeIngestCursor(c: IngestCursor): Uint8Array {
  return encoder.encode(JSON.stringify(c));
}

/**
 * Parses a stored cursor.
 * @throws CheckpointError when the bytes are not a cursor.
 * @example
 * const cursor = decodeIngestCursor(blob.data);
 */
export function decodeIngestCursor(bytes: Uint8Array): { cursor: IngestCursor; state: StageOneState } {
  let c: Partial<IngestCursor>;
  try {
    c = JSON.parse(decoder.decode(bytes)) as Partial<IngestCursor>;
  } catch (err) {
    throw new CheckpointError('ingest cursor is not JSON', { cause: err });
  }
  if (
    c?.v !== 1 ||
    typeof c.first !== 'string' ||
    typeof c.last !== 'string' ||
    !isSequenceNumber(c.first) ||
    !isSequenceNumber(c.last) ||
    typeof c.state !== 'object' ||
    c.state === null
  ) {
    throw new CheckpointError('ingest cursor does not have {v:1, first, last, state}');
  }
  try {
    return { cursor: c as IngestCursor, state: StageOneState.fromJSON(c.state) };
  } catch (err) {
    throw new CheckpointError('ingest cursor state is invalid', { cause: err });
  }
}

/**
 * The sequence number right after `seq` (an inclusive lower bound for the next record).
 *
 * @example
 * nextSequenceNumber('49590338271490256608559692538361571095921575989136588898'); // '…899'
 */
export function nextSequenceNumber(seq: string): string {
  return (BigInt(seq) + 1n).toString();
}
