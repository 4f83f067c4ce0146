/**
 * Normal-distribution helpers used by the detectors.
 */

/**
 * Complementary error function, W. J. Cody's rational Chebyshev approximation as given in Numerical
 * Recipes (`erfcc`, fractional error < 1.2e-7 everywhere). Computed directly so that tiny tail
 * probabilities keep their precision instead of underflowing as `1 − erf(x)` would.
 *
 * @example
 * erfc(0); // 1
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/**
 * Two-sided tail probability P(|Z| ≥ |z|) of a standard normal.
 *
 * @example
 * twoSidedTail(1.96); // ≈ 0.05
 */
export function twoSidedTail(z: number): number {
  // A probability: `erfc`'s approximation (fractional error < 1.2e-7) gives 1.00000003 at 0, which made
  // `1 - twoSidedTail(z)` a score of -3e-8.
  return Math.min(1, erfc(Math.abs(z) / Math.SQRT2));
}

/**
 * Upper tail probability P(Z ≥ z) of a standard normal.
 *
 * @example
 * upperTail(0); // 0.5
 */
export function upperTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}
