/**
 * The reference implementations the KPL codec is checked against: `aws-kinesis-agg` (the AWS Labs
 * library; its own types import the AWS SDK v2, so it is loaded untyped through `createRequire` and
 * given the narrow types below) and `protobufjs` with the library's `kpl.json` schema.
 */
import { createRequire } from 'node:module';
import protobuf from 'protobufjs';

const require = createRequire(import.meta.url);

export interface AggUserRecord {
  partitionKey: string;
  explicitPartitionKey?: string;
  sequenceNumber: string;
  subSequenceNumber?: number;
  /** base64 */
  data: string;
}

export interface AggRecordAggregator {
  addUserRecord(r: { partitionKey: string; explicitHashKey?: string; data: Buffer }): void;
  build(): { partitionKey: string; ExplicitHashKey?: string; data: Buffer } | undefined;
}

interface AwsKinesisAgg {
  deaggregateSync(
    record: { data: string; partitionKey: string; sequenceNumber: string },
    computeChecksums: boolean,
    done: (err: Error | null | undefined, records?: AggUserRecord[]) => void,
  ): void;
}

export const agg = require('aws-kinesis-agg') as AwsKinesisAgg;
const { RecordAggregator } = require('aws-kinesis-agg/lib/kpl-agg.js') as {
  RecordAggregator: new () => AggRecordAggregator;
};

/** Encodes with aws-kinesis-agg's own aggregator. */
export function aggEncode(
  records: readonly { partitionKey: string; explicitHashKey?: string; data: Uint8Array }[],
): { partitionKey: string; explicitHashKey?: string; data: Buffer } {
  const aggregator = new RecordAggregator();
  for (const r of records) {
    const rec: { partitionKey: string; explicitHashKey?: string; data: Buffer } = {
      partitionKey: r.partitionKey,
      data: Buffer.from(r.data),
    };
    if (r.explicitHashKey !== undefined) rec.explicitHashKey = r.explicitHashKey;
    aggregator.addUserRecord(rec);
  }
  const built = aggregator.build();
  if (built === undefined) throw new Error('aws-kinesis-agg built nothing');
  const out: { partitionKey: string; explicitHashKey?: string; data: Buffer } = {
    partitionKey: built.partitionKey,
    data: built.data,
  };
  if (built.ExplicitHashKey !== undefined) out.explicitHashKey = built.ExplicitHashKey;
  return out;
}

/** Decodes with aws-kinesis-agg (checksums verified); throws what the library reports. */
export function aggDecode(data: Uint8Array): AggUserRecord[] {
  let result: AggUserRecord[] | undefined;
  let error: Error | undefined;
  agg.deaggregateSync(
    { data: Buffer.from(data).toString('base64'), partitionKey: 'outer', sequenceNumber: '1' },
    true,
    (err, records) => {
      if (err) error = err;
      else result = records;
    },
  );
  if (error !== undefined) throw error;
  return result ?? [];
}

const kplJson = require('aws-kinesis-agg/lib/kpl.json') as protobuf.INamespace;
/** `AggregatedRecord` as protobufjs reads it, from the schema aws-kinesis-agg ships. */
export const AggregatedRecordType = protobuf.Root.fromJSON(kplJson).lookupType('AggregatedRecord');
