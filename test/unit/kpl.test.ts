import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decodeAggregate,
  encodeAggregate,
  isAggregated,
  KPL_MAGIC,
  KplAggregateBuilder,
  KplError,
  KplScan,
  MAX_KINESIS_RECORD_BYTES,
  scanAggregate,
} from '../../sdk/kpl.ts';

const magic = Buffer.from(KPL_MAGIC);
/** Frames a protobuf body as an aggregated record with a correct MD5. */
function frame(body: Buffer): Buffer {
  return Buffer.concat([magic, body, createHash('md5').update(body).digest()]);
}

describe('KPL codec', () => {
  it('uses the KPL magic number F3 89 9A C2', () => {
    expect(Buffer.from(KPL_MAGIC).toString('hex')).toBe('f3899ac2');
    expect(MAX_KINESIS_RECORD_BYTES).toBe(1_048_576);
  });

  it('round-trips records with shared and explicit keys', () => {
    // Prepare
    const records = [
      { partitionKey: 'a', data: Buffer.from('one') },
      {
        partitionKey: 'ключ',
        explicitHashKey: '340282366920938463463374607431768211455',
        data: Buffer.from('two'),
      },
      { partitionKey: 'a', data: new Uint8Array(0) },
    ];
    // Act
    const entry = encodeAggregate(records);
    const decoded = decodeAggregate(entry.data);
    // Assess
    expect(isAggregated(entry.data)).toBe(true);
    expect(entry.partitionKey).toBe('a');
    expect(entry.explicitHashKey).toBeUndefined();
    expect(decoded.kind).toBe('ok');
    if (decoded.kind !== 'ok') return;
    expect(
      decoded.records.map((r) => [r.partitionKey, r.explicitHashKey, Buffer.from(r.data).toString()]),
    ).toEqual([
      ['a', undefined, 'one'],
      ['ключ', '340282366920938463463374607431768211455', 'two'],
      ['a', undefined, ''],
    ]);
    expect('explicitHashKey' in decoded.records[0]!).toBe(false);
  });

  it('routes the outer record like the first user record', () => {
    const entry = encodeAggregate([
      { partitionKey: 'p', explicitHashKey: '42', data: Buffer.from('x') },
      { partitionKey: 'q', data: Buffer.from('y') },
    ]);
    expect(entry.partitionKey).toBe('p');
    expect(entry.explicitHashKey).toBe('42');
  });

  it('scans to offsets that match decodeAggregate, reusing one scan', () => {
    // Prepare
    const scan = new KplScan();
    const big = Buffer.from(
      encodeAggregate([
        { partitionKey: 'a', data: Buffer.from('one') },
        { partitionKey: 'b', explicitHashKey: '9', data: Buffer.from('two') },
      ]).data,
    );
    const small = Buffer.from(encodeAggregate([{ partitionKey: 'c', data: Buffer.from('three') }]).data);
    // Act
    expect(scanAggregate(big, scan)).toBe('ok');
    expect(scanAggregate(small, scan)).toBe('ok');
    // Assess
    expect(scan.count).toBe(1);
    expect(scan.partitionKeys).toEqual(['c']);
    expect(small.toString('utf8', scan.starts[0], scan.ends[0])).toBe('three');
    expect(scan.explicitHashKeyIndex[0]).toBe(-1);
    expect(scanAggregate(Buffer.from('x'), scan)).toBe('not_aggregated');
    expect(scan.count).toBe(0);
  });

  it('reports a record without the magic as not aggregated', () => {
    expect(decodeAggregate(Buffer.from('{"msg":"plain"}'))).toEqual({ kind: 'not_aggregated' });
    expect(decodeAggregate(new Uint8Array(0))).toEqual({ kind: 'not_aggregated' });
    expect(decodeAggregate(magic.subarray(0, 3))).toEqual({ kind: 'not_aggregated' });
  });

  it('rejects a truncated aggregate as malformed', () => {
    const result = decodeAggregate(Buffer.concat([magic, Buffer.alloc(10)]));
    expect(result).toMatchObject({ kind: 'reject', code: 'kpl_malformed' });
  });

  it('rejects a wrong MD5 as a checksum mismatch', () => {
    // Prepare
    const data = Buffer.from(encodeAggregate([{ partitionKey: 'k', data: Buffer.from('hello') }]).data);
    data[data.length - 1]! ^= 1;
    // Act / Assess
    expect(decodeAggregate(data)).toMatchObject({ kind: 'reject', code: 'kpl_checksum_mismatch' });
  });

  it.each([
    ['an unknown wire type', Buffer.of(0x0f)],
    ['a group on a known field', Buffer.of(0x0b)],
    ['a key table string past the end', Buffer.of(0x0a, 0x05, 0x61)],
    ['a record with no data', Buffer.of(0x0a, 0x01, 0x61, 0x1a, 0x02, 0x08, 0x00)],
    [
      'a partition key index outside the table',
      Buffer.of(0x0a, 0x01, 0x61, 0x1a, 0x05, 0x08, 0x01, 0x1a, 0x01, 0x78),
    ],
    [
      'a hash key index outside the table',
      Buffer.of(0x0a, 0x01, 0x61, 0x1a, 0x07, 0x08, 0x00, 0x10, 0x00, 0x1a, 0x01, 0x78),
    ],
    ['a varint longer than 10 bytes', Buffer.concat([Buffer.of(0x08), Buffer.alloc(11, 0xff)])],
    ['a record field past the record', Buffer.of(0x0a, 0x01, 0x61, 0x1a, 0x04, 0x08, 0x00, 0x1a, 0x05)],
  ])('rejects %s as malformed even with a valid MD5', (_name, body) => {
    expect(decodeAggregate(frame(body))).toMatchObject({ kind: 'reject', code: 'kpl_malformed' });
  });

  it('skips unknown fields for forward compatibility', () => {
    // Prepare: field 9 varint, field 10 fixed64, field 11 fixed32 at top level and in the record.
    const body = Buffer.of(
      0x48,
      0x01,
      0x51,
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8,
      0x5d,
      1,
      2,
      3,
      4,
      0x0a,
      0x01,
      0x61,
      0x1a,
      0x07,
      0x08,
      0x00,
      0x48,
      0x05,
      0x1a,
      0x01,
      0x78,
    );
    // Act
    const result = decodeAggregate(frame(body));
    // Assess
    expect(result.kind === 'ok' && result.records.map((r) => Buffer.from(r.data).toString())).toEqual(['x']);
  });

  it('accepts an aggregate of zero records as ok and empty', () => {
    expect(decodeAggregate(frame(Buffer.alloc(0)))).toEqual({ kind: 'ok', records: [] });
  });

  it('refuses to encode nothing, empty or too long partition keys and bad hash keys', () => {
    expect(() => encodeAggregate([])).toThrow(KplError);
    expect(() => encodeAggregate([{ partitionKey: '', data: Buffer.from('x') }])).toThrow(KplError);
    expect(() => encodeAggregate([{ partitionKey: 'k'.repeat(257), data: Buffer.from('x') }])).toThrow(
      KplError,
    );
    expect(() => encodeAggregate([{ partitionKey: '😀'.repeat(256), data: Buffer.from('x') }])).not.toThrow();
    for (const bad of ['-1', '01', '1e3', String(1n << 128n), '']) {
      expect(() =>
        encodeAggregate([{ partitionKey: 'k', explicitHashKey: bad, data: Buffer.from('x') }]),
      ).toThrow(KplError);
    }
  });

  it('refuses to encode above 1 MiB counting the partition key', () => {
    // Prepare: a data blob that fits alone without the key but not with it.
    const key = 'k'.repeat(200);
    const data = Buffer.alloc(MAX_KINESIS_RECORD_BYTES - 30);
    // Act / Assess
    expect(() => encodeAggregate([{ partitionKey: key, data }])).toThrow(/above the Kinesis limit/);
  });
});

