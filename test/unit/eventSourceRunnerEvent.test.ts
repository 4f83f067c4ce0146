/**
 * Pure parts of the local event source mapping: event records, payload sizing, partial batch
 * response interpretation, on-failure records, ARNs, and option validation.
 */
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { startEventSourceRunner } from '../../local/eventSourceRunner.ts';
import { EventSourceRunnerError } from '../../local/eventSourceRunnerErrors.ts';
import {
  type BufferedRecord,
  buildFailureRecord,
  fixedPayloadBytes,
  interpretBatchResponse,
  mappingIdentity,
  toBufferedRecord,
} from '../../local/kinesisEvent.ts';

const identity = mappingIdentity(
  'arn:aws:kinesis:eu-west-1:123456789012:stream/tidewatch-logs',
  'tidewatch-ingest',
);
const shardId = 'shardId-000000000003';
const fixed = fixedPayloadBytes(identity, shardId);
const SEQ = '49590338271490256608559692538361571095921575989136588898';

function record(
  seq: string,
  data: string,
  partitionKey = 'pk',
  arrivalMs = 1_545_084_650_987,
): BufferedRecord {
  return toBufferedRecord(
    shardId,
    {
      SequenceNumber: seq,
      PartitionKey: partitionKey,
      Data: Buffer.from(data),
      ApproximateArrivalTimestamp: new Date(arrivalMs),
    },
    identity,
    fixed,
  );
}

