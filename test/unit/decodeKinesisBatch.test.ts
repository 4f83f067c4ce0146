import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeKinesisBatch } from '../../processors/sources/decodeKinesisBatch.ts';
import type { KinesisEventRecord } from '../../processors/sources/kinesisEvent.ts';
import { FieldMappingError } from '../../processors/transforms/formats/errors.ts';
import { compileFieldMapping } from '../../processors/transforms/formats/fieldMapping.ts';
import { encodeAggregate } from '../../sdk/kpl.ts';
import {
  cloudWatchData,
  kinesisEvent,
  kinesisRecord,
  kplData,
  otlpExport,
} from '../fixtures/factories/kinesisEvent.ts';

/** Seeded bytes (xorshift), so the garbage is the same on every run. */
let seed = 0x9e3779b9;
function randomBytes(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    b[i] = seed & 0xff;
  }
  return b;
}

const line = (o: Record<string, unknown>): string =>
  JSON.stringify({ time: 1_700_000_000_000, level: 30, ...o });

describe('decodeKinesisBatch', () => {
  it('gives every KPL child its parent index, sequence number, sub-sequence number and arrival time', () => {
    // Prepare
    const records = [
      kinesisRecord(line({ msg: 'plain' }), { n: 0, arrivalS: 1_700_000_100.25 }),
      kinesisRecord(
        kplData([
          { partitionKey: 'a', data: Buffer.from(line({ msg: 'first' })) },
          { partitionKey: 'b', data: Buffer.from('{"msg":"broken') },
          { partitionKey: 'c', data: Buffer.from('plain text child') },
        ]),
        { n: 1, arrivalS: 1_700_000_200.5 },
      ),
    ];
    // Act
    const batch = decodeKinesisBatch(records);
    // Assess
    expect(batch.eventRecord).toEqual([0, 1, 1]);
    expect(batch.eventSubSequence).toEqual([0, 0, 2]);
    expect(batch.events.map((e) => e.service)).toEqual(['pk-0', 'a', 'c']);
    expect(batch.events[2]!.timeMs).toBe(1_700_000_200_500);
    expect(batch.rejectCode).toEqual(['invalid_json']);
    expect(batch.rejectRecord).toEqual([1]);
    expect(batch.rejectSubSequence).toEqual([1]);
    expect(batch.rejectSequenceNumber).toEqual([records[1]!.kinesis.sequenceNumber]);
    expect(Buffer.from(batch.rejectRaw[0]!).toString()).toBe('{"msg":"broken');
    expect(batch.stats).toMatchObject({
      records: 2,
      aggregatedRecords: 1,
      userRecords: 4,
      oldestArrivalMs: 1_700_000_100_250,
      newestArrivalMs: 1_700_000_200_500,
    });
  });

  it('decodes a KPL aggregate whose user records are gzip CloudWatch envelopes', () => {
    // Prepare
    const cw = cloudWatchData('/aws/lambda/pay', 'stream', [
      { timestamp: 1_700_000_000_001, message: 'hello' },
      { timestamp: 1_700_000_000_002, message: 'world' },
    ]);
    const event = kinesisEvent([
      kplData([
        { partitionKey: 'cw', data: cw },
        { partitionKey: 'cw', data: cw },
      ]),
    ]);
    // Act
    const batch = decodeKinesisBatch(event.Records);
    // Assess
    expect(batch.eventSubSequence).toEqual([0, 0, 1, 1]);
    expect(batch.events.map((e) => `${e.service}:${e.message}:${e.timeMs}`)).toEqual([
      'pay:hello:1700000000001',
      'pay:world:1700000000002',
      'pay:hello:1700000000001',
      'pay:world:1700000000002',
    ]);
  });

  it('rejects a JSON line without time unless missingTimestamp is arrival', () => {
    // Prepare
    const records = [kinesisRecord('{"msg":"no time"}', { arrivalS: 1_700_000_000.5 })];
    // Act
    const strict = decodeKinesisBatch(records);
    const lenient = decodeKinesisBatch(records, { missingTimestamp: 'arrival' });
    // Assess
    expect(strict.rejectCode).toEqual(['missing_timestamp']);
    expect(lenient.events[0]!.timeMs).toBe(1_700_000_000_500);
  });

  it('uses nowMs when a record has no arrival time, and rejects text when there is neither', () => {
    // Prepare
    const rec = kinesisRecord('just text');
    const noArrival = { ...rec, kinesis: { ...rec.kinesis, approximateArrivalTimestamp: undefined } };
    const records = [noArrival as unknown as KinesisEventRecord];
    // Act
    const withClock = decodeKinesisBatch(records, { nowMs: 1_234 });
    const withoutClock = decodeKinesisBatch(records);
    // Assess
    expect(withClock.events[0]!.timeMs).toBe(1_234);
    expect(withoutClock.rejectCode).toEqual(['missing_timestamp']);
  });

  it('takes custom field names from configuration, raw or compiled', () => {
    // Prepare
    const records = [
      kinesisRecord(
        JSON.stringify({ at: 1_700_000_000, sev: 'W', app: 'billing', took: 0.25, code: '404', txt: 'x' }),
      ),
    ];
    const mapping = {
      time: 'at',
      timeUnit: 's',
      level: 'sev',
      levelWords: { W: 'warn' },
      duration: 'took',
      durationUnit: 's',
      status: 'code',
      message: 'txt',
    } as const;
    // Act
    const raw = decodeKinesisBatch(records, { fieldMapping: mapping });
    const compiled = decodeKinesisBatch(records, { fieldMapping: compileFieldMapping(mapping) });
    // Assess
    const expected = {
      timeMs: 1_700_000_000_000,
      service: 'billing',
      level: 'warn',
      message: 'x',
      status: 404,
      durationMs: 250,
    };
    expect(raw.events[0]).toMatchObject(expected);
    expect(compiled.events[0]).toMatchObject(expected);
  });

  it('throws a FieldMappingError for bad configuration before reading any record', () => {
    expect(() => decodeKinesisBatch([], { fieldMapping: { timeUnit: 'fortnights' as 's' } })).toThrow(
      FieldMappingError,
    );
    expect(() => decodeKinesisBatch([], { fieldMapping: { time: 'a..b' } })).toThrow(/not a field path/);
    expect(() => decodeKinesisBatch([], { fieldMapping: { levelWords: { X: 'loud' as 'info' } } })).toThrow(
      /levelWords\.X/,
    );
  });

  it('uses defaultService for lines that name none', () => {
    const batch = decodeKinesisBatch([kinesisRecord('text', { partitionKey: 'random-uuid' })], {
      defaultService: 'legacy',
    });
    expect(batch.events[0]!.service).toBe('legacy');
  });

  it('rejects a gzip bomb as oversized and a too-long line as oversized', () => {
    // Prepare
    const bomb = gzipSync(Buffer.alloc(2_000_000, 0x61));
    const long = line({ msg: 'x'.repeat(5_000) });
    // Act
    const batch = decodeKinesisBatch([kinesisRecord(bomb, { n: 0 }), kinesisRecord(long, { n: 1 })], {
      maxDecompressedBytes: 1_000_000,
      maxLineBytes: 4_096,
    });
    // Assess
    expect(batch.rejectCode).toEqual(['oversized', 'oversized']);
    expect(batch.rejectRaw[0]!.byteLength).toBe(bomb.byteLength);
  });

  it('decodes gzip NDJSON and rejects gzip of non-UTF-8', () => {
    const batch = decodeKinesisBatch([
      kinesisRecord(gzipSync(`${line({ msg: 'a' })}\n${line({ msg: 'b' })}\n`), { n: 0 }),
      kinesisRecord(gzipSync(Buffer.of(0xff, 0xfe, 0xfd)), { n: 1 }),
    ]);
    expect(batch.events.map((e) => e.message)).toEqual(['a', 'b']);
    expect(batch.rejectCode).toEqual(['not_utf8']);
  });

  it('accepts a genuine U+FFFD and a BOM in valid UTF-8', () => {
    const batch = decodeKinesisBatch([kinesisRecord(`\ufeff${line({ msg: 'bad char \ufffd here' })}`)]);
    expect(batch.events[0]!.message).toBe('bad char \ufffd here');
  });

  it('decodes a pretty-printed JSON document and a JSON array of lines', () => {
    const batch = decodeKinesisBatch([
      kinesisRecord(JSON.stringify({ time: 1_700_000_000_000, msg: 'pretty' }, null, 2), { n: 0 }),
      kinesisRecord(
        JSON.stringify([
          { time: 1_700_000_000_000, msg: 'one' },
          { ts: 1_700_000_000, msg: 'two' },
        ]),
        {
          n: 1,
        },
      ),
    ]);
    expect(batch.events.map((e) => e.message)).toEqual(['pretty', 'one', 'two']);
    expect(batch.eventRaw[2]).toBe('{"ts":1700000000,"msg":"two"}');
  });

  it('decodes OTLP exports with several resources and skips an empty export', () => {
    const batch = decodeKinesisBatch([
      kinesisRecord(
        otlpExport('a', [
          { timeUnixNano: '1700000000000000000', severityNumber: 13, severityText: 'WARN', body: 'w' },
        ]),
        { n: 0 },
      ),
      kinesisRecord('{"resourceLogs":[]}', { n: 1 }),
    ]);
    expect(batch.events.map((e) => [e.service, e.level, e.message])).toEqual([['a', 'warn', 'w']]);
    expect(batch.recordSkipped).toEqual(Int32Array.of(0, 1));
  });

  it('skips the MD5 check only when verifyChecksums is false', () => {
    // Prepare: flip a byte inside a user record's payload (the protobuf stays well-formed).
    const data = Buffer.from(kplData([{ partitionKey: 'k', data: Buffer.from('plain text payload') }]));
    const at = data.indexOf('payload');
    data[at] = 0x50; // 'p' → 'P'
    const records = [kinesisRecord(data)];
    // Act
    const verified = decodeKinesisBatch(records);
    const unverified = decodeKinesisBatch(records, { verifyChecksums: false });
    // Assess
    expect(verified.rejectCode).toEqual(['kpl_checksum_mismatch']);
    expect(unverified.events.map((e) => e.message)).toEqual(['plain text Payload']);
  });

  it('rejects a KPL aggregate with zero user records as empty', () => {
    // Prepare: magic + empty protobuf + MD5 of nothing
    const data = Buffer.concat([
      Buffer.of(0xf3, 0x89, 0x9a, 0xc2),
      Buffer.from('d41d8cd98f00b204e9800998ecf8427e', 'hex'),
    ]);
    // Act
    const batch = decodeKinesisBatch([kinesisRecord(data)]);
    // Assess
    expect(batch.rejectCode).toEqual(['empty']);
  });

  it('rejects records that are not Kinesis records at all', () => {
    const garbage = [
      null,
      42,
      {},
      { kinesis: null },
      { kinesis: { data: 7 } },
    ] as unknown as KinesisEventRecord[];
    const batch = decodeKinesisBatch(garbage);
    expect(batch.rejectCode).toEqual(['empty', 'empty', 'empty', 'empty', 'empty']);
    expect(batch.rejectRecord).toEqual([0, 1, 2, 3, 4]);
  });

  it('counts rejects by code for telemetry', () => {
    const batch = decodeKinesisBatch([kinesisRecord('{'), kinesisRecord('{"x":1}'), kinesisRecord('{]')]);
    expect(batch.rejectCounts()).toEqual({ invalid_json: 2, missing_timestamp: 1 });
  });

  it('decodes a 10,000-record batch full of garbage without throwing and accounts for every record', () => {
    // Prepare: every kind of garbage and some good records, deterministic.
    const kinds: ((i: number) => KinesisEventRecord)[] = [
      (i) => kinesisRecord(line({ msg: `ok ${i}` }), { n: i }),
      (i) => kinesisRecord(randomBytes(1 + (i % 64)), { n: i }),
      (i) => kinesisRecord(Buffer.of(0x1f, 0x8b, ...randomBytes(i % 32)), { n: i }),
      (i) => kinesisRecord(Buffer.of(0xf3, 0x89, 0x9a, 0xc2, ...randomBytes(i % 80)), { n: i }),
      (i) => {
        const d = Buffer.from(
          encodeAggregate([
            { partitionKey: 'k', data: Buffer.from(line({ msg: 'x' })) },
            { partitionKey: 'k', data: randomBytes(20) },
          ]).data,
        );
        if (i % 2 === 0) d[4 + (i % (d.length - 4))]! ^= 0x55;
        return kinesisRecord(d, { n: i });
      },
      (i) =>
        kinesisRecord('{"messageType":"DATA_MESSAGE","logEvents":[null,{"message":5}],"logGroup":"/x"}', {
          n: i,
        }),
      (i) => kinesisRecord(gzipSync('{"messageType":"CONTROL_MESSAGE"}'), { n: i }),
      (i) =>
        kinesisRecord('{"resourceLogs":[{"scopeLogs":[{"logRecords":[null,1,{"body":{}}]}]}]}', { n: i }),
      (i) => kinesisRecord(`${'{'.repeat(i % 50)}`, { n: i }),
      (i) => kinesisRecord('\n\n  \n', { n: i }),
      (i) => kinesisRecord('{"time":"soon","msg":"x"}\n{"time":-5}\n{"time":1e300}\nnot json\n[1', { n: i }),
      (i) =>
        ({
          ...kinesisRecord('', { n: i }),
          kinesis: { data: '%%%', sequenceNumber: String(i) },
        }) as KinesisEventRecord,
      () => null as unknown as KinesisEventRecord,
      (i) => kinesisRecord('a=1 b="unterminated', { n: i }),
      (i) =>
        kinesisRecord(
          JSON.stringify({ time: 1_700_000_000_000, level: { nested: true }, msg: ['x'], status: 'x' }),
          { n: i },
        ),
    ];
    const records = Array.from({ length: 10_000 }, (_, i) => kinds[i % kinds.length]!(i));
    // Act
    const batch = decodeKinesisBatch(records);
    // Assess
    for (let r = 0; r < records.length; r++) {
      expect(batch.recordEvents[r]! + batch.recordRejects[r]! + batch.recordSkipped[r]!).toBeGreaterThan(0);
    }
    expect(batch.eventCount).toBe(batch.recordEvents.reduce((a, b) => a + b, 0));
    expect(batch.rejectCount).toBe(batch.recordRejects.reduce((a, b) => a + b, 0));
    expect(batch.events.every((e) => Number.isFinite(e.timeMs) && typeof e.service === 'string')).toBe(true);
    expect(new Set(batch.rejectCode)).toEqual(
      new Set([
        'not_utf8',
        'gzip_corrupt',
        'kpl_checksum_mismatch',
        'kpl_malformed',
        'cloudwatch_malformed',
        'otlp_malformed',
        'invalid_json',
        'empty',
        'invalid_timestamp',
        'missing_timestamp',
        'invalid_base64',
      ]),
    );
    expect(batch.rejectRaw.every((b) => b instanceof Uint8Array)).toBe(true);
  });
});
