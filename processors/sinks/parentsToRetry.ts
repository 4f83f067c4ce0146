/**
 * Rolls per-item sink outcomes up to the Kinesis records they came from. The unit of acknowledgement
 * is the Kinesis record (DESIGN.md §3): a parent is retried if any of its items is `retry`; `ok` and
 * `reject` (archived and counted) items let it be acknowledged.
 */

/**
 * Sorted, distinct parent indices that must go into `batchItemFailures`.
 *
 * @example
 * // items 0,1 came from parent 0, item 2 from parent 1
 * parentsToRetry(outcomes, [0, 0, 1]); // [1] if only outcomes[2] is retry
 */
export function parentsToRetry(
  outcomes: ArrayLike<{ readonly kind: string }>,
  parentOf: ArrayLike<number>,
): number[] {
  if (outcomes.length !== parentOf.length) {
    throw new RangeError(`outcomes (${outcomes.length}) and parentOf (${parentOf.length}) differ in length`);
  }
  const retry = new Set<number>();
  for (let i = 0; i < outcomes.length; i++) if (outcomes[i]!.kind === 'retry') retry.add(parentOf[i]!);
  return [...retry].sort((a, b) => a - b);
}
