import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../../processors/schema.ts';
import { compileFieldMapping } from '../../processors/transforms/formats/fieldMapping.ts';
import { parseDurationString } from '../../processors/transforms/formats/fields.ts';
import { levelFromOtelSeverity, levelFromValue } from '../../processors/transforms/formats/level.ts';
import { looksLikeLogfmt, parseLogfmt } from '../../processors/transforms/formats/logfmt.ts';
import { anyValueToJs } from '../../processors/transforms/formats/otel.ts';
import { parseIsoMs, toEpochMs } from '../../processors/transforms/formats/timestamp.ts';
import { parseLogLine } from '../../processors/transforms/parseLogLine.ts';

const NOW = 1_718_000_000_000;

function ok(line: string, options: Parameters<typeof parseLogLine>[1] = {}): Omit<LogEvent, 'attributes'> {
  const out = parseLogLine(line, { nowMs: NOW, ...options });
  if (out.kind !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(out)}`);
  const { attributes: _, ...rest } = out.value;
  return rest;
}

describe('parseLogLine formats', () => {
  it('pino: numeric level, epoch-ms time, msg, name', () => {
    expect(ok('{"level":40,"time":1718000000123,"pid":1,"hostname":"h","name":"api","msg":"slow"}')).toEqual({
      timeMs: 1_718_000_000_123,
      service: 'api',
      level: 'warn',
      message: 'slow',
    });
  });

  it('pino-http: res.statusCode, responseTime, req.url without query', () => {
    expect(
      ok(
        '{"level":30,"time":1718000000000,"msg":"request completed","req":{"url":"/a/b?x=1#f"},"res":{"statusCode":204},"responseTime":7}',
      ),
    ).toMatchObject({ status: 204, durationMs: 7, route: '/a/b' });
  });

  it('Bunyan: ISO time, numeric level, name', () => {
    expect(
      ok(
        '{"name":"myapp","hostname":"h","pid":1,"level":50,"msg":"boom","time":"2024-06-10T06:13:20.250Z","v":0}',
      ),
    ).toEqual({ timeMs: 1_718_000_000_250, service: 'myapp', level: 'error', message: 'boom' });
  });

  it('ECS with dotted field names', () => {
    expect(
      ok(
        '{"@timestamp":"2024-06-10T06:13:20.000Z","log.level":"WARNING","message":"m","service.name":"s","http.response.status_code":503,"event.duration":2500000,"url.path":"/p","trace.id":"t1"}',
      ),
    ).toEqual({
      timeMs: NOW,
      service: 's',
      level: 'warn',
      message: 'm',
      status: 503,
      durationMs: 2.5,
      route: '/p',
      traceId: 't1',
    });
  });

  it('ECS with nested objects', () => {
    expect(
      ok(
        '{"@timestamp":"2024-06-10T06:13:20Z","log":{"level":"error"},"message":"m","service":{"name":"s"},"http":{"response":{"status_code":"404"}},"event":{"duration":1000000},"url":{"path":"/q"},"trace":{"id":"t2"}}',
      ),
    ).toEqual({
      timeMs: NOW,
      service: 's',
      level: 'error',
      message: 'm',
      status: 404,
      durationMs: 1,
      route: '/q',
      traceId: 't2',
    });
  });

  it('OTel log record: timeUnixNano, severityNumber, string or AnyValue body', () => {
    expect(
      ok(
        '{"timeUnixNano":"1718000000123456789","severityNumber":21,"severityText":"FATAL","body":{"stringValue":"down"}}',
      ),
    ).toMatchObject({ timeMs: 1_718_000_000_123, level: 'fatal', message: 'down' });
    expect(
      ok(
        '{"timeUnixNano":"0","observedTimeUnixNano":1718000000000000000,"severityText":"Warning","body":"w"}',
      ),
    ).toMatchObject({
      timeMs: NOW,
      level: 'warn',
      message: 'w',
    });
  });

  it('OTel log record with a structured body takes msg from it and keeps its fields', () => {
    const out = parseLogLine(
      '{"timeUnixNano":"1718000000000000000","body":{"kvlistValue":{"values":[{"key":"msg","value":{"stringValue":"hi"}},{"key":"status","value":{"intValue":"201"}}]}}}',
    );
    expect(out.kind === 'ok' && out.value).toMatchObject({
      message: 'hi',
      status: 201,
      attributes: { msg: 'hi', status: 201 },
    });
  });

  it('Lambda JSON log format and zap seconds', () => {
    expect(
      ok('{"timestamp":"2024-06-10T06:13:20.000Z","level":"INFO","requestId":"r","message":"hello"}'),
    ).toMatchObject({
      timeMs: NOW,
      level: 'info',
      message: 'hello',
    });
    expect(ok('{"level":"dpanic","ts":1718000000.5,"caller":"x.go:1","msg":"z"}')).toMatchObject({
      timeMs: 1_718_000_000_500,
      level: 'fatal',
    });
  });

  it('logfmt with quoted values, escapes and Go durations', () => {
    expect(
      ok('ts=2024-06-10T06:13:20Z lvl=warn msg="a \\"quoted\\" word" status=500 duration=250us app=pay'),
    ).toEqual({
      timeMs: NOW,
      service: 'pay',
      level: 'warn',
      message: 'a "quoted" word',
      status: 500,
      durationMs: 0.25,
    });
  });

  it('plain text: whole line is the message; level word and leading time honoured', () => {
    expect(ok('[ERROR] something broke', { service: 'svc' })).toEqual({
      timeMs: NOW,
      service: 'svc',
      level: 'error',
      message: '[ERROR] something broke',
    });
    expect(ok('2024-06-10T06:13:21Z INFO: started')).toMatchObject({ timeMs: NOW + 1000, level: 'info' });
    expect(ok('nothing special here')).toMatchObject({ timeMs: NOW, level: 'info', service: 'unknown' });
  });

  it('rejects JSON without time, with an unusable time, and invalid JSON', () => {
    expect(parseLogLine('{"msg":"x"}')).toMatchObject({ kind: 'reject', code: 'missing_timestamp' });
    expect(parseLogLine('{"msg":"x","time":"not a time at all"}')).toMatchObject({
      kind: 'reject',
      code: 'invalid_timestamp',
      detail: 'time: not a time at all',
    });
    expect(parseLogLine('{"msg":')).toMatchObject({ kind: 'reject', code: 'invalid_json' });
    expect(parseLogLine('   ')).toMatchObject({ kind: 'reject', code: 'empty' });
  });

  it('ignores status values that are not HTTP statuses and negative durations', () => {
    expect(
      ok('{"time":1718000000000,"status":"error","statusCode":999,"duration_ms":-1,"latency_ms":"3"}'),
    ).toEqual({
      timeMs: NOW,
      service: 'unknown',
      level: 'info',
      message: '',
      durationMs: 3,
    });
  });
});

describe('field mapping configuration', () => {
  it('tries custom paths before the built-ins', () => {
    const mapping = compileFieldMapping({ service: 'meta.component', message: 'text' });
    expect(
      ok('{"time":1718000000000,"service":"a","meta":{"component":"b"},"text":"t","msg":"m"}', { mapping }),
    ).toMatchObject({
      service: 'b',
      message: 't',
    });
  });

  it('can switch the built-ins off', () => {
    const mapping = compileFieldMapping({ time: 'when', builtins: false });
    expect(parseLogLine('{"time":1718000000000}', { mapping })).toMatchObject({
      kind: 'reject',
      code: 'missing_timestamp',
    });
    expect(ok('{"when":"2024-06-10T06:13:20Z","msg":"m","level":50}', { mapping })).toEqual({
      timeMs: NOW,
      service: 'unknown',
      level: 'info',
      message: '',
    });
  });
});

describe('time, level and duration normalization', () => {
  it.each<[number | string, string]>([
    [1_718_000_000, 's'],
    [1_718_000_000_000, 'ms'],
    [1_718_000_000_000_000, 'us'],
    [1.718e18, 'ns'],
    ['1718000000000', 'ms string'],
    ['1718000000000000000', 'ns string'],
    ['2024-06-10T06:13:20Z', 'ISO Z'],
    ['2024-06-10T08:13:20+02:00', 'ISO offset'],
    ['2024-06-10T01:13:20-0500', 'ISO compact offset'],
    ['2024-06-10 06:13:20', 'ISO space, no zone read as UTC'],
    ['Mon, 10 Jun 2024 06:13:20 GMT', 'RFC 2822'],
  ])('reads %s (%s) as the same instant', (value) => {
    expect(toEpochMs(value, 'auto')).toBe(NOW);
  });

  it('honours declared units and refuses impossible times', () => {
    expect(toEpochMs(1_718_000_000, 's')).toBe(NOW);
    expect(toEpochMs(1_718_000_000_000_000, 'us')).toBe(NOW);
    expect(toEpochMs(-1, 'auto')).toBeNaN();
    expect(toEpochMs(1e300, 'auto')).toBeNaN();
    expect(toEpochMs('2024-13-01T00:00:00Z', 'auto')).toBeNaN();
    expect(toEpochMs('12', 'auto')).toBe(12_000);
    expect(toEpochMs(true, 'auto')).toBeNaN();
    expect(parseIsoMs('2024-06-10T06:13:20.123456789Z')).toBe(NOW + 123);
  });

  it('maps level words and numbers from every common scale', () => {
    expect(
      ['trace', 'debug', 'info', 'warn', 'error', 'fatal'].map((w) => levelFromValue(w.toUpperCase())),
    ).toEqual(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);
    expect([10, 20, 30, 40, 50, 60, 35, '50'].map((n) => levelFromValue(n))).toEqual([
      'trace',
      'debug',
      'info',
      'warn',
      'error',
      'fatal',
      'info',
      'error',
    ]);
    expect([1, 5, 9, 13, 17, 21, 24, 0].map(levelFromOtelSeverity)).toEqual([
      'trace',
      'debug',
      'info',
      'warn',
      'error',
      'fatal',
      'fatal',
      undefined,
    ]);
    expect(levelFromValue('warning')).toBe('warn');
    expect(levelFromValue('CRITICAL')).toBe('fatal');
    expect(levelFromValue('shouting')).toBeUndefined();
  });

  it('reads duration strings with units', () => {
    expect(['1.5s', '250ms', '40us', '2m', '7'].map(parseDurationString)).toEqual([
      1500, 250, 0.04, 120_000, 7,
    ]);
    expect(parseDurationString('fast')).toBeNaN();
  });
});

describe('logfmt and OTLP values', () => {
  it('parses logfmt and refuses what is not logfmt', () => {
    expect(parseLogfmt('a=1 b="x y" c flag= d="e\\nf"')).toEqual({
      a: '1',
      b: 'x y',
      c: true,
      flag: '',
      d: 'e\nf',
    });
    expect(parseLogfmt('a="unterminated')).toBeUndefined();
    expect(looksLikeLogfmt('key=value')).toBe(true);
    expect(looksLikeLogfmt('a sentence with x=1')).toBe(false);
    expect(looksLikeLogfmt('=oops')).toBe(false);
  });

  it('converts OTLP AnyValues', () => {
    expect(
      anyValueToJs({
        kvlistValue: {
          values: [
            { key: 'n', value: { intValue: '5' } },
            { key: 'd', value: { doubleValue: 1.5 } },
            { key: 'b', value: { boolValue: true } },
            { key: 'a', value: { arrayValue: { values: [{ stringValue: 'x' }] } } },
          ],
        },
      }),
    ).toEqual({ n: 5, d: 1.5, b: true, a: ['x'] });
  });
});
