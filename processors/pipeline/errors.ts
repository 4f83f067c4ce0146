/**
 * Errors of the handler wiring (`processors/handlers`, `processors/pipeline`). Data problems are never
 * thrown — they are per-record outcomes (DESIGN.md §3). These are for configuration that cannot work
 * and for state a handler cannot load; they surface as a failed invocation, which Lambda retries.
 */

/**
 * Base class of the pipeline's errors; keeps the original error in `cause`.
 *
 * @example
 * try { readHandlerConfig(process.env); } catch (e) { if (e instanceof PipelineError) console.error(e.message); }
 */
export class PipelineError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PipelineError';
  }
}

/**
 * The handler environment (`EnvVar` in schema.ts, `TW_CONFIG`) is missing a value or holds one that
 * cannot work. `problems` lists every problem, each saying what was wrong and what is accepted.
 *
 * @example
 * new HandlerConfigError(['TW_WINDOW_MS: must be an integer, got "ten"']);
 */
export class HandlerConfigError extends PipelineError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[], options?: { cause?: unknown }) {
    super(`invalid handler configuration:\n  - ${problems.join('\n  - ')}`, options);
    this.name = 'HandlerConfigError';
    this.problems = problems;
  }
}

/**
 * A state checkpoint could not be read or decoded (DynamoDB kept failing, or the blob is corrupt).
 *
 * @example
 * throw new CheckpointError('detect state shardId-000000000000: part 2 of 3 is missing');
 */
export class CheckpointError extends PipelineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CheckpointError';
  }
}
