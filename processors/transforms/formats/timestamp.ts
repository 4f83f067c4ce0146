/**
 * Event-time normalization: whatever a log line carries (epoch seconds, ms, µs, ns as numbers or
 * numeric strings; ISO 8601 / RFC 3339 strings) → epoch milliseconds, or NaN when unusable.
 */

/** Units a time field can be declared in; `auto` infers epoch units from the magnitude. */
export const TimeUnit = {
  auto: 'auto',
  s: 's',
  ms: 'ms',
  us: 'us',
  ns: 'ns',
} as const;
export type TimeUnitName = (typeof TimeUnit)[keyof typeof TimeUnit];

/** Latest time accepted: 9999-12-31T23:59:59.999Z (ISO 8601's four-digit years). */
export const MAX_EPOCH_MS = 253_402_300_799_999;

const UNIT_TO_MS: Readonly<Record<Exclude<TimeUnitName, 'auto'>, number>> = {
  s: 1000,
  ms: 1,
  us: 0.001,
  ns: 0.000_001,
};

/**
 * Epoch units from magnitude, for `auto`: below 1e11 is seconds (1e11 s is year 5138, and 1e11 ms
 * is 1973, so the ranges of plausible log times never overlap), below 1e14 milliseconds, below 1e17
 * microseconds, otherwise nanoseconds. Covers pino/Bunyan `time` (ms), zap/structlog `ts`
 * (seconds, fractional), OTel `timeUnixNano` (ns).
 */
function autoScale(n: number): number {
  const a = n < 0 ? -n : n;
  if (a < 1e11) return 1000;
  if (a < 1e14) return 1;
  if (a < 1e17) return 0.001;
  return 0.000_001;
}

function finishMs(ms: number): number {
  // Sub-millisecond precision is dropped: windows and Timestream work in ms.
  return ms >= 0 && ms <= MAX_EPOCH_MS ? Math.floor(ms) : Number.NaN;
}

/**
 * Converts a time value to epoch ms.
 * @returns epoch ms (integer), or NaN if the value is not a usable time.
 * @example
 * toEpochMs(1_700_000_000_123, 'auto');           // 1700000000123 (pino)
 * toEpochMs(1_700_000_000.5, 'auto');             // 1700000000500 (zap seconds)
 * toEpochMs('1700000000123456789', 'auto');       // 1700000000123 (OTel ns string)
 * toEpochMs('2023-11-14T22:13:20.123Z', 'auto');  // 1700000000123
 */
export function toEpochMs(value: unknown, unit: TimeUnitName): number {
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return Number.NaN;
    return finishMs(value * (unit === 'auto' ? autoScale(value) : UNIT_TO_MS[unit]));
  }
  if (typeof value !== 'string' || value.length === 0) return Number.NaN;
  const c0 = value.charCodeAt(0);
  if (c0 >= 48 && c0 <= 57 && value.length >= 10 && value.charCodeAt(4) === 45 /* - */) {
    return finishMs(parseIsoMs(value));
  }
  if ((c0 >= 48 && c0 <= 57) || c0 === 45 || c0 === 46) {
    const n = Number(value);
    if (!Number.isNaN(n)) return finishMs(n * (unit === 'auto' ? autoScale(n) : UNIT_TO_MS[unit]));
  }
  return finishMs(fallbackDateParse(value));
}

function fallbackDateParse(value: string): number {
  // RFC 2822 and similar ("Tue, 14 Nov 2023 22:13:20 GMT"). Short strings are refused because
  // Date.parse reads almost anything with a number in it as some date.
  return value.length >= 10 ? Date.parse(value) : Number.NaN;
}

function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * ISO 8601 / RFC 3339 date-time → epoch ms without Date.parse on the common shapes
 * (`YYYY-MM-DD`, `T` or space, `HH:MM[:SS[.fraction]]`, `Z` / `±HH[:MM]` / none). A time without a
 * zone is read as UTC — not as the machine's local time, which would make results depend on where
 * the processor runs. Other shapes fall back to Date.parse.
 * @example parseIsoMs('2023-11-14T23:13:20+01:00') // 1700000000000
 */
export function parseIsoMs(s: string): number {
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || s.charCodeAt(7) !== 45) {
    return fallbackDateParse(s);
  }
  if (s.length === 10) return Date.UTC(year, month - 1, day);
  const sep = s.charCodeAt(10);
  if ((sep !== 84 /* T */ && sep !== 32 /* space */ && sep !== 116) /* t */ || s.length < 16) {
    return fallbackDateParse(s);
  }
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || s.charCodeAt(13) !== 58)
    return fallbackDateParse(s);
  let i = 16;
  let second = 0;
  let ms = 0;
  if (s.charCodeAt(i) === 58 /* : */) {
    second = digits(s, 17, 2);
    if (second < 0 || second > 60) return fallbackDateParse(s);
    i = 19;
    const dot = s.charCodeAt(i);
    if (dot === 46 || dot === 44) {
      i++;
      let scale = 100;
      const start = i;
      for (; i < s.length; i++) {
        const d = s.charCodeAt(i) - 48;
        if (d < 0 || d > 9) break;
        ms += d * scale;
        scale /= 10;
      }
      if (i === start) return fallbackDateParse(s);
    }
  }
  let offsetMin = 0;
  if (i < s.length) {
    const z = s.charCodeAt(i);
    if (z === 90 /* Z */ || z === 122) {
      i++;
    } else if (z === 43 || z === 45) {
      const oh = digits(s, i + 1, 2);
      let om = 0;
      i += 3;
      if (s.charCodeAt(i) === 58) {
        om = digits(s, i + 1, 2);
        i += 3;
      } else if (i + 2 <= s.length && s.length - i >= 2) {
        om = digits(s, i, 2);
        i += 2;
      }
      if (oh < 0 || oh > 23 || om < 0 || om > 59) return fallbackDateParse(s);
      offsetMin = (z === 43 ? 1 : -1) * (oh * 60 + om);
    } else return fallbackDateParse(s);
  }
  if (i !== s.length) return fallbackDateParse(s);
  // A leap second (60) is folded into the next second, as Date does.
  return Date.UTC(year, month - 1, day, hour, minute, second) + Math.floor(ms) - offsetMin * 60_000;
}
