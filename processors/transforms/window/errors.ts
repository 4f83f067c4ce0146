/**
 * Errors of the window area (assign, aggregate, encode, merge). Data problems are returned as
 * outcomes (`Outcome`, `ConfigOutcome`); these classes are for programmer errors and for wrapping a
 * cause when an outcome carries one.
 */

/** Base class of every error thrown by `processors/transforms/window`. */
export class WindowError extends Error {
  override readonly name: string = 'WindowError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A `WindowConfig` that does not validate (see `parseWindowConfig` for the outcome form). */
export class WindowConfigError extends WindowError {
  override readonly name: string = 'WindowConfigError';
  constructor(
    message: string,
    readonly problems: readonly string[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Bytes that are not a partial-window chunk this version can read. */
export class PartialCodecError extends WindowError {
  override readonly name: string = 'PartialCodecError';
}

/** Merger state (a checkpoint) that cannot be restored. */
export class MergerStateError extends WindowError {
  override readonly name: string = 'MergerStateError';
}
