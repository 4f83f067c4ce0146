/**
 * Runs the Timestream SQL of our Grafana panels against the embedded DuckDB store.
 *
 * Two steps, kept apart so each can be checked against its reference:
 * 1. {@link interpolateTimestreamMacros} does what Grafana and the Timestream data source do before a
 *    query reaches Timestream: template variables (`${service}`) and the plugin's macros
 *    (`$__database`, `$__table`, `$__measure`, `$__timeFilter`, `$__timeFrom`, `$__timeTo`,
 *    `$__interval_ms`, `$__interval_raw_ms`, `$__now_ms`), with the plugin's own expansions
 *    (grafana/timestream-datasource `pkg/timestream/macros.go`: `$__timeFilter` →
 *    `time BETWEEN from_milliseconds(a) AND from_milliseconds(b)`, `$__interval_ms` → `<n>ms`).
 * 2. {@link timestreamToDuckDb} rewrites the Timestream-only syntax we use into DuckDB: duration
 *    literals (`10s` → `INTERVAL '10 seconds'`), `bin()` → `time_bucket()` (epoch-aligned, as
 *    Timestream bins are), `ago()`, `now()`, `from_milliseconds()`, `to_milliseconds()`,
 *    `CREATE_TIME_SERIES()` → an ordered `list()` of `{time, value}`, `approx_percentile()`, and
 *    `greatest()`/`least()` with Timestream's NULL semantics (any NULL argument → NULL).
 *    Quoting is the same in both dialects (`"identifier"`, `'string'`), and the store mirrors
 *    Timestream's multi-measure layout (`"tidewatch"."windows"`: schema = database), so the rest of
 *    the query passes through unchanged.
 *
 * Pure functions: no DuckDB import, no clock (the caller passes `nowMs`).
 */

/** A query could not be translated (unknown macro or variable, unbalanced parentheses, bad name). */
export class TimestreamSqlError extends Error {
  override readonly name = 'TimestreamSqlError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** What Grafana knows when it runs a panel query. */
export interface TimestreamSqlContext {
  /** `$__database` (the query's `database`, else the data source default). */
  database: string;
  /** `$__table` */
  table: string;
  /** `$__measure`; optional because queries need not use it. */
  measure?: string;
  /** Dashboard time range, epoch ms. */
  fromMs: number;
  toMs: number;
  /** Grafana's interval for the panel (ms): `$__interval_ms`. */
  intervalMs: number;
  /** The clock for `ago()`, `now()` and `$__now_ms` (epoch ms). */
  nowMs: number;
  /** Dashboard variables by name (`service` → `checkout`). Values are inserted into SQL string literals. */
  variables?: Readonly<Record<string, string>>;
}

const NAME_RE = /^[A-Za-z0-9_.-]+$/;

function checkName(kind: string, value: string): string {
  // Timestream database/table names allow letters, digits, '_', '-' and '.'; anything else would need
  // quoting rules we do not want to guess.
  if (!NAME_RE.test(value))
    throw new TimestreamSqlError(`${kind} ${JSON.stringify(value)} is not a valid name`);
  return value;
}

function checkMs(kind: string, value: number): number {
  if (!Number.isFinite(value))
    throw new TimestreamSqlError(`${kind} must be a finite number of ms, got ${value}`);
  return Math.trunc(value);
}

/** Escapes a value for use inside a single-quoted SQL string literal (both dialects: `'` → `''`). */
export function escapeSqlString(value: string): string {
  return value.replace(/'/g, "''");
}

const MACRO_OR_VARIABLE_RE =
  /\$__([A-Za-z_]+)|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z]+))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/**
 * Expands template variables and Timestream data source macros the way Grafana does: the result is the
 * Timestream SQL the plugin would send. One pass, so inserted values are never expanded again.
 *
 * @example
 * interpolateTimestreamMacros(`SELECT 1 FROM "$__database"."$__table" WHERE $__timeFilter`,
 *   { database: 'tidewatch', table: 'windows', fromMs: 0, toMs: 1000, intervalMs: 10_000, nowMs: 1000 });
 * // SELECT 1 FROM "tidewatch"."windows" WHERE time BETWEEN from_milliseconds(0) AND from_milliseconds(1000)
 */
