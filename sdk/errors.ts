/**
 * Errors of the producer SDK. None of them is ever thrown into application code: the shipper counts
 * every event it could not deliver and hands a {@link ShipperError} per batch to the `onError` hook.
 */

/**
 * Why events were not delivered. Low-cardinality, stable codes (Vector's "dropped with a reason"):
 * count them, alert on them, never parse messages.
 */
export const ShipperErrorReason = {
  /** Event + partition key above the 1 MiB Kinesis record limit (UTF-8 bytes). Counted in `failed`. */
  oversized: 'oversized',
  /** `partitionKey` returned something that is not a 1–256 character string. Counted in `failed`. */
  invalidPartitionKey: 'invalid_partition_key',
  /** `JSON.stringify` threw (cycle, BigInt, throwing `toJSON`) or produced nothing. Counted in `failed`. */
  unserializable: 'unserializable',
  /** `whenFull: 'dropNewest'` and the buffer was full: an intentional drop, counted in `dropped`. */
  bufferFull: 'buffer_full',
  /** Still failing after `maxRetryMs` of retries. Counted in `failed`. */
  retriesExhausted: 'retries_exhausted',
  /** Kinesis refused the call for good (stream missing, access denied, validation). Counted in `failed`. */
  rejected: 'rejected',
  /** `send()` after `close()`. Counted in `failed`. */
  closed: 'closed',
} as const;
export type ShipperErrorReasonName = (typeof ShipperErrorReason)[keyof typeof ShipperErrorReason];

/**
 * One report of undelivered events: `events` events for one `reason`, aggregated per batch (not per
 * event) so that a throttled stream does not turn into a storm of callbacks.
 *
 * @example
 * createShipper({ streamName: 'logs', onError: (e) => metrics.count(`shipper.${e.reason}`, e.events) });
 */
export class ShipperError extends Error {
  override readonly name = 'ShipperError';
  readonly reason: ShipperErrorReasonName;
  /** Number of events this report covers. */
  readonly events: number;
  /** True for drops the caller opted into (`whenFull: 'dropNewest'`); false for failures. */
  readonly intentional: boolean;

  constructor(
    reason: ShipperErrorReasonName,
    events: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.reason = reason;
    this.events = events;
    this.intentional = reason === ShipperErrorReason.bufferFull;
  }
}

/** Invalid `createShipper` options: the one error the SDK throws, at construction, never from `send`. */
export class ShipperConfigError extends Error {
  override readonly name = 'ShipperConfigError';
}
