import { describe, expect, it } from 'vitest';
import {
  escapeSqlString,
  interpolateTimestreamMacros,
  type TimestreamSqlContext,
  TimestreamSqlError,
  timestreamToDuckDb,
  translateTimestreamSql,
} from '../../local/timestreamSql.ts';

const ctx: TimestreamSqlContext = {
  database: 'tidewatch',
  table: 'windows',
  measure: 'window',
  fromMs: 1_500_376_552_001,
  toMs: 1_500_376_552_002,
  intervalMs: 60_000,
  nowMs: 1_500_376_600_000,
  variables: { service: 'checkout' },
};

describe('interpolateTimestreamMacros (what Grafana and the Timestream plugin do)', () => {
  it('expands $__timeFilter exactly as the plugin does', () => {
    // The expected text is the plugin's own (pkg/timestream/macros_test.go).
    expect(interpolateTimestreamMacros('SELECT 1 WHERE $__timeFilter', ctx)).toBe(
      'SELECT 1 WHERE time BETWEEN from_milliseconds(1500376552001) AND from_milliseconds(1500376552002)',
    );
  });

  it('expands the interval, time-range, database, table and measure macros', () => {
    expect(interpolateTimestreamMacros('GROUP BY $__interval_ms', ctx)).toBe('GROUP BY 60000ms');
    expect(interpolateTimestreamMacros('x * $__interval_raw_ms', ctx)).toBe('x * 60000');
    expect(interpolateTimestreamMacros('$__timeFrom $__timeTo $__now_ms', ctx)).toBe(
      '1500376552001 1500376552002 1500376600000',
    );
    expect(interpolateTimestreamMacros(`SELECT '$__measure' FROM "$__database"."$__table"`, ctx)).toBe(
      `SELECT 'window' FROM "tidewatch"."windows"`,
    );
  });

  it('inserts dashboard variables, escaped so a value cannot end its string literal', () => {
    const evil = { ...ctx, variables: { service: "x' OR '1'='1" } };
    expect(interpolateTimestreamMacros(`"service" = '\${service}'`, evil)).toBe(
      `"service" = 'x'' OR ''1''=''1'`,
    );
    expect(interpolateTimestreamMacros(`"service" = '$service'`, ctx)).toBe(`"service" = 'checkout'`);
    expect(interpolateTimestreamMacros(`"service" = \${service:sqlstring}`, ctx)).toBe(
      `"service" = 'checkout'`,
    );
  });

  it('refuses unknown macros and variables with a message naming them', () => {
    expect(() => interpolateTimestreamMacros('$__nope', ctx)).toThrow(TimestreamSqlError);
    expect(() => interpolateTimestreamMacros('$__nope', ctx)).toThrow(/\$__nope/);
    expect(() => interpolateTimestreamMacros(`'\${route}'`, ctx)).toThrow(/\$\{route\}.*service/);
    expect(() => interpolateTimestreamMacros('$__measure', { ...ctx, measure: undefined as never })).toThrow(
      /measure/,
    );
    expect(() => interpolateTimestreamMacros('"$__database"', { ...ctx, database: 'a"; DROP' })).toThrow(
      /not a valid name/,
    );
    expect(() => interpolateTimestreamMacros('x', { ...ctx, intervalMs: 0 })).toThrow(/intervalMs/);
  });
});

