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
  record: number;
  sequenceNumber: string;
  subSequence: number;
  arrivalMs: number;
}

/**
 * Emits a parser result: the event with its raw line, or a reject carrying the line's bytes.
 * @example emit(cur, logEventFromText(line, cur.ctx, cur.mapping), line);
 */
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
  } else cur.out.addEvent(result, raw, cur.record, cur.subSequence);
}

export function reject(cur: DecodeCursor, code: RejectCodeName, detail: string, raw: Uint8Array): void {
  cur.out.addReject(code, detail, cur.record, cur.sequenceNumber, cur.subSequence, raw);
}

export function rejectText(cur: DecodeCursor, code: RejectCodeName, detail: string, raw: string): void {
  cur.out.addReject(code, detail, cur.record, cur.sequenceNumber, cur.subSequence, Buffer.from(raw));
}
