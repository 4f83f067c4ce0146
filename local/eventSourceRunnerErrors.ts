/**
 * Errors of the local Kinesis stand-ins: the kinesalite launcher, the checkpoint store and the
 * event-source runner. Each keeps the underlying `cause` and says what to do in its message.
 *
 * Handler failures are not errors here: the runner turns them into retries, bisections and
 * on-failure records exactly as the Lambda event source mapping does.
 */

/** Invalid runner configuration or a stream the runner cannot read. */
export class EventSourceRunnerError extends Error {
  override readonly name = 'EventSourceRunnerError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A checkpoint file that cannot be read, parsed or written. */
export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** kinesalite failed to start, or a stream did not become ACTIVE. */
export class KinesaliteError extends Error {
  override readonly name = 'KinesaliteError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
