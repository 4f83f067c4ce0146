/** Errors of the log-line parsers' configuration. Data never throws; bad configuration does. */

/** A `FieldMapping` that cannot be used (unknown unit, empty path, unknown level name). */
export class FieldMappingError extends Error {
  override readonly name = 'FieldMappingError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
