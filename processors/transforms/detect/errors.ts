/**
 * Errors of the detect area. Data problems are outcomes, not exceptions (DESIGN.md §3); these are
 * thrown only for programming or configuration errors (an unknown detector name, a corrupt checkpoint).
 */

/**
 * A detector, its state or an alert rule was used or configured wrongly.
 *
 * @example
 * throw new DetectError('unknown detector "foo"; use one of default, gaussian, ewma');
 */
export class DetectError extends Error {
  override readonly name = 'DetectError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
