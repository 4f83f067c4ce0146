/**
 * Where the decoder is (record, sub-sequence, fallbacks) and how it emits: one mutable object per
 * batch, passed down instead of closures or per-record objects.
 */
import { Buffer } from 'node:buffer';
import type { LogEvent, RejectCodeName } from '../schema.ts';
import type { CompiledFieldMapping } from '../transforms/formats/fieldMapping.ts';
import type { ParseContext } from '../transforms/formats/fields.ts';
import { rejectDetail } from '../transforms/formats/fields.ts';
import type { DecodedBatch } from './decodedBatch.ts';

export interface DecodeCursor {
  readonly out: DecodedBatch;
  readonly mapping: CompiledFieldMapping;
  readonly ctx: ParseContext;
  readonly maxLineBytes: number;
  readonly maxDecompressedBytes: number;
  readonly missingTimestamp: 'reject' | 'arrival';
  readonly defaultService: string | undefined;
  readonly verifyChecksums: boolean;
  /**
   * Keep each event's `attributes` (the parsed line). Off when nothing downstream reads them (no
   * rule names an attribute): the parsed objects then die young instead of being copied by every
   * scavenge until the batch ends.
   */
  readonly keepAttributes: boolean;
  record: number;
  sequenceNumber: string;
  subSequence: number;
  arrivalMs: number;
  /**
   * The bytes the text being decoded came from, when character offsets in that text are byte
   * offsets in `rawBuf` from `rawBase` (the text is ASCII); otherwise undefined, and lines are
   * encoded from their strings.
   */
  rawBuf: Buffer | undefined;
  rawBase: number;
  /** Character offset, in the text being decoded, of the line being decoded. */
  lineStart: number;
}

/**
 * Emits a parser result: the event with its raw line, or a reject carrying the line's bytes.
 * @example emit(cur, logEventFromText(line, cur.ctx, cur.mapping), line);
 */
/**
 * Clears `attributes` in place: assigned `undefined` (as `makeEvent` leaves absent fields), not
 * deleted, so every event keeps one hidden class.
 */
function dropAttributes(e: LogEvent): void {
  (e as { attributes: unknown }).attributes = undefined;
}

export function emit(cur: DecodeCursor, result: LogEvent | RejectCodeName, raw: string): void {
  if (typeof result === 'string') {
    cur.out.addReject(
      result,
      rejectDetail(),
      cur.record,
      cur.sequenceNumber,
      cur.subSequence,
      Buffer.from(raw),
    );
    return;
  }
  if (!cur.keepAttributes) dropAttributes(result);
  cur.out.addEventText(result, raw, cur.record, cur.subSequence);
}

/**
 * {@link emit} for a result parsed from `line`, the text at `cur.lineStart` of the text being
 * decoded: the event's raw bytes are a range of `cur.rawBuf` when there is one (no copy).
 * @example emitLine(cur, logEventFromObject(parsed, cur.ctx, cur.mapping), line);
 */
export function emitLine(cur: DecodeCursor, result: LogEvent | RejectCodeName, line: string): void {
  const buf = cur.rawBuf;
  if (typeof result === 'string' || buf === undefined) {
    emit(cur, result, line);
    return;
  }
  if (!cur.keepAttributes) dropAttributes(result);
  const start = cur.rawBase + cur.lineStart;
  cur.out.addEvent(result, buf, start, start + line.length, cur.record, cur.subSequence);
}

export function reject(cur: DecodeCursor, code: RejectCodeName, detail: string, raw: Uint8Array): void {
  cur.out.addReject(code, detail, cur.record, cur.sequenceNumber, cur.subSequence, raw);
}

export function rejectText(cur: DecodeCursor, code: RejectCodeName, detail: string, raw: string): void {
  cur.out.addReject(code, detail, cur.record, cur.sequenceNumber, cur.subSequence, Buffer.from(raw));
}
