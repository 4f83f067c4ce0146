/**
 * Errors of the sinks area. Data problems are never thrown — they are per-record outcomes
 * (`ok` | `retry` | `reject{code}`, DESIGN.md §3). These classes are for misuse and for reads that a
 * handler cannot turn into a per-record outcome (e.g. a state checkpoint that cannot be loaded).
 */

/**
 * Base class of every error thrown by `processors/sinks`. Keeps the original error in `cause`.
 *
 * @example
 * try { await store.get({ kind: 'detector', key: 'checkout' }); }
 * catch (e) { if (e instanceof SinkError) log.error({ err: e, cause: e.cause }); }
 */
export class SinkError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SinkError';
  }
}

/**
 * A sink was configured with values that cannot work (a limit above the AWS maximum, an empty stream name).
 *
 * @example
 * new FirehoseArchiver({ client, deliveryStreamName: '', errorDeliveryStreamName: 'e' }); // throws SinkConfigError
 */
export class SinkConfigError extends SinkError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SinkConfigError';
  }
}

/**
 * The DynamoDB state store could not read state within its time budget (throttling, 5xx, network) or
 * the table is missing. The handler should fail the batch (retry) rather than run without state.
 *
 * @example
 * try { await store.getMany(refs); } catch (e) { if (e instanceof StateStoreError) return retryAll(); }
 */
export class StateStoreError extends SinkError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StateStoreError';
  }
}