export function interpolateTimestreamMacros(sql: string, ctx: TimestreamSqlContext): string {
  const fromMs = checkMs('fromMs', ctx.fromMs);
  const toMs = checkMs('toMs', ctx.toMs);
  const intervalMs = checkMs('intervalMs', ctx.intervalMs);
  const nowMs = checkMs('nowMs', ctx.nowMs);
  if (intervalMs <= 0) throw new TimestreamSqlError(`intervalMs must be positive, got ${ctx.intervalMs}`);
  return sql.replace(
    MACRO_OR_VARIABLE_RE,
    (
      whole,
      macro: string | undefined,
      braced: string | undefined,
      format: string | undefined,
      bare: string | undefined,
    ) => {
      if (macro !== undefined) return expandMacro(macro, ctx, { fromMs, toMs, intervalMs, nowMs });
      const name = braced ?? bare ?? '';
      const value = ctx.variables?.[name];
      if (value === undefined) {
        throw new TimestreamSqlError(
          `unknown dashboard variable ${whole}; known: ${Object.keys(ctx.variables ?? {}).join(', ') || 'none'}`,
        );
      }
      if (format !== undefined && format !== 'raw' && format !== 'sqlstring') {
        throw new TimestreamSqlError(`unsupported variable format ${whole}; use \${${name}} inside quotes`);
      }
      // Values (service names) come from log lines: always escape, so they cannot end the literal.
      return format === 'sqlstring' ? `'${escapeSqlString(value)}'` : escapeSqlString(value);
    },
  );
}

function expandMacro(
  name: string,
  ctx: TimestreamSqlContext,
  t: { fromMs: number; toMs: number; intervalMs: number; nowMs: number },
): string {
  switch (name) {
    case 'database':
      return checkName('database', ctx.database);
    case 'table':
      return checkName('table', ctx.table);
    case 'measure':
      if (ctx.measure === undefined)
        throw new TimestreamSqlError('$__measure used but the query names no measure');
      return escapeSqlString(ctx.measure);
    case 'timeFilter':
      return `time BETWEEN from_milliseconds(${t.fromMs}) AND from_milliseconds(${t.toMs})`;
    case 'timeFrom':
      return String(t.fromMs);
    case 'timeTo':
      return String(t.toMs);
    case 'interval_ms':
    case 'interval':
      return `${t.intervalMs}ms`;
    case 'interval_raw_ms':
      return String(t.intervalMs);
    case 'now_ms':
      return String(t.nowMs);
    default:
      throw new TimestreamSqlError(`unknown Timestream macro $__${name}`);
  }
}

type TokenKind = 'ws' | 'comment' | 'str' | 'qid' | 'word' | 'num' | 'dur' | 'punct';
interface Token {
  kind: TokenKind;
  text: string;
}

const DURATION_UNIT: Readonly<Record<string, { unit: string; scale: number }>> = {
  ns: { unit: 'microseconds', scale: 0.001 },
  us: { unit: 'microseconds', scale: 1 },
  ms: { unit: 'milliseconds', scale: 1 },
  s: { unit: 'seconds', scale: 1 },
  m: { unit: 'minutes', scale: 1 },
  h: { unit: 'hours', scale: 1 },
  d: { unit: 'days', scale: 1 },
};

const WORD_RE = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER_RE = /\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const DURATION_RE = /(\d+(?:\.\d+)?)(ns|us|ms|s|m|h|d)(?![A-Za-z0-9_])/y;
const WS_RE = /\s+/y;

