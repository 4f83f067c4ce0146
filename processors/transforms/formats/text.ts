/**
 * Non-JSON lines: logfmt when the line starts with `key=`, otherwise plain text. Plain text keeps
 * the whole line as the message; a leading ISO timestamp and a level word among the first tokens
 * ("2024-01-15T10:00:00Z ERROR ...", "[WARN] ...", Lambda's "ts\trequestId\tINFO\tmsg") are
 * honoured. Without a leading timestamp the time is the source's `textTimeMs` — the CloudWatch
 * event time or the Kinesis arrival time — because a plain line carries nothing better.
 */
import { type LevelName, type LogEvent, RejectCode, type RejectCodeName } from '../../schema.ts';
import type { CompiledFieldMapping } from './fieldMapping.ts';
import { findString, findTimeMs, makeEvent, type ParseContext, setRejectDetail } from './fields.ts';
import { logEventFromObject } from './json.ts';
import { looksLikeLogfmt, parseLogfmt } from './logfmt.ts';
import { parseIsoMs } from './timestamp.ts';

/** Level words trusted in free text (a narrower set than for level fields: no "log", "alert"). */
const TEXT_LEVELS: ReadonlyMap<string, LevelName> = new Map<string, LevelName>([
  ['trace', 'trace'],
  ['debug', 'debug'],
  ['info', 'info'],
  ['notice', 'info'],
  ['warn', 'warn'],
  ['warning', 'warn'],
  ['error', 'error'],
  ['err', 'error'],
  ['severe', 'error'],
  ['fatal', 'fatal'],
  ['critical', 'fatal'],
  ['crit', 'fatal'],
  ['panic', 'fatal'],
]);

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

function trimPunctuation(token: string): string {
  let s = 0;
  let e = token.length;
  while (s < e && '[(<'.includes(token[s]!)) s++;
  while (e > s && '])>:,;|'.includes(token[e - 1]!)) e--;
  return s === 0 && e === token.length ? token : token.slice(s, e);
}

// Results of sniff(), module-level so a plain line allocates no result object.
let sniffTimeMs = Number.NaN;
let sniffLevel: LevelName | undefined;

/** Scans the first tokens of a plain line for a leading time and a level word. */
function sniff(line: string): void {
  let timeMs = Number.NaN;
  let level: LevelName | undefined;
  let i = 0;
  const n = Math.min(line.length, 160);
  for (let t = 0; t < 5 && i < n; t++) {
    while (i < n && isSpace(line.charCodeAt(i))) i++;
    const start = i;
    while (i < n && !isSpace(line.charCodeAt(i))) i++;
    if (i === start) break;
    const token = trimPunctuation(line.slice(start, i));
    if (t === 0 && token.length >= 10 && token.charCodeAt(4) === 45) {
      // "2024-01-15T10:00:00.000Z" or "2024-01-15 10:00:00,123" (two tokens)
      let candidate = token;
      if (token.length === 10 && i + 1 < n) {
        let j = i + 1;
        while (j < n && !isSpace(line.charCodeAt(j))) j++;
        candidate = `${token} ${trimPunctuation(line.slice(i + 1, j))}`;
        const ms = parseIsoMs(candidate);
        if (!Number.isNaN(ms)) {
          timeMs = ms;
          i = j;
          continue;
        }
        candidate = token;
      }
      const ms = parseIsoMs(candidate);
      if (!Number.isNaN(ms)) timeMs = ms;
      continue;
    }
    if (level === undefined && token.length >= 3 && token.length <= 8) {
      level = TEXT_LEVELS.get(token) ?? TEXT_LEVELS.get(token.toLowerCase());
      if (level !== undefined) break;
    }
  }
  sniffTimeMs = timeMs;
  sniffLevel = level;
}

/**
 * A non-JSON line → event: logfmt if it looks like logfmt, else plain text.
 * @example
 * logEventFromText('2024-01-15T10:00:00Z ERROR db timeout', ctx, defaultFieldMapping)
 * // { timeMs: 1705312800000, level: 'error', message: '2024-01-15T10:00:00Z ERROR db timeout', ... }
 */
export function logEventFromText(
  line: string,
  ctx: ParseContext,
  m: CompiledFieldMapping,
): LogEvent | RejectCodeName {
  if (looksLikeLogfmt(line)) {
    const o = parseLogfmt(line);
    if (o !== undefined) {
      // logfmt lines without a time take the text time (as plain lines do), not a reject.
      if (findTimeMs(o, m.time) === -1) {
        const saved = ctx.fallbackTimeMs;
        ctx.fallbackTimeMs = ctx.textTimeMs;
        const e = logEventFromObject(o, ctx, m);
        ctx.fallbackTimeMs = saved;
        if (typeof e !== 'string' && findString(o, m.message) === undefined) e.message = line;
        return e;
      }
      const e = logEventFromObject(o, ctx, m);
      if (typeof e !== 'string' && findString(o, m.message) === undefined) e.message = line;
      return e;
    }
  }
  sniff(line);
  const timeMs = !Number.isNaN(sniffTimeMs) ? sniffTimeMs : ctx.textTimeMs;
  if (Number.isNaN(timeMs)) {
    setRejectDetail('plain-text line without a leading time, and no arrival time to use');
    return RejectCode.missingTimestamp;
  }
  return makeEvent(
    timeMs,
    ctx.fallbackService,
    sniffLevel ?? 'info',
    line,
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
  );
}
