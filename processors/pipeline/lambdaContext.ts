/**
 * The part of the Lambda context object the handlers use, and how they turn it into time budgets.
 * Structurally compatible with `@types/aws-lambda`'s `Context` and `local/lambdaTypes.ts`.
 */
import type { KinesisEvent, KinesisEventRecord } from '../sources/kinesisEvent.ts';

/** What a handler reads from its context; every member optional so tests can pass `{}`. */
export interface LambdaContextLike {
  awsRequestId?: string;
  functionName?: string;
  getRemainingTimeInMillis?: () => number;
}

/** Assumed remaining time when the context does not say (tests, hand-built invocations). */
export const DEFAULT_REMAINING_MS = 60_000;
/** Kept back from every budget so the handler can still answer (and checkpoint) before the timeout. */
export const SAFETY_MARGIN_MS = 5_000;

/**
 * Time a sink call may still take: the Lambda's remaining time minus a margin, at least 1 s.
 *
 * @example
 * await archiver.archive(lines, { budgetMs: budgetMs(context) });
 */
export function budgetMs(context: LambdaContextLike | undefined): number {
  const remaining = context?.getRemainingTimeInMillis?.() ?? DEFAULT_REMAINING_MS;
  return Math.max(1_000, remaining - SAFETY_MARGIN_MS);
}

/**
 * The shard a Kinesis event record came from: Lambda's `eventID` is `<shardId>:<sequenceNumber>`.
 *
 * @example
 * shardIdOf({ eventID: 'shardId-000000000001:4959…', kinesis }); // 'shardId-000000000001'
 */
export function shardIdOf(record: KinesisEventRecord | undefined): string {
  const id = record?.eventID;
  if (typeof id === 'string') {
    const colon = id.indexOf(':');
    if (colon > 0) return id.slice(0, colon);
  }
  return 'shardId-unknown';
}

/** Whether `event` is a Kinesis event (has a `Records` array). */
export function isKinesisEvent(event: unknown): event is KinesisEvent {
  return typeof event === 'object' && event !== null && Array.isArray((event as KinesisEvent).Records);
}
