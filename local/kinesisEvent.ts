/**
 * Pure pieces of the event source mapping: turning Kinesis records into Lambda event records,
 * sizing the invocation payload, reading a partial batch response, and writing the on-failure
 * record. No I/O, no clock: the runner passes times in.
 */
import type { FailureConditionName, KinesisFailureRecord, KinesisStreamRecord } from './lambdaTypes.ts';

/**
 * Synchronous invocation payload limit (6 MB). Lambda stops gathering a batch when the next record
 * would exceed it. https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html#kinesis-polling-and-batching
 */
export const LAMBDA_MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

/** `BatchSize` maximum for Kinesis event source mappings. */
export const KINESIS_MAX_BATCH_SIZE = 10_000;

/** `MaximumBatchingWindowInSeconds` maximum: 300 s. */
export const MAX_BATCHING_WINDOW_MS = 300_000;

/** `MaximumRetryAttempts` maximum (−1 = infinite). */
export const MAX_RETRY_ATTEMPTS = 10_000;

/** `MaximumRecordAgeInSeconds` maximum: 604,800 s (−1 = infinite). */
export const MAX_RECORD_AGE_MS = 604_800_000;

/** Bytes of `{"Records":[` + `]}` around the records of an event. */
const EVENT_ENVELOPE_BYTES = '{"Records":[]}'.length;

/** Who is reading and on whose behalf: the constant parts of every event record. */
export interface MappingIdentity {
  streamArn: string;
  region: string;
  functionArn: string;
  functionName: string;
  invokeIdentityArn: string;
}

/** The fields of a Kinesis `GetRecords` record the runner uses (SDK v3 `_Record`). */
export interface SourceRecord {
  SequenceNumber?: string | undefined;
  PartitionKey?: string | undefined;
  Data?: Uint8Array | undefined;
  ApproximateArrivalTimestamp?: Date | undefined;
}

/** A record read from a shard, already in Lambda's event shape, with what batching needs. */
export interface BufferedRecord {
  readonly record: KinesisStreamRecord;
  readonly sequenceNumber: string;
  /** Arrival time in ms since the epoch (record age, iterator age, on-failure timestamps). */
  readonly arrivalMs: number;
  /** Upper bound of this record's bytes in the JSON payload, separator included. */
  readonly payloadBytes: number;
}

/**
 * Builds the event record Lambda would deliver for one Kinesis record.
 *
 * @example
 * const r = toBufferedRecord('shardId-000000000000', sdkRecord, identity, fixedBytes(identity, 'shardId-000000000000'));
 * r.record.eventID; // 'shardId-000000000000:4959...'
 */
export function toBufferedRecord(
  shardId: string,
  source: SourceRecord,
  identity: MappingIdentity,
  fixedPayloadBytes: number,
): BufferedRecord {
  const sequenceNumber = source.SequenceNumber ?? '';
  const partitionKey = source.PartitionKey ?? '';
  const bytes = source.Data ?? new Uint8Array(0);
  const arrivalMs = source.ApproximateArrivalTimestamp?.getTime() ?? 0;
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  const record: KinesisStreamRecord = {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey,
      sequenceNumber,
      data,
      // Lambda sends seconds with a millisecond fraction (e.g. 1545084650.987).
      approximateArrivalTimestamp: arrivalMs / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${shardId}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: identity.invokeIdentityArn,
    awsRegion: identity.region,
    eventSourceARN: identity.streamArn,
  };
  // Partition keys may need JSON escapes; 6 bytes per UTF-8 byte bounds the worst case (\u00XX),
  // but keys are short and almost always plain: count plain bytes, and pad by a control-char check.
  const keyBytes = Buffer.byteLength(partitionKey);
  const payloadBytes =
    fixedPayloadBytes +
    data.length +
    2 * sequenceNumber.length +
    (isPlainJson(partitionKey) ? keyBytes : 6 * keyBytes);
  return { record, sequenceNumber, arrivalMs, payloadBytes };
}

/**
 * JSON bytes of an event record with empty variable strings, plus the comma separator and room for
 * the longest timestamp: computed once per shard, added to each record's variable lengths.
 */