describe('timestreamToDuckDb (Timestream-only syntax → DuckDB)', () => {
  it('turns duration literals into intervals, in every unit Timestream has', () => {
    expect(timestreamToDuckDb('SELECT 10s, 5m, 2h, 1d, 250ms, 7us, 3000ns', 0)).toBe(
      "SELECT INTERVAL '10 seconds', INTERVAL '5 minutes', INTERVAL '2 hours', INTERVAL '1 days', INTERVAL '250 milliseconds', INTERVAL '7 microseconds', INTERVAL '3 microseconds'",
    );
  });

  it('rewrites bin() as an epoch-aligned time_bucket(), nested arguments included', () => {
    expect(timestreamToDuckDb('SELECT bin(time, 10s) AS t', 0)).toBe(
      "SELECT time_bucket(INTERVAL '10 seconds', time, TIMESTAMP '1970-01-01 00:00:00') AS t",
    );
    expect(timestreamToDuckDb('BIN(from_milliseconds(x), 60000ms)', 0)).toBe(
      "time_bucket(INTERVAL '60000 milliseconds', epoch_ms(x), TIMESTAMP '1970-01-01 00:00:00')",
    );
  });

  it('uses the given clock for ago() and now()', () => {
    expect(timestreamToDuckDb('WHERE time > ago(15m) AND time <= now()', 1_700_000_000_000)).toBe(
      "WHERE time > (epoch_ms(1700000000000) - INTERVAL '15 minutes') AND time <= epoch_ms(1700000000000)",
    );
  });

  it('turns CREATE_TIME_SERIES into an ordered list of {time, value}', () => {
    expect(timestreamToDuckDb('SELECT CREATE_TIME_SERIES(time, "x") AS "x"', 0)).toBe(
      `SELECT list({'time': time, 'value': "x"} ORDER BY time) AS "x"`,
    );
  });

  it('keeps Timestream’s NULL semantics for greatest() and least()', () => {
    expect(timestreamToDuckDb('SELECT GREATEST(max_by("a", "b"), 0)', 0)).toBe(
      'SELECT CASE WHEN max_by("a", "b") IS NULL OR 0 IS NULL THEN NULL ELSE greatest(max_by("a", "b"), 0) END',
    );
  });

  it('leaves string literals, quoted identifiers and comments alone', () => {
    const sql = `SELECT 'bin(time, 10s)' AS "ago(5m)" -- now()\nFROM t /* 5m */`;
    expect(timestreamToDuckDb(sql, 0)).toBe(sql);
    expect(timestreamToDuckDb(`SELECT 'it''s 5m'`, 0)).toBe(`SELECT 'it''s 5m'`);
  });

  it('keeps other calls and formatting as written', () => {
    const sql = 'SELECT CAST(SUM("errors") AS DOUBLE) / NULLIF(SUM("count"), 0)\nFROM t';
    expect(timestreamToDuckDb(sql, 0)).toBe(sql);
  });

  it('reports malformed SQL instead of guessing', () => {
    expect(() => timestreamToDuckDb('SELECT bin(time, 10s', 0)).toThrow(/unbalanced/);
    expect(() => timestreamToDuckDb("SELECT 'open", 0)).toThrow(/unterminated/);
    expect(() => timestreamToDuckDb('SELECT bin(time)', 0)).toThrow(/bin\(\) takes 2/);
    expect(() => timestreamToDuckDb('SELECT $__oops', 0)).toThrow(/unexpanded/);
  });
});

describe('translateTimestreamSql', () => {
  it('translates a panel query end to end', () => {
    // Prepare
    const sql = [
      'SELECT bin(time, $__interval_ms) AS time, SUM("count") AS "count"',
      'FROM "$__database"."$__table"',
      `WHERE $__timeFilter AND measure_name = '$__measure' AND "service" = '\${service}'`,
      'GROUP BY bin(time, $__interval_ms)',
      'ORDER BY time',
    ].join('\n');
    // Act
    const out = translateTimestreamSql(sql, ctx);
    // Assess
    expect(out).toBe(
      [
        `SELECT time_bucket(INTERVAL '60000 milliseconds', time, TIMESTAMP '1970-01-01 00:00:00') AS time, SUM("count") AS "count"`,
        'FROM "tidewatch"."windows"',
        "WHERE time BETWEEN epoch_ms(1500376552001) AND epoch_ms(1500376552002) AND measure_name = 'window' AND \"service\" = 'checkout'",
        `GROUP BY time_bucket(INTERVAL '60000 milliseconds', time, TIMESTAMP '1970-01-01 00:00:00')`,
        'ORDER BY time',
      ].join('\n'),
    );
  });

  it('escapes quotes for string literals', () => {
    expect(escapeSqlString("o'brien")).toBe("o''brien");
  });
});