function readQuoted(sql: string, start: number, quote: string): number {
  // Both dialects escape a quote inside a quoted token by doubling it.
  let i = start + 1;
  for (;;) {
    const j = sql.indexOf(quote, i);
    if (j < 0) throw new TimestreamSqlError(`unterminated ${quote} starting at offset ${start}`);
    if (sql[j + 1] === quote) {
      i = j + 2;
      continue;
    }
    return j + 1;
  }
}

function matchAt(re: RegExp, sql: string, i: number): number | undefined {
  re.lastIndex = i;
  const m = re.exec(sql);
  return m === null ? undefined : i + m[0].length;
}

/** The kind and end offset of the token starting at `i`. */
function lexOne(sql: string, i: number): { kind: TokenKind; end: number } {
  const c = sql[i] as string;
  if (c === "'" || c === '"') return { kind: c === "'" ? 'str' : 'qid', end: readQuoted(sql, i, c) };
  if (c === '-' && sql[i + 1] === '-') {
    const nl = sql.indexOf('\n', i);
    return { kind: 'comment', end: nl < 0 ? sql.length : nl };
  }
  if (c === '/' && sql[i + 1] === '*') {
    const close = sql.indexOf('*/', i + 2);
    if (close < 0) throw new TimestreamSqlError(`unterminated comment at offset ${i}`);
    return { kind: 'comment', end: close + 2 };
  }
  const lexers: ReadonlyArray<readonly [TokenKind, RegExp]> = [
    ['ws', WS_RE],
    ['dur', DURATION_RE],
    ['num', NUMBER_RE],
    ['word', WORD_RE],
  ];
  for (const [kind, re] of lexers) {
    const end = matchAt(re, sql, i);
    if (end !== undefined) return { kind, end };
  }
  if (c === '$') throw new TimestreamSqlError(`unexpanded '$' at offset ${i}: ${sql.slice(i, i + 24)}`);
  return { kind: 'punct', end: i + 1 };
}

function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const { kind, end } = lexOne(sql, i);
    tokens.push({ kind, text: sql.slice(i, end) });
    i = end;
  }
  return tokens;
}

function durationToInterval(text: string): string {
  DURATION_RE.lastIndex = 0;
  const m = DURATION_RE.exec(text);
  const spec = m === null ? undefined : DURATION_UNIT[m[2] as string];
  if (m === null || spec === undefined) throw new TimestreamSqlError(`bad duration literal ${text}`);
  const n = Number(m[1]) * spec.scale;
  return `INTERVAL '${n} ${spec.unit}'`;
}

/** Timestream's `bin()` is aligned to the Unix epoch; DuckDB's default `time_bucket` origin is 2000-01-03. */
const EPOCH_ORIGIN = "TIMESTAMP '1970-01-01 00:00:00'";

function nextSignificant(tokens: readonly Token[], i: number, end: number): number {
  let j = i;
  while (j < end && (tokens[j]?.kind === 'ws' || tokens[j]?.kind === 'comment')) j++;
  return j;
}

function matchingParen(tokens: readonly Token[], open: number, end: number): number {
  let depth = 0;
  for (let j = open; j < end; j++) {
    const t = tokens[j] as Token;
    if (t.kind !== 'punct') continue;
    if (t.text === '(') depth++;
    else if (t.text === ')') {
      depth--;
      if (depth === 0) return j;
    }
  }
  throw new TimestreamSqlError('unbalanced parentheses');
}

function splitArgs(tokens: readonly Token[], start: number, end: number): Array<[number, number]> {
  const args: Array<[number, number]> = [];
  let depth = 0;
  let argStart = start;
  for (let j = start; j < end; j++) {
    const t = tokens[j] as Token;
    if (t.kind !== 'punct') continue;
    if (t.text === '(') depth++;
    else if (t.text === ')') depth--;
    else if (t.text === ',' && depth === 0) {
      args.push([argStart, j]);
      argStart = j + 1;
    }
  }
  if (argStart < end || args.length > 0) args.push([argStart, end]);
  return args;
}

