/**
 * The Lambda shapes the local event-source runner produces and consumes, written out here so the
 * runner needs no extra dependency. They are structurally compatible with `@types/aws-lambda`
 * (`KinesisStreamEvent`, `KinesisStreamBatchResponse`, `Context`): a handler typed with either works.
 *
 * Event shape: https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html (example event).
 * On-failure record: https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html
 */

/** `Records[].kinesis` of a Kinesis event. */
export interface KinesisStreamRecordPayload {
  /** Always `'1.0'`. */
  kinesisSchemaVersion: string;
  partitionKey: string;
  sequenceNumber: string;
  /** The record's bytes, base64-encoded. */
  data: string;
  /** Seconds since the epoch with millisecond fraction, e.g. `1545084650.987`. */
  approximateArrivalTimestamp: number;
}

/** One element of `KinesisStreamEvent.Records`. */
export interface KinesisStreamRecord {
  kinesis: KinesisStreamRecordPayload;
  /** Always `'aws:kinesis'`. */
  eventSource: string;
  /** Always `'1.0'`. */
  eventVersion: string;
  /** `<shardId>:<sequenceNumber>`. */
  eventID: string;
  /** Always `'aws:kinesis:record'`. */
  eventName: string;
  /** The function's execution role. */
  invokeIdentityArn: string;
  awsRegion: string;
  eventSourceARN: string;
}

/** What a Kinesis-triggered function receives: records of ONE shard, in sequence order. */
export interface KinesisStreamEvent {
  Records: KinesisStreamRecord[];
}

export interface KinesisStreamBatchItemFailure {
  /** The sequence number of a record to retry (with every later record of the batch). */
  itemIdentifier: string;
}

/**
 * The partial batch response (`ReportBatchItemFailures`). Lambda restarts from the lowest
 * sequence number listed; an empty list (or no response) means the whole batch succeeded.
 */
export interface KinesisStreamBatchResponse {
  batchItemFailures: KinesisStreamBatchItemFailure[];
}

/** The Lambda context object (Node.js runtime), with every member `@types/aws-lambda` declares. */
export interface LambdaContext {
  callbackWaitsForEmptyEventLoop: boolean;
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  awsRequestId: string;
  logGroupName: string;
  logStreamName: string;
  getRemainingTimeInMillis(): number;
  /** @deprecated Use handler return values; kept for type compatibility (no-ops locally). */
  done(error?: Error, result?: unknown): void;
  /** @deprecated */
  fail(error: Error | string): void;
  /** @deprecated */
  succeed(messageOrObject: unknown): void;
}

/**
 * An async Kinesis handler as the runner calls it. Return `{ batchItemFailures }` to report
 * partial failures; throw (reject) for a function error.
 */
export type KinesisStreamHandler = (
  event: KinesisStreamEvent,
  context: LambdaContext,
) => Promise<KinesisStreamHandlerResult>;

/** What a handler may resolve to: a partial batch response, or nothing (complete success). */
// biome-ignore lint/suspicious/noConfusingVoidType: an async handler that returns nothing is Promise<void>.
export type KinesisStreamHandlerResult = KinesisStreamBatchResponse | undefined | void;

/** Why records were sent to the on-failure destination. */
export const FailureCondition = {
  retryAttemptsExhausted: 'RetryAttemptsExhausted',
  recordAgeExceeded: 'RecordAgeExceeded',
} as const;
export type FailureConditionName = (typeof FailureCondition)[keyof typeof FailureCondition];

/**
 * The document Lambda sends to a Kinesis mapping's on-failure destination (SQS/SNS): metadata that
 * points at the discarded records, not the records themselves.
 */
export interface KinesisFailureRecord {
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: FailureConditionName;
    approximateInvokeCount: number;
  };
  /** Present when the function was invoked with these records; absent if they expired unread. */
  responseContext?: {
    statusCode: number;
    executedVersion: string;
    /** `'Unhandled'` after a thrown error; absent after a partial batch response. */
    functionError?: string;
  };
  version: '1.0';
  /** ISO 8601, when the records were discarded. */
  timestamp: string;
  KinesisBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    /** ISO 8601 with milliseconds. */
    approximateArrivalOfFirstRecord: string;
    approximateArrivalOfLastRecord: string;
    batchSize: number;
    streamArn: string;
  };
}
