/**
 * Reader for `timestamp,value` CSV files as spreadsheets, Grafana and CloudWatch export them:
 * RFC 4180 quoting (`"a,b"`, `""` for a quote, newlines inside quotes), LF or CRLF line endings, an
 * optional UTF-8 byte-order mark, extra columns ignored, column order free, header names matched
 * case-insensitively. Timestamps are `YYYY-MM-DD HH:MM:SS[.fff…]` (read as UTC) or ISO 8601
 * (`2024-05-01T12:00:00Z`, `…+02:00`; no zone = UTC).
 */

/** One data row of a series CSV. */
export interface SeriesCsvRow {
  /** 1-based physical line number where the row starts (for error messages). */
  readonly line: number;
  /** The timestamp exactly as written in the file (unquoted). */
  readonly timestampText: string;
  readonly timestampMs: number;
  /** The value exactly as written in the file (unquoted). */
  readonly valueText: string;
  readonly value: number;
}

/** Outcome of reading a series CSV: rows plus warnings, or the first error with its line. */
export type SeriesCsvResult =
  | { readonly kind: 'ok'; readonly rows: SeriesCsvRow[]; readonly warnings: string[] }
  | { readonly kind: 'error'; readonly line: number; readonly message: string };

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Parses `YYYY-MM-DD HH:MM:SS[.ffffff]` (UTC) or an ISO 8601 date-time into ms since the epoch;
 * `undefined` when the text is neither or names an impossible date.
 *
 * @example
 * parseTimestampMs('2014-04-01 00:05:00'); // 1396310700000
 * parseTimestampMs('2014-04-01T02:05:00+02:00'); // 1396310700000
 */
export function parseTimestampMs(text: string): number | undefined {
  const m = TIMESTAMP.exec(text.trim());
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = s === undefined ? 0 : Number(s);
  const ms = frac === undefined ? 0 : Math.floor(Number(`0.${frac}`) * 1000 + 1e-6);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60) return undefined;
  let t = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  if (new Date(Date.UTC(year, month - 1, day)).getUTCDate() !== day) return undefined;
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offsetMin = Number(digits.slice(0, 2)) * 60 + (digits.length > 2 ? Number(digits.slice(2)) : 0);
    t -= sign * offsetMin * 60_000;
  }
  return t;
}

/**
 * Splits CSV text into records of fields, tracking the line each record starts on.
 * Returns an error for an unterminated quoted field.
 */
function splitRecords(
  text: string,
): { records: { line: number; fields: string[] }[] } | { line: number; message: string } {
  const records: { line: number; fields: string[] }[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let fields: string[] = [];
  let recordLine = 1;
  let field = '';
  let quotedStartLine = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === '"' && field === '') {
      // Quoted field: read to the closing quote; "" is an escaped quote.
      quotedStartLine = line;
      i++;
      let closed = false;
      while (i < n) {
        const q = text[i]!;
        if (q === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          closed = true;
          break;
        }
        if (q === '\n') line++;
        field += q;
        i++;
      }
      if (!closed) return { line: quotedStartLine, message: 'a quoted field is never closed (missing ")' };
      continue;
    }
    if (c === ',') {
      fields.push(field);
      field = '';
      i++;
      continue;
    }
    if (c === '\r' || c === '\n') {
      fields.push(field);
      records.push({ line: recordLine, fields });
      fields = [];
      field = '';
      if (c === '\r' && text[i + 1] === '\n') i++;
      i++;
      line++;
      recordLine = line;
      continue;
    }
    field += c;
    i++;
  }
  if (field !== '' || fields.length > 0) {
    fields.push(field);
    records.push({ line: recordLine, fields });
  }
  return { records };
}

/**
 * Reads a series CSV (header with `timestamp` and `value` columns). Blank lines are skipped; backwards or
 * repeated timestamps are kept in file order and reported as warnings (real exports contain them).
 *
 * @example
 * const r = parseSeriesCsv('timestamp,value\r\n"2024-01-01 00:00:00","1.5"\r\n');
 * if (r.kind === 'ok') r.rows[0]!.value; // 1.5
 */
export function parseSeriesCsv(text: string): SeriesCsvResult {
  const split = splitRecords(text);
  if ('message' in split) return { kind: 'error', line: split.line, message: split.message };
  const records = split.records.filter((r) => !(r.fields.length === 1 && r.fields[0]!.trim() === ''));
  const header = records[0];
  if (header === undefined) {
    return { kind: 'error', line: 1, message: 'the file is empty; expected a header line "timestamp,value"' };
  }
  const names = header.fields.map((f) => f.trim().toLowerCase());
  const tCol = names.indexOf('timestamp');
  const vCol = names.indexOf('value');
  if (tCol < 0 || vCol < 0) {
    const missing = [tCol < 0 ? 'timestamp' : '', vCol < 0 ? 'value' : '']
      .filter((s) => s !== '')
      .join(' and ');
    return {
      kind: 'error',
      line: header.line,
      message: `the header has no ${missing} column (found: ${header.fields.join(',')}); expected "timestamp,value"`,
    };
  }
  const rows: SeriesCsvRow[] = [];
  const warnings: string[] = [];
  let prevMs = Number.NEGATIVE_INFINITY;
  let prevLine = 0;
  for (let k = 1; k < records.length; k++) {
    const { line, fields } = records[k]!;
    const timestampText = fields[tCol];
    const valueText = fields[vCol];
    if (timestampText === undefined || valueText === undefined) {
      return {
        kind: 'error',
        line,
        message: `the row has ${fields.length} field(s) but the header has ${header.fields.length}; is a comma missing?`,
      };
    }
    const timestampMs = parseTimestampMs(timestampText);
    if (timestampMs === undefined) {
      return {
        kind: 'error',
        line,
        message: `cannot read timestamp "${timestampText}"; use YYYY-MM-DD HH:MM:SS (UTC) or ISO 8601`,
      };
    }
    const trimmed = valueText.trim();
    const value = trimmed === '' ? Number.NaN : Number(trimmed);
    if (!Number.isFinite(value)) {
      return { kind: 'error', line, message: `cannot read value "${valueText}" as a finite number` };
    }
    if (timestampMs < prevMs) {
      warnings.push(
        `line ${line}: timestamp ${timestampText} is earlier than line ${prevLine}'s; kept in file order`,
      );
    } else if (timestampMs === prevMs) {
      warnings.push(
        `line ${line}: timestamp ${timestampText} repeats line ${prevLine}'s; kept in file order`,
      );
    }
    prevMs = timestampMs;
    prevLine = line;
    rows.push({ line, timestampText, timestampMs, valueText, value });
  }
  return { kind: 'ok', rows, warnings };
}
