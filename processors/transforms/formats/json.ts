/**
 * A parsed JSON log object (pino, Bunyan, ECS, winston, Lambda JSON logs, zap, Fluent Bit, ...) →
 * `LogEvent`. Fields are found through the compiled field mapping; everything the line carried
 * stays reachable as `attributes` (the parsed object itself — not copied).
 */
import { type LogEvent, RejectCode, type RejectCodeName } from '../../schema.ts';
import type { CompiledFieldMapping } from './fieldMapping.ts';
import {
  eventFromFields,
  findLevel,
  findString,
  findTimeMs,
  type ParseContext,
  setRejectDetail,
} from './fields.ts';

/**
 * @returns the event, or a reject code (`missing_timestamp`, `invalid_timestamp`) whose detail is
 *   in `rejectDetail()`.
 * @example
 * const e = logEventFromObject({ level: 50, time: 1_700_000_000_000, msg: 'boom' }, ctx, defaultFieldMapping);
 */
export function logEventFromObject(
  o: Record<string, unknown>,
  ctx: ParseContext,
  m: CompiledFieldMapping,
): LogEvent | RejectCodeName {
  let timeMs = findTimeMs(o, m.time);
  if (timeMs < 0) {
    timeMs = ctx.fallbackTimeMs;
    if (Number.isNaN(timeMs)) {
      setRejectDetail('no time field (time, timestamp, @timestamp, ts, timeUnixNano, or the mapped one)');
      return RejectCode.missingTimestamp;
    }
  } else if (Number.isNaN(timeMs)) return RejectCode.invalidTimestamp;
  return eventFromFields(
    timeMs,
    findString(o, m.service) ?? ctx.fallbackService,
    findLevel(o, m) ?? 'info',
    findString(o, m.message) ?? '',
    o,
    m,
    undefined,
  );
}
