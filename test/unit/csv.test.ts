import { describe, expect, it } from 'vitest';
import { parseSeriesCsv, parseTimestampMs } from '../../cli/csv.ts';

describe('parseTimestampMs', () => {
  it('reads YYYY-MM-DD HH:MM:SS as UTC and ISO 8601 with zones', () => {
    expect(parseTimestampMs('2014-04-01 00:05:00')).toBe(Date.UTC(2014, 3, 1, 0, 5));
    expect(parseTimestampMs('2014-04-01T00:05:00Z')).toBe(Date.UTC(2014, 3, 1, 0, 5));
    expect(parseTimestampMs('2014-04-01T02:05:00+02:00')).toBe(Date.UTC(2014, 3, 1, 0, 5));
    expect(parseTimestampMs('2014-04-01T00:05:00.250-0100')).toBe(Date.UTC(2014, 3, 1, 1, 5, 0, 250));
    expect(parseTimestampMs('2014-04-10 07:15:00.000000')).toBe(Date.UTC(2014, 3, 10, 7, 15));
  });

  it('rejects impossible dates and other formats', () => {
    expect(parseTimestampMs('2014-02-30 00:00:00')).toBeUndefined();
    expect(parseTimestampMs('01/04/2014 00:00')).toBeUndefined();
    expect(parseTimestampMs('')).toBeUndefined();
  });
});

describe('parseSeriesCsv', () => {
  it('reads quoted fields, CRLF, a BOM and extra columns in any order', () => {
    // Prepare
    const text =
      '\uFEFF"value","Timestamp",note\r\n"1.5","2024-01-01 00:00:00","a ""b"""\r\n2,2024-01-01T00:00:10Z,\r\n\r\n';
    // Act
    const r = parseSeriesCsv(text);
    // Assess
    expect(r.kind).toBe('ok');
    if (r.kind !== 'ok') return;
    expect(r.rows).toHaveLength(2);
    expect(r.rows[0]).toMatchObject({
      line: 2,
      timestampText: '2024-01-01 00:00:00',
      valueText: '1.5',
      value: 1.5,
    });
    expect(r.rows[1]).toMatchObject({ line: 3, value: 2, timestampMs: Date.UTC(2024, 0, 1, 0, 0, 10) });
    expect(r.warnings).toEqual([]);
  });

  it('errors name the line: unparsable value', () => {
    const r = parseSeriesCsv('timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:00:10,abc\n');
    expect(r).toEqual({ kind: 'error', line: 3, message: 'cannot read value "abc" as a finite number' });
  });

  it('a quoted value of "1,5" is not a number', () => {
    const r = parseSeriesCsv('timestamp,value\n2024-01-01 00:00:00,"1,5"\n');
    expect(r.kind).toBe('error');
  });

  it('errors name the line: bad timestamp, missing field, missing column, unclosed quote', () => {
    expect(parseSeriesCsv('timestamp,value\nyesterday,1\n')).toMatchObject({ kind: 'error', line: 2 });
    expect(parseSeriesCsv('timestamp,value\n2024-01-01 00:00:00\n')).toMatchObject({
      kind: 'error',
      line: 2,
    });
    expect(parseSeriesCsv('time,value\n2024-01-01 00:00:00,1\n')).toMatchObject({
      kind: 'error',
      line: 1,
      message: 'the header has no timestamp column (found: time,value); expected "timestamp,value"',
    });
    expect(parseSeriesCsv('timestamp,value\n"2024-01-01 00:00:00,1\n')).toMatchObject({
      kind: 'error',
      line: 2,
    });
    expect(parseSeriesCsv('')).toMatchObject({ kind: 'error', line: 1 });
  });

  it('keeps repeated and backwards timestamps in file order, with warnings', () => {
    const r = parseSeriesCsv(
      'timestamp,value\n2024-01-01 00:00:10,1\n2024-01-01 00:00:10,2\n2024-01-01 00:00:00,3\n2024-01-01 00:00:20,4\n',
    );
    expect(r.kind).toBe('ok');
    if (r.kind !== 'ok') return;
    expect(r.rows.map((x) => x.value)).toEqual([1, 2, 3, 4]);
    expect(r.warnings).toHaveLength(2);
    expect(r.warnings[0]).toMatch(/^line 3: .*repeats line 2/);
    expect(r.warnings[1]).toMatch(/^line 4: .*earlier than line 3/);
  });

  it('counts lines inside quoted fields for error positions', () => {
    const r = parseSeriesCsv(
      'timestamp,value,note\n2024-01-01 00:00:00,1,"two\nlines"\n2024-01-01 00:00:10,x,\n',
    );
    expect(r).toMatchObject({ kind: 'error', line: 4 });
  });
});
