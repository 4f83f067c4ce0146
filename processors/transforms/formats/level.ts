/**
 * Severity normalization onto the pino/Bunyan scale of `schema.ts` `Level`.
 */
import type { LevelName } from '../../schema.ts';

/**
 * pino/Bunyan numeric levels (10 trace … 60 fatal); values between steps round down.
 * @example levelFromPinoNumber(40) // 'warn'
 */
export function levelFromPinoNumber(n: number): LevelName {
  if (n < 20) return 'trace';
  if (n < 30) return 'debug';
  if (n < 40) return 'info';
  if (n < 50) return 'warn';
  if (n < 60) return 'error';
  return 'fatal';
}

/**
 * OpenTelemetry `SeverityNumber` (1–4 TRACE, 5–8 DEBUG, 9–12 INFO, 13–16 WARN, 17–20 ERROR,
 * 21–24 FATAL; OTel logs data model). 0 (UNSPECIFIED) → undefined.
 * @example levelFromOtelSeverity(17) // 'error'
 */
export function levelFromOtelSeverity(n: number): LevelName | undefined {
  if (!(n >= 1)) return undefined;
  if (n <= 4) return 'trace';
  if (n <= 8) return 'debug';
  if (n <= 12) return 'info';
  if (n <= 16) return 'warn';
  if (n <= 20) return 'error';
  return 'fatal';
}

/** Level words seen in the wild (pino, Bunyan, winston, log4j, Python logging, syslog, zap, GCP). */
const LEVEL_WORDS: ReadonlyMap<string, LevelName> = new Map<string, LevelName>([
  ['trace', 'trace'],
  ['silly', 'trace'],
  ['finest', 'trace'],
  ['finer', 'trace'],
  ['debug', 'debug'],
  ['verbose', 'debug'],
  ['fine', 'debug'],
  ['info', 'info'],
  ['information', 'info'],
  ['informational', 'info'],
  ['notice', 'info'],
  ['default', 'info'],
  ['log', 'info'],
  ['warn', 'warn'],
  ['warning', 'warn'],
  ['error', 'error'],
  ['err', 'error'],
  ['severe', 'error'],
  ['fatal', 'fatal'],
  ['critical', 'fatal'],
  ['crit', 'fatal'],
  ['alert', 'fatal'],
  ['emerg', 'fatal'],
  ['emergency', 'fatal'],
  ['panic', 'fatal'],
  ['dpanic', 'fatal'],
]);

/**
 * A level word in any case (`INFO`, `Warning`, `err`) → level; custom words first.
 * @example levelFromWord('WARNING') // 'warn'
 */
export function levelFromWord(
  word: string,
  custom?: ReadonlyMap<string, LevelName> | undefined,
): LevelName | undefined {
  if (custom !== undefined) {
    const c = custom.get(word);
    if (c !== undefined) return c;
  }
  const exact = LEVEL_WORDS.get(word);
  if (exact !== undefined) return exact;
  if (word.length > 13) return undefined;
  const lower = word.toLowerCase();
  return custom?.get(lower) ?? LEVEL_WORDS.get(lower);
}

/**
 * Any level value (number on the pino scale, numeric string, or word) → level.
 * @example levelFromValue(50) // 'error'
 */
export function levelFromValue(
  value: unknown,
  custom?: ReadonlyMap<string, LevelName> | undefined,
): LevelName | undefined {
  if (typeof value === 'number') return !Number.isNaN(value) ? levelFromPinoNumber(value) : undefined;
  if (typeof value !== 'string' || value.length === 0) return undefined;
  const word = levelFromWord(value, custom);
  if (word !== undefined) return word;
  const n = Number(value);
  return !Number.isNaN(n) && value.trim() !== '' ? levelFromPinoNumber(n) : undefined;
}
