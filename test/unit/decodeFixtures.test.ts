import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeKinesisBatch } from '../../processors/sources/decodeKinesisBatch.ts';
import type { KinesisEvent } from '../../processors/sources/kinesisEvent.ts';
import { FIXTURE_DIR, fixtures } from '../fixtures/factories/kinesisEvent.ts';

function load(name: string): KinesisEvent {
  return JSON.parse(readFileSync(join(FIXTURE_DIR, `${name}.json`), 'utf8')) as KinesisEvent;
}

/** Events without attributes, for compact comparisons. */
function summary(name: string) {
  const batch = decodeKinesisBatch(load(name).Records);
  return {
    batch,
    events: batch.events.map(({ attributes: _, ...e }) => e),
  };
}

describe('recorded Lambda Kinesis events', () => {
  it('are what the factory generates (regenerate with npx tsx test/fixtures/factories/kinesisEvent.ts)', () => {
    for (const [name, event] of Object.entries(fixtures())) {
      expect(load(name), name).toEqual(JSON.parse(JSON.stringify(event)));
    }
  });

  it('decodes KPL-aggregated pino and ECS (dotted and nested) lines', () => {
    // Act
    const { batch, events } = summary('kpl-aggregated');
    // Assess
    expect(batch.rejectCount).toBe(0);
    expect(batch.stats).toMatchObject({ records: 2, aggregatedRecords: 2, userRecords: 22 });
    expect(events[0]).toEqual({
      timeMs: 1_718_000_000_000,
      service: 'checkout',
      level: 'error',
      message: 'payment declined',
      status: 502,
      durationMs: 12,
      route: '/api/pay',
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    });
    expect(batch.eventSubSequence.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(batch.eventRecord.slice(20)).toEqual([1, 1]);
    expect(events.slice(20)).toEqual([
      {
        timeMs: Date.parse('2024-06-10T06:13:21.500Z'),
        service: 'search',
        level: 'warn',
        message: 'slow query',
        status: 200,
        durationMs: 1250,
        route: '/search',
        traceId: 'abc123',
      },
      {
        timeMs: Date.parse('2024-06-10T06:13:22Z'),
        service: 'search',
        level: 'error',
        message: 'index unavailable',
        status: 503,
        durationMs: 2,
      },
    ]);
  });

  it('decodes one Bunyan JSON line per plain record', () => {
    const { batch, events } = summary('plain-json');
    expect(batch.eventRecord).toEqual([0, 1, 2, 3, 4]);
    expect(events[2]).toEqual({
      timeMs: 1_718_000_002_000,
      service: 'inventory',
      level: 'warn',
      message: 'stock low for sku-2',
      status: 200,
      durationMs: 3.5,
      route: '/api/stock/:sku',
    });
    expect(batch.eventRaw[2]).toBe(
      Buffer.from(load('plain-json').Records[2]!.kinesis.data, 'base64').toString(),
    );
  });

  it('decodes NDJSON records with many lines, CRLF and blank lines', () => {
    const { batch, events } = summary('ndjson');
    expect(batch.recordEvents).toEqual(Int32Array.of(8, 3));
    expect(batch.stats.blankLines).toBe(1);
    expect(events.slice(8)).toEqual([
      {
        timeMs: Date.parse('2024-06-10T06:13:20.000Z'),
        service: 'gateway',
        level: 'info',
        message: 'a',
        status: 201,
      },
      { timeMs: 1_718_000_001_250, service: 'gateway', level: 'error', message: 'b', durationMs: 40 },
      { timeMs: 1_718_000_002_500, service: 'gateway', level: 'debug', message: 'c' },
    ]);
  });

  it('decodes gzip CloudWatch Logs envelopes: control message skipped, events fanned out', () => {
    // Act
    const { batch, events } = summary('cloudwatch-logs-gzip');
    // Assess
    expect(batch.rejectCount).toBe(0);
    expect(batch.recordSkipped).toEqual(Int32Array.of(1, 0, 0));
    expect(batch.recordEvents).toEqual(Int32Array.of(0, 4, 2));
    expect(events.map((e) => [e.service, e.level, e.timeMs])).toEqual([
      ['checkout', 'info', 1_718_000_000_000],
      ['checkout', 'error', Date.parse('2024-06-10T06:13:20.005Z')],
      ['checkout', 'warn', Date.parse('2024-06-10T06:13:20.009Z')],
      ['checkout', 'info', 1_718_000_000_012],
      ['api', 'info', 1_718_000_000_300],
      ['api', 'error', 1_718_000_001_000],
    ]);
    expect(batch.events[2]!.attributes).toMatchObject({
      requestId: '6f1f',
      logGroup: '/aws/lambda/checkout',
      logStream: '2024/06/10/[$LATEST]0123456789abcdef',
    });
    expect(batch.events[0]!.attributes).toEqual({
      logGroup: '/aws/lambda/checkout',
      logStream: '2024/06/10/[$LATEST]0123456789abcdef',
    });
    expect(batch.eventRaw[3]).toBe('END RequestId: 6f1f');
  });

  it('decodes an OTLP/JSON export with resource service.name', () => {
    const { batch, events } = summary('otlp-json');
    expect(events).toEqual([
      {
        timeMs: 1_718_000_000_000,
        service: 'payments',
        level: 'info',
        message: 'charge ok',
        status: 200,
        durationMs: 85,
        route: '/charge',
        traceId: '5b8efff798038103d269b633813fc60c',
      },
      {
        timeMs: 1_718_000_000_500,
        service: 'payments',
        level: 'error',
        message: 'charge failed',
        status: 500,
        route: '/charge',
      },
    ]);
    expect(JSON.parse(batch.eventRaw[1]!)).toMatchObject({ severityText: 'ERROR' });
  });

  it('decodes logfmt, with arrival time for a line without one', () => {
    const { events } = summary('logfmt');
    expect(events.map((e) => [e.timeMs, e.service, e.level, e.status, e.durationMs, e.route])).toEqual([
      [Date.parse('2024-06-10T06:13:20Z'), 'orders', 'info', 200, 12.5, '/orders'],
      [Date.parse('2024-06-10T06:13:21Z'), 'orders', 'error', 500, 1200, '/orders'],
      [1_718_000_000_123, 'orders', 'info', 200, undefined, '/health'],
    ]);
  });

  it('decodes plain text: leading time and level honoured, else arrival time and info', () => {
    const { events } = summary('plain-text');
    expect(events).toEqual([
      {
        timeMs: Date.parse('2024-06-10T06:13:19.500Z'),
        service: 'batch-worker',
        level: 'warn',
        message: '2024-06-10 06:13:19,500 WARNING disk 91% full on /var',
      },
      {
        timeMs: 1_718_000_000_373,
        service: 'batch-worker',
        level: 'info',
        message: 'connection reset by peer',
      },
      { timeMs: 1_718_000_000_373, service: 'batch-worker', level: 'info', message: 'retrying in 5s' },
    ]);
  });

  it('rejects every malformed record with its code, sequence number and raw bytes', () => {
    // Prepare
    const event = load('malformed');
    // Act
    const batch = decodeKinesisBatch(event.Records);
    // Assess
    expect(batch.eventCount).toBe(0);
    expect(batch.rejectCode).toEqual([
      'invalid_json',
      'not_utf8',
      'gzip_corrupt',
      'kpl_checksum_mismatch',
      'kpl_malformed',
      'missing_timestamp',
      'invalid_timestamp',
      'empty',
      'empty',
      'cloudwatch_malformed',
      'otlp_malformed',
      'invalid_json',
      'invalid_json',
      'invalid_base64',
    ]);
    expect(batch.rejectRecord).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 11, 12]);
    expect(batch.rejectSequenceNumber).toEqual(
      batch.rejectRecord.map((r) => event.Records[r]!.kinesis.sequenceNumber),
    );
    for (const r of [1, 2, 3, 4]) {
      expect(Buffer.from(batch.rejectRaw[r]!).toString('base64')).toBe(event.Records[r]!.kinesis.data);
    }
    expect(Buffer.from(batch.rejectRaw[0]!).toString()).toBe(
      '{"level":30,"time":1718000000000,"msg":"truncated',
    );
    expect(batch.rejectDetail.every((d) => d.length > 0)).toBe(true);
  });
});
