import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeAggregate, encodeAggregate, type KplUserRecord } from '../../sdk/kpl.ts';
import { AggregatedRecordType, aggDecode, aggEncode } from './kplReference.ts';

/** Records covering repeated and distinct keys, explicit hash keys, empty and binary data. */
function sampleRecords(): KplUserRecord[] {
  const records: KplUserRecord[] = [];
  for (let i = 0; i < 50; i++) {
    const r: KplUserRecord = {
      partitionKey: `svc-${i % 7}`,
      data: Buffer.from(JSON.stringify({ level: 30, time: 1_700_000_000_000 + i, msg: `line ${i}` })),
    };
    if (i % 5 === 0) r.explicitHashKey = String(BigInt(i) * 12_345_678_901_234_567_890n);
    records.push(r);
  }
  records.push({ partitionKey: 'bin', data: Uint8Array.of(0, 255, 0xf3, 0x89, 0x9a, 0xc2, 10) });
  records.push({ partitionKey: 'zero', data: Buffer.alloc(300, 7) });
  return records;
}

describe('KPL codec conformance with aws-kinesis-agg and protobufjs', () => {
  it('our encoding deaggregates with aws-kinesis-agg (checksums on) to the same records', () => {
    // Prepare
    const records = sampleRecords();
    // Act
    const entry = encodeAggregate(records);
    const theirs = aggDecode(entry.data);
    // Assess
    expect(theirs).toHaveLength(records.length);
    const firstHashKey = records.find((r) => r.explicitHashKey !== undefined)?.explicitHashKey;
    theirs.forEach((t, i) => {
      const r = records[i]!;
      expect(t.partitionKey).toBe(r.partitionKey);
      // aws-kinesis-agg reads an absent optional explicit_hash_key_index as its proto2 default 0 and
      // so reports the table's first hash key; the KPL's meaning (and ours) is "no hash key".
      expect(t.explicitPartitionKey).toBe(r.explicitHashKey ?? firstHashKey);
      expect(t.subSequenceNumber).toBe(i);
      expect(Buffer.from(t.data, 'base64').equals(Buffer.from(r.data))).toBe(true);
    });
  });

  it("decodes aws-kinesis-agg's encoding to the same records", () => {
    // Prepare
    const records = sampleRecords();
    const theirs = aggEncode(records);
    // Act
    const ours = decodeAggregate(theirs.data);
    // Assess
    expect(ours.kind).toBe('ok');
    if (ours.kind !== 'ok') return;
    expect(ours.records.map((r) => ({ ...r, data: Buffer.from(r.data).toString('hex') }))).toEqual(
      records.map((r) => ({ ...r, data: Buffer.from(r.data).toString('hex') })),
    );
  });

  it('produces byte-identical aggregates to aws-kinesis-agg for the same input', () => {
    // Prepare
    const records = sampleRecords();
    // Act
    const ours = encodeAggregate(records);
    const theirs = aggEncode(records);
    // Assess
    expect(Buffer.from(ours.data).equals(theirs.data)).toBe(true);
    expect(ours.partitionKey).toBe(theirs.partitionKey);
  });

  it('writes a protobuf body that protobufjs reads as the same AggregatedRecord', () => {
    // Prepare
    const records = sampleRecords();
    // Act
    const data = encodeAggregate(records).data;
    const body = data.subarray(4, data.byteLength - 16);
    const message = AggregatedRecordType.toObject(AggregatedRecordType.decode(body), {
      longs: Number,
      arrays: true,
    }) as {
      partition_key_table: string[];
      explicit_hash_key_table: string[];
      records: { partition_key_index: number; explicit_hash_key_index?: number; data: Uint8Array }[];
    };
    // Assess
    expect(
      Buffer.from(data.subarray(data.byteLength - 16)).equals(createHash('md5').update(body).digest()),
    ).toBe(true);
    message.records.forEach((m, i) => {
      const r = records[i]!;
      expect(message.partition_key_table[m.partition_key_index]).toBe(r.partitionKey);
      expect(
        m.explicit_hash_key_index === undefined
          ? undefined
          : message.explicit_hash_key_table[m.explicit_hash_key_index],
      ).toBe(r.explicitHashKey);
      expect(Buffer.from(m.data).equals(Buffer.from(r.data))).toBe(true);
    });
  });

  it('reads a protobufjs-encoded aggregate with fields out of order and tags present', () => {
    // Prepare: records before the key tables, and user tags, both legal protobuf.
    const body = Buffer.concat([
      AggregatedRecordType.encode({
        records: [{ partition_key_index: 1, data: Buffer.from('b'), tags: [{ key: 'k', value: 'v' }] }],
      }).finish(),
      AggregatedRecordType.encode({ partition_key_table: ['a', 'b'] }).finish(),
    ]);
    const data = Buffer.concat([
      Buffer.of(0xf3, 0x89, 0x9a, 0xc2),
      body,
      createHash('md5').update(body).digest(),
    ]);
    // Act
    const result = decodeAggregate(data);
    // Assess
    expect(result).toEqual({ kind: 'ok', records: [{ partitionKey: 'b', data: expect.anything() }] });
    expect(result.kind === 'ok' && Buffer.from(result.records[0]!.data).toString()).toBe('b');
  });
});