export function fixedPayloadBytes(identity: MappingIdentity, shardId: string): number {
  const template: KinesisStreamRecord = {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: '',
      sequenceNumber: '',
      data: '',
      approximateArrivalTimestamp: 0,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${shardId}:`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: identity.invokeIdentityArn,
    awsRegion: identity.region,
    eventSourceARN: identity.streamArn,
  };
  // `0` is 1 char; a timestamp such as 1545084650.987 is at most 17 (with a long float tail).
  return Buffer.byteLength(JSON.stringify(template)) - 1 + 17 + 1;
}

/** Bytes of a whole event whose records have the given summed `payloadBytes`. */
export function eventPayloadBytes(recordBytes: number): number {
  return EVENT_ENVELOPE_BYTES + recordBytes;
}

function isPlainJson(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

/** How the runner reads what the handler returned. */
export type BatchVerdict =
  | { readonly kind: 'success' }
  /** Records before `failedIndex` are done; retry from `failedIndex` (the lowest reported sequence number). */
  | { readonly kind: 'partial'; readonly failedIndex: number }
  /** A malformed response: Lambda treats the whole batch as failed. */
  | { readonly kind: 'invalid'; readonly detail: string };

const SUCCESS: BatchVerdict = { kind: 'success' };

/**
 * Interprets a handler's return value as Lambda does with `ReportBatchItemFailures` on:
 * no response, no list or an empty list is a complete success; an `itemIdentifier` that is empty,
 * missing, not a string or not a sequence number of this batch fails the whole batch; otherwise
 * the batch checkpoints just before the lowest reported sequence number.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html
 *
 * @example
 * const records = ['1', '2', '3', '4'].map((sequenceNumber) => ({ sequenceNumber }));
 * interpretBatchResponse({ batchItemFailures: [{ itemIdentifier: '3' }] }, records);
 * // { kind: 'partial', failedIndex: 2 }
 */
export function interpretBatchResponse(
  response: unknown,
  records: readonly { readonly sequenceNumber: string }[],
): BatchVerdict {
  if (response === undefined || response === null || typeof response !== 'object') return SUCCESS;
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return SUCCESS;
  if (!Array.isArray(failures)) {
    return { kind: 'invalid', detail: 'batchItemFailures is not an array' };
  }
  if (failures.length === 0) return SUCCESS;
  const indexBySeq = new Map<string, number>();
  for (let i = 0; i < records.length; i++)
    indexBySeq.set((records[i] as { sequenceNumber: string }).sequenceNumber, i);
  let lowest = Number.POSITIVE_INFINITY;
  for (const failure of failures) {
    const id =
      failure === null || typeof failure !== 'object'
        ? undefined
        : (failure as { itemIdentifier?: unknown }).itemIdentifier;
    if (typeof id !== 'string' || id === '') {
      return { kind: 'invalid', detail: 'a batchItemFailures entry has no itemIdentifier (or an empty one)' };
    }
    const index = indexBySeq.get(id);
    if (index === undefined) {
      return { kind: 'invalid', detail: `itemIdentifier '${id}' is not a sequence number of this batch` };
    }
    if (index < lowest) lowest = index;
  }
  return { kind: 'partial', failedIndex: lowest };
}

/** What the last invocation of the discarded records returned, for `responseContext`. */
export type LastInvocation = { readonly functionError: boolean } | undefined;

/**
 * The on-failure destination document for discarded records (non-empty, in sequence order).
 *
 * @example
 * const doc = buildFailureRecord({ condition: 'RetryAttemptsExhausted', records, shardId, identity,
 *   invokeCount: 3, lastInvocation: { functionError: true }, nowMs: Date.now(), requestId });
 */
export function buildFailureRecord(input: {
  condition: FailureConditionName;
  records: readonly BufferedRecord[];
  shardId: string;
  identity: MappingIdentity;
  invokeCount: number;
  lastInvocation: LastInvocation;
  nowMs: number;
  requestId: string;
}): KinesisFailureRecord {
  const first = input.records[0];
  const last = input.records[input.records.length - 1];
  if (first === undefined || last === undefined) {
    throw new RangeError('buildFailureRecord needs at least one record');
  }
  const doc: KinesisFailureRecord = {
    requestContext: {
      requestId: input.requestId,
      functionArn: input.identity.functionArn,
      condition: input.condition,
      approximateInvokeCount: input.invokeCount,
    },
    version: '1.0',
    timestamp: new Date(input.nowMs).toISOString(),
    KinesisBatchInfo: {
      shardId: input.shardId,
      startSequenceNumber: first.sequenceNumber,
      endSequenceNumber: last.sequenceNumber,
      approximateArrivalOfFirstRecord: new Date(first.arrivalMs).toISOString(),
      approximateArrivalOfLastRecord: new Date(last.arrivalMs).toISOString(),
      batchSize: input.records.length,
      streamArn: input.identity.streamArn,
    },
  };
  if (input.lastInvocation !== undefined) {
    // Key order as Lambda writes it: requestContext, responseContext, version, timestamp, batch info.
    const { requestContext, ...rest } = doc;
    return {
      requestContext,
      responseContext: input.lastInvocation.functionError
        ? { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' }
        : { statusCode: 200, executedVersion: '$LATEST' },
      ...rest,
    };
  }
  return doc;
}

/**
 * ARNs of the local mapping, derived from the stream ARN (region and account) and a function name.
 *
 * @example
 * mappingIdentity('arn:aws:kinesis:us-east-1:000000000000:stream/tidewatch-logs', 'tidewatch-ingest');
 * // { region: 'us-east-1', functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:tidewatch-ingest', ... }
 */
export function mappingIdentity(
  streamArn: string,
  functionName: string,
  invokeIdentityArn?: string,
): MappingIdentity {
  // arn:partition:kinesis:region:account:stream/name
  const parts = streamArn.split(':');
  const partition = parts[1] || 'aws';
  const region = parts[3] || 'us-east-1';
  const account = parts[4] || '000000000000';
  return {
    streamArn,
    region,
    functionName,
    functionArn: `arn:${partition}:lambda:${region}:${account}:function:${functionName}`,
    invokeIdentityArn: invokeIdentityArn ?? `arn:${partition}:iam::${account}:role/${functionName}-role`,
  };
}
