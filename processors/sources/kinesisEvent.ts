/**
 * The Lambda Kinesis event, as the event source mapping delivers it (and as the local event-source
 * runner builds it). Only what decoding reads is required; the rest is optional so replays and
 * tests can build records by hand.
 * https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html#services-kinesis-event-example
 */

/** The `kinesis` member of a Lambda Kinesis event record. */
export interface KinesisRecordPayload {
  /** The record's data blob, base64 (Lambda event payloads are JSON). */
  data: string;
  sequenceNumber: string;
  partitionKey: string;
  /** Seconds since the epoch, fractional (e.g. 1545084650.987). */
  approximateArrivalTimestamp: number;
  kinesisSchemaVersion?: string;
}

/** One record of `event.Records`. */
export interface KinesisEventRecord {
  kinesis: KinesisRecordPayload;
  eventSource?: string;
  eventVersion?: string;
  eventID?: string;
  eventName?: string;
  invokeIdentityArn?: string;
  awsRegion?: string;
  eventSourceARN?: string;
}

/** The whole event a Kinesis-triggered Lambda receives. */
export interface KinesisEvent {
  Records: KinesisEventRecord[];
}

/** Lambda's partial batch response: only retry parents go here (DESIGN.md §3). */
export interface KinesisBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}