describe('toBufferedRecord', () => {
  it('builds the Lambda Kinesis event record (AWS documentation example values)', () => {
    // Prepare / Act
    const r = record(SEQ, 'Hello, this is a test.', '1');

    // Assess
    expect(r.record).toEqual({
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: '1',
        sequenceNumber: SEQ,
        data: 'SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==',
        approximateArrivalTimestamp: 1545084650.987,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `shardId-000000000003:${SEQ}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::123456789012:role/tidewatch-ingest-role',
      awsRegion: 'eu-west-1',
      eventSourceARN: 'arn:aws:kinesis:eu-west-1:123456789012:stream/tidewatch-logs',
    });
    expect(r.arrivalMs).toBe(1_545_084_650_987);
    expect(r.sequenceNumber).toBe(SEQ);
  });

  it('encodes binary data and a sub-array view of a larger buffer correctly', () => {
    // Prepare
    const backing = new Uint8Array([9, 9, 0xf3, 0x89, 0x9a, 0xc2, 0, 255, 9]);
    const view = backing.subarray(2, 8);

    // Act
    const r = toBufferedRecord(
      shardId,
      { SequenceNumber: '1', PartitionKey: 'k', Data: view },
      identity,
      fixed,
    );

    // Assess
    expect(Buffer.from(r.record.kinesis.data, 'base64')).toEqual(
      Buffer.from([0xf3, 0x89, 0x9a, 0xc2, 0, 255]),
    );
  });

  it('bounds the JSON size of the record from above, tightly', () => {
    for (const [data, key] of [
      ['', 'k'],
      ['x'.repeat(1000), 'partition-key'],
      ['{"a":1}', 'ключ-✓'],
      ['y', 'quote"and\\backslash\n'],
    ] as const) {
      // Prepare / Act
      const r = record(SEQ, data, key, 1_763_784_516_199);
      const actual = Buffer.byteLength(JSON.stringify(r.record)) + 1; // plus the comma separator

      // Assess
      expect(r.payloadBytes).toBeGreaterThanOrEqual(actual);
      if (!/["\\\n]/.test(key)) expect(r.payloadBytes - actual).toBeLessThanOrEqual(8);
    }
  });
});

describe('interpretBatchResponse', () => {
  const batch = ['11', '12', '13', '14'].map((sequenceNumber) => ({ sequenceNumber }));

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['an empty object', {}],
    ['a null list', { batchItemFailures: null }],
    ['an empty list', { batchItemFailures: [] }],
  ])('treats %s as complete success', (_name, response) => {
    expect(interpretBatchResponse(response, batch)).toEqual({ kind: 'success' });
  });

  it('restarts from the lowest reported sequence number, whatever the order', () => {
    // Act
    const verdict = interpretBatchResponse(
      { batchItemFailures: [{ itemIdentifier: '14' }, { itemIdentifier: '12' }, { itemIdentifier: '13' }] },
      batch,
    );

    // Assess
    expect(verdict).toEqual({ kind: 'partial', failedIndex: 1 });
  });

  it.each([
    ['an empty itemIdentifier', { batchItemFailures: [{ itemIdentifier: '' }] }],
    ['a null itemIdentifier', { batchItemFailures: [{ itemIdentifier: null }] }],
    ['a wrong key name', { batchItemFailures: [{ itemId: '12' }] }],
    ['an identifier outside the batch', { batchItemFailures: [{ itemIdentifier: '99' }] }],
    ['a non-string identifier', { batchItemFailures: [{ itemIdentifier: 12 }] }],
    ['a list that is not an array', { batchItemFailures: '12' }],
    ['a null entry', { batchItemFailures: [null] }],
  ])('fails the whole batch on %s', (_name, response) => {
    expect(interpretBatchResponse(response, batch).kind).toBe('invalid');
  });
});

describe('buildFailureRecord', () => {
  const records = [record('101', 'a', 'k', 1_573_691_884_835), record('105', 'b', 'k', 1_573_691_885_580)];

  it('writes the on-failure document Lambda sends for a Kinesis mapping', () => {
    // Act
    const doc = buildFailureRecord({
      condition: 'RetryAttemptsExhausted',
      records,
      shardId,
      identity,
      invokeCount: 3,
      lastInvocation: { functionError: true },
      nowMs: Date.UTC(2019, 10, 14, 0, 38, 6, 21),
      requestId: 'c9b8fa9f-5a7f-4f3e-af9c-0c604cde93a5',
    });

    // Assess
    expect(JSON.parse(JSON.stringify(doc))).toEqual({
      requestContext: {
        requestId: 'c9b8fa9f-5a7f-4f3e-af9c-0c604cde93a5',
        functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:tidewatch-ingest',
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: 3,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: '2019-11-14T00:38:06.021Z',
      KinesisBatchInfo: {
        shardId,
        startSequenceNumber: '101',
        endSequenceNumber: '105',
        approximateArrivalOfFirstRecord: '2019-11-14T00:38:04.835Z',
        approximateArrivalOfLastRecord: '2019-11-14T00:38:05.580Z',
        batchSize: 2,
        streamArn: identity.streamArn,
      },
    });
    expect(Object.keys(doc)).toEqual([
      'requestContext',
      'responseContext',
      'version',
      'timestamp',
      'KinesisBatchInfo',
    ]);
  });

  it('omits functionError after a partial batch response, and responseContext when never invoked', () => {
    // Act
    const partial = buildFailureRecord({
      condition: 'RetryAttemptsExhausted',
      records,
      shardId,
      identity,
      invokeCount: 2,
      lastInvocation: { functionError: false },
      nowMs: 0,
      requestId: 'r',
    });
    const expired = buildFailureRecord({
      condition: 'RecordAgeExceeded',
      records,
      shardId,
      identity,
      invokeCount: 0,
      lastInvocation: undefined,
      nowMs: 0,
      requestId: 'r',
    });

    // Assess
    expect(partial.responseContext).toEqual({ statusCode: 200, executedVersion: '$LATEST' });
    expect(expired).not.toHaveProperty('responseContext');
    expect(expired.requestContext.condition).toBe('RecordAgeExceeded');
  });
});

describe('mappingIdentity', () => {
  it('derives region, account and partition from the stream ARN', () => {
    const id = mappingIdentity(
      'arn:aws-cn:kinesis:cn-north-1:111122223333:stream/s',
      'fn',
      'arn:aws-cn:iam::1:role/x',
    );
    expect(id).toEqual({
      streamArn: 'arn:aws-cn:kinesis:cn-north-1:111122223333:stream/s',
      region: 'cn-north-1',
      functionName: 'fn',
      functionArn: 'arn:aws-cn:lambda:cn-north-1:111122223333:function:fn',
      invokeIdentityArn: 'arn:aws-cn:iam::1:role/x',
    });
  });
});

describe('startEventSourceRunner options', () => {
  // Validation happens before any call, so an unreachable client is fine.
  const client = new KinesisClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9' });
  const base = { client, streamName: 's', handler: async () => undefined };

  it.each([
    ['batchSize 0', { batchSize: 0 }],
    ['batchSize above 10,000', { batchSize: 10_001 }],
    ['a fractional batchSize', { batchSize: 2.5 }],
    ['a batching window above 300 s', { maximumBatchingWindowMs: 300_001 }],
    ['maximumRetryAttempts below −1', { maximumRetryAttempts: -2 }],
    ['maximumRetryAttempts above 10,000', { maximumRetryAttempts: 10_001 }],
    ['maximumRecordAgeMs 0', { maximumRecordAgeMs: 0 }],
    ['maximumRecordAgeMs above 7 days', { maximumRecordAgeMs: 604_800_001 }],
    ['parallelizationFactor 2', { parallelizationFactor: 2 }],
    ['a negative poll interval', { pollIntervalMs: -1 }],
  ])('rejects %s with a message naming the setting', async (_name, bad) => {
    const key = Object.keys(bad)[0] as string;
    await expect(startEventSourceRunner({ ...base, ...bad })).rejects.toThrow(EventSourceRunnerError);
    await expect(startEventSourceRunner({ ...base, ...bad })).rejects.toThrow(key);
  });
});