function arity(name: string, args: readonly string[], n: number): void {
  if (args.length !== n) throw new TimestreamSqlError(`${name}() takes ${n} argument(s), got ${args.length}`);
}

function rewriteCall(name: string, args: string[], nowMs: number): string | undefined {
  switch (name.toLowerCase()) {
    case 'bin':
      arity(name, args, 2);
      return `time_bucket(${(args[1] as string).trim()}, ${(args[0] as string).trim()}, ${EPOCH_ORIGIN})`;
    case 'ago':
      arity(name, args, 1);
      return `(epoch_ms(${nowMs}) - ${(args[0] as string).trim()})`;
    case 'now':
      arity(
        name,
        args.filter((a) => a.trim() !== ''),
        0,
      );
      return `epoch_ms(${nowMs})`;
    case 'from_milliseconds':
    case 'to_milliseconds':
      arity(name, args, 1);
      return `epoch_ms(${(args[0] as string).trim()})`;
    case 'create_time_series': {
      arity(name, args, 2);
      const t = (args[0] as string).trim();
      return `list({'time': ${t}, 'value': ${(args[1] as string).trim()}} ORDER BY ${t})`;
    }
    case 'greatest':
    case 'least': {
      // Timestream returns NULL when any argument is NULL; DuckDB skips NULL arguments.
      const parts = args.map((a) => a.trim());
      const anyNull = parts.map((a) => `${a} IS NULL`).join(' OR ');
      return `CASE WHEN ${anyNull} THEN NULL ELSE ${name.toLowerCase()}(${parts.join(', ')}) END`;
    }
    case 'approx_percentile':
      arity(name, args, 2);
      return `approx_quantile(${(args[0] as string).trim()}, ${(args[1] as string).trim()})`;
    default:
      return undefined;
  }
}

function translateRange(tokens: readonly Token[], start: number, end: number, nowMs: number): string {
  let out = '';
  let i = start;
  while (i < end) {
    const t = tokens[i] as Token;
    if (t.kind === 'dur') {
      out += durationToInterval(t.text);
      i++;
      continue;
    }
    if (t.kind === 'word') {
      const open = nextSignificant(tokens, i + 1, end);
      if (open < end && tokens[open]?.kind === 'punct' && tokens[open]?.text === '(') {
        const close = matchingParen(tokens, open, end);
        const args = splitArgs(tokens, open + 1, close).map(([a, b]) => translateRange(tokens, a, b, nowMs));
        out += rewriteCall(t.text, args, nowMs) ?? `${t.text}(${args.join(',')})`;
        i = close + 1;
        continue;
      }
    }
    out += t.text;
    i++;
  }
  return out;
}

/**
 * Rewrites Timestream-only syntax into DuckDB SQL (macros must already be expanded).
 *
 * @example
 * timestreamToDuckDb('SELECT bin(time, 10s) AS time FROM "tidewatch"."windows" WHERE time > ago(5m)', 0);
 * // SELECT time_bucket(INTERVAL '10 seconds', time, TIMESTAMP '1970-01-01 00:00:00') AS time
 * //   FROM "tidewatch"."windows" WHERE time > (epoch_ms(0) - INTERVAL '5 minutes')
 */
export function timestreamToDuckDb(sql: string, nowMs: number): string {
  const tokens = tokenize(sql);
  return translateRange(tokens, 0, tokens.length, checkMs('nowMs', nowMs));
}

/**
 * Translates a panel's Timestream SQL, macros and variables included, into DuckDB SQL over the
 * local store.
 *
 * @example
 * const duck = translateTimestreamSql(target.rawQuery, {
 *   database: target.database, table: target.table, measure: target.measure,
 *   fromMs: now - 900_000, toMs: now, intervalMs: 10_000, nowMs: now, variables: { service: 'checkout' },
 * });
 */
export function translateTimestreamSql(sql: string, ctx: TimestreamSqlContext): string {
  return timestreamToDuckDb(interpolateTimestreamMacros(sql, ctx), ctx.nowMs);
}
