/**
 * A small seeded pseudo-random generator for the demo fleet: the same seed gives the same traffic,
 * incidents and malformed records, so a demo run (and its tests) can be reproduced exactly.
 *
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, PractRand-clean at 32 bits) seeded
 * through splitmix32; not cryptographic, and not meant to be.
 */

/** splitmix32 step: spreads a small integer seed over 32 bits. */
function splitmix32(state: number): [number, number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [next, (z ^ (z >>> 16)) >>> 0];
}

/**
 * Seeded random numbers: uniform, integers, choices, normal, log-normal and Poisson draws.
 *
 * @example
 * const rng = new DemoRandom(42);
 * rng.uniform();          // [0, 1)
 * rng.poisson(12.5);      // a count
 * rng.logNormal(40, 0.5); // median 40
 */
export class DemoRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  /** Second normal of the last Box–Muller pair (NaN when none is kept). */
  private spare = Number.NaN;

  constructor(seed: number) {
    let s = Math.trunc(seed) | 0;
    let x: number;
    [s, x] = splitmix32(s);
    this.a = x | 0;
    [s, x] = splitmix32(s);
    this.b = x | 0;
    [s, x] = splitmix32(s);
    this.c = x | 0;
    [, x] = splitmix32(s);
    this.d = 1;
    this.c ^= x;
    // Discard the first outputs, as the generator's author recommends.
    for (let i = 0; i < 12; i++) this.next32();
  }

  /** Next 32 random bits as an unsigned integer. */
  next32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.next32() / 4_294_967_296;
  }

  /** Uniform in [lo, hi). */
  between(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** One element of a non-empty array. */
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.uniform() < p;
  }

  /** Standard normal (Box–Muller, pairs cached). */
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const s = this.spare;
      this.spare = Number.NaN;
      return s;
    }
    let u = this.uniform();
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Log-normal with the given median and log-space standard deviation. */
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }

  /**
   * Poisson count with mean `mean`: Knuth's product method for small means, a rounded normal
   * approximation above 40 (where its error is far below the demo's own variation).
   */
  poisson(mean: number): number {
    if (!(mean > 0)) return 0;
    if (mean > 40) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()));
    const limit = Math.exp(-mean);
    let k = 0;
    let p = this.uniform();
    while (p > limit) {
      k++;
      p *= this.uniform();
    }
    return k;
  }

  /** `n` lowercase hex characters. */
  hex(n: number): string {
    let s = '';
    while (s.length < n) s += this.next32().toString(16).padStart(8, '0');
    return s.slice(0, n);
  }
}
