/** Errors of the dashboards-as-code area (generator, query builder, provisioning). */

/**
 * A dashboard, query or alert rule could not be built as asked (a programming or configuration error,
 * never a data error).
 *
 * @example
 * throw new DashboardsError('panel ids must be unique: 3 appears twice in tidewatch-service');
 */
export class DashboardsError extends Error {
  override readonly name = 'DashboardsError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