describe('KplAggregateBuilder', () => {
  it('reports the size of the record it builds, partition key included, in UTF-8 bytes', () => {
    // Prepare
    const builder = new KplAggregateBuilder();
    // Act
    expect(builder.tryAdd({ partitionKey: 'é-key', data: Buffer.from('abc') })).toBe(true);
    expect(builder.tryAdd({ partitionKey: 'other', explicitHashKey: '7', data: Buffer.from('de') })).toBe(
      true,
    );
    const entry = builder.build();
    // Assess
    expect(builder.count).toBe(2);
    expect(builder.sizeBytes).toBe(entry.data.byteLength + Buffer.byteLength('é-key'));
  });

  it('fills up to the budget and never beyond', () => {
    // Prepare
    const budget = 10_000;
    const builder = new KplAggregateBuilder(budget);
    let added = 0;
    // Act
    while (builder.tryAdd({ partitionKey: `key-${added % 3}`, data: Buffer.alloc(97, added) })) added++;
    const entry = builder.build();
    // Assess
    expect(added).toBeGreaterThan(80);
    expect(entry.data.byteLength + Buffer.byteLength(entry.partitionKey)).toBe(builder.sizeBytes);
    expect(builder.sizeBytes).toBeLessThanOrEqual(budget);
    expect(builder.sizeBytes).toBeGreaterThan(budget - 110);
    const decoded = decodeAggregate(entry.data);
    expect(decoded.kind === 'ok' && decoded.records.length).toBe(added);
  });

  it('refuses a record larger than a Kinesis record even when empty', () => {
    const builder = new KplAggregateBuilder();
    expect(builder.tryAdd({ partitionKey: 'k', data: Buffer.alloc(MAX_KINESIS_RECORD_BYTES) })).toBe(false);
    expect(builder.count).toBe(0);
    expect(builder.sizeBytes).toBe(0);
    expect(() => builder.build()).toThrow(KplError);
  });

  it('packs a record exactly at the limit', () => {
    // Prepare: magic 4 + MD5 16 + pk table (1+1+1) + record (1+3 + 1+1 + 1+3+n) + key 1 = 1 MiB
    const builder = new KplAggregateBuilder();
    const n = MAX_KINESIS_RECORD_BYTES - 4 - 16 - 3 - 4 - 2 - 4 - 1;
    // Act / Assess
    expect(builder.tryAdd({ partitionKey: 'k', data: Buffer.alloc(n) })).toBe(true);
    expect(builder.sizeBytes).toBe(MAX_KINESIS_RECORD_BYTES);
    expect(builder.build().data.byteLength + 1).toBe(MAX_KINESIS_RECORD_BYTES);
  });

  it('starts over after reset', () => {
    const builder = new KplAggregateBuilder();
    builder.tryAdd({ partitionKey: 'a', data: Buffer.from('1') });
    builder.reset();
    builder.tryAdd({ partitionKey: 'b', data: Buffer.from('2') });
    const decoded = decodeAggregate(builder.build().data);
    expect(decoded.kind === 'ok' && decoded.records.map((r) => r.partitionKey)).toEqual(['b']);
  });

  it('rejects a budget outside the Kinesis limit', () => {
    expect(() => new KplAggregateBuilder(MAX_KINESIS_RECORD_BYTES + 1)).toThrow(KplError);
    expect(() => new KplAggregateBuilder(10)).toThrow(KplError);
  });
});
