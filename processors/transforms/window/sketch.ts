/**
 * A mergeable quantile sketch with a relative-error guarantee: DDSketch (Masson, Rim, Lee,
 * "DDSketch: A Fast and Fully-Mergeable Quantile Sketch with Relative-Error Guarantees", VLDB 2019).
 *
 * The key mapping and the quantile rule are exactly those of `@datadog/sketches-js`
 * (`LogarithmicMapping`, `getValueAtQuantile`), and `test/unit/windowSketch.conformance.test.ts`
 * keeps the library as the reference. We carry our own store because the library's does not fit a
 * stream of many small per-series windows (measured in `bench/windows.bench.ts`):
 * - its protobuf form stores every bin of the dense range as an 8-byte double, and `fromProto`
 *   drops `sum`, `min` and `max`; ours writes (gap, count) varint pairs — about 2 bytes per
 *   non-empty bin — and keeps the summary statistics;
 * - its `DenseStore` grows a JavaScript `number[]` in 128-bin chunks; ours is a `Uint32Array`
 *   trimmed to the occupied key range, 4 bytes per bin, for the thousands of open windows stage two
 *   holds.
 * Values must be ≥ 0 (latencies, sizes); values below the smallest indexable value count as zero.
 * The store holds at most MAX_SKETCH_BINS keys: at α = 1 % that spans 35 decades, at the smallest
 * accuracy the config allows (0.5 %) 17 decades; beyond, the lowest bins collapse (low quantiles
 * lose their guarantee, high quantiles keep it).
 */
import { WindowError } from './errors.ts';

/** Bins beyond this are collapsed into the lowest bin (like the library's `LogCollapsingLowest…`). */
export const MAX_SKETCH_BINS = 4096;
const INITIAL_BINS = 32;
const FORMAT_VERSION = 1;

/**
 * Reads `bytes` from `offset`; the cursor is shared with the partial codec.
 *
 * @internal
 */
export interface ByteReader {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  offset: number;
}

/**
 * DDSketch with a logarithmic mapping and a dense, collapsing-lowest `Uint32Array` store.
 *
 * @example
 * const s = new QuantileSketch(0.01);
 * for (const ms of [12, 15, 19, 250]) s.accept(ms);
 * s.quantile(0.5); // ≈ 15, within 1 %
 * const back = QuantileSketch.decode(s.encode());
 */
export class QuantileSketch {
  readonly relativeAccuracy: number;
  /** γ = (1 + α) / (1 − α) */
  readonly gamma: number;
  private readonly multiplier: number;
  /** Values at or below this count as zero (the library's `minPossible`). */
  private readonly minIndexable: number;
  private bins: Uint32Array;
  /** Key of `bins[0]`. */
  private offset = 0;
  private minKey = Number.POSITIVE_INFINITY;
  private maxKey = Number.NEGATIVE_INFINITY;
  zeroCount = 0;
  count = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;

  constructor(relativeAccuracy = 0.01) {
    if (!(relativeAccuracy > 0 && relativeAccuracy < 1)) {
      throw new WindowError(`relativeAccuracy must be in (0, 1), got ${relativeAccuracy}`);
    }
    this.relativeAccuracy = relativeAccuracy;
    const gammaMantissa = (2 * relativeAccuracy) / (1 - relativeAccuracy);
    this.gamma = 1 + gammaMantissa;
    // Same expression, same float rounding as sketches-js LogarithmicMapping: keys are identical.
    this.multiplier = (1 / Math.log1p(gammaMantissa)) * Math.log(2);
    this.minIndexable = 2 ** -1023 * this.gamma;
    this.bins = EMPTY;
  }

  /** Bucket key of a positive value. */
  key(value: number): number {
    return Math.ceil(Math.log2(value) * this.multiplier) + 0; // + 0: no −0 key, as the library
  }

  /** Representative value of a bucket key (relative error ≤ α for every value in the bucket). */
  value(key: number): number {
    return 2 ** (key / this.multiplier) * (2 / (1 + this.gamma));
  }

  /** Adds one value. Negative and non-finite values are ignored (callers count them if they care). */
  accept(value: number): void {
    if (!(value >= 0) || value === Number.POSITIVE_INFINITY) return;
    if (value > this.minIndexable) this.addKey(this.key(value), 1);
    else this.zeroCount++;
    this.count++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }

  /** Adds `other` into this sketch (same relative accuracy required). */
  merge(other: QuantileSketch): void {
    if (other.gamma !== this.gamma) {
      throw new WindowError(
        `cannot merge sketches of relative accuracy ${other.relativeAccuracy} and ${this.relativeAccuracy}`,
      );
    }
    if (other.count === 0) return;
    if (other.maxKey >= other.minKey) {
      // Little slack: merged windows grow little after the first partials, and stage two holds many
      // (they are compacted when they close).
      this.ensureRange(other.minKey, other.maxKey, true);
      const src = other.bins;
      const collapseBelow = this.minKey; // keys below were collapsed into minKey
      for (let k = other.minKey; k <= other.maxKey; k++) {
        const c = src[k - other.offset]!;
        if (c === 0) continue;
        const target = Math.max(k, collapseBelow);
        this.bins[target - this.offset]! += c;
      }
    }
    this.zeroCount += other.zeroCount;
    this.count += other.count;
    this.sum += other.sum;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }

  /**
   * Value at quantile `q` ∈ [0, 1] (rank q·(n−1), lower), NaN when empty — the library's rule. The
   * result is within `relativeAccuracy` of the exact sorted value at index ⌊q·(n−1)⌋.
   */
  quantile(q: number): number {
    if (!(q >= 0 && q <= 1) || this.count === 0) return Number.NaN;
    const rank = q * (this.count - 1);
    if (rank < this.zeroCount) return 0;
    const target = rank - this.zeroCount;
    let running = 0;
    for (let k = this.minKey; k <= this.maxKey; k++) {
      running += this.bins[k - this.offset]!;
      if (running > target) return this.value(k);
    }
    return this.value(this.maxKey);
  }

  /**
   * Several quantiles in one pass over the bins; `qs` ascending. Same values as `quantile(q)`.
   *
   * @example
   * const [p50, p90, p99] = sketch.quantiles([0.5, 0.9, 0.99]);
   */
  quantiles(qs: readonly number[]): number[] {
    const out: number[] = [];
    if (this.count === 0) {
      for (let i = 0; i < qs.length; i++) out.push(Number.NaN);
      return out;
    }
    let k = this.minKey;
    let running = 0;
    for (let i = 0; i < qs.length; i++) {
      const q = qs[i]!;
      if (!(q >= 0 && q <= 1)) {
        out.push(Number.NaN);
        continue;
      }
      const rank = q * (this.count - 1);
      if (rank < this.zeroCount) {
        out.push(0);
        continue;
      }
      const target = rank - this.zeroCount;
      while (k <= this.maxKey) {
        const c = this.bins[k - this.offset]!;
        if (running + c > target) break;
        running += c;
        k++;
      }
      out.push(this.value(Math.min(k, this.maxKey)));
    }
    return out;
  }

  /** Number of non-empty bins. */
  get binCount(): number {
    let n = 0;
    for (let k = this.minKey; k <= this.maxKey; k++) if (this.bins[k - this.offset]! > 0) n++;
    return n;
  }

  /** Approximate bytes this sketch holds in memory (object + typed array). */
  get memoryBytes(): number {
    return 120 + this.bins.byteLength;
  }

  /** Shrinks the store to the occupied key range (stage two calls this after merging). */
  compact(): void {
    if (this.maxKey < this.minKey) {
      this.bins = EMPTY;
      return;
    }
    const span = this.maxKey - this.minKey + 1;
    if (span === this.bins.length) return;
    this.bins = this.bins.slice(this.minKey - this.offset, this.minKey - this.offset + span);
    this.offset = this.minKey;
  }

  /** A deep copy. */
  clone(): QuantileSketch {
    const c = new QuantileSketch(this.relativeAccuracy);
    c.merge(this);
    return c;
  }

  /** Forward-only visit of non-empty bins: (bucket representative value, count). For tests and export. */
  forEachBin(fn: (key: number, count: number) => void): void {
    for (let k = this.minKey; k <= this.maxKey; k++) {
      const c = this.bins[k - this.offset]!;
      if (c > 0) fn(k, c);
    }
  }

  /**
   * Compact binary form: version, α in ppm, count, zero count, sum/min/max (float64), then the
   * non-empty bins as (key gap, count) varint pairs.
   */
  encode(): Uint8Array {
    const w = new ByteWriter(40 + 4 * (this.maxKey >= this.minKey ? this.maxKey - this.minKey + 1 : 0));
    this.encodeTo(w);
    return w.finish();
  }

  /** Appends the encoding to a shared writer (the partial codec). */
  encodeTo(w: ByteWriter): void {
    w.u8(FORMAT_VERSION);
    w.varint(Math.round(this.relativeAccuracy * 1e6));
    w.varint(this.count);
    if (this.count === 0) return;
    w.varint(this.zeroCount);
    w.f64(this.sum);
    w.f64(this.min);
    w.f64(this.max);
    const nBins = this.binCount;
    w.varint(nBins);
    if (nBins === 0) return;
    // First key and key span up front, so the decoder allocates the store once and fills it in
    // one pass; then (gap, count) pairs — 2 bytes per bin for typical latency histograms.
    w.zigzag(this.minKey);
    w.varint(this.maxKey - this.minKey);
    let prev = this.minKey;
    for (let k = this.minKey; k <= this.maxKey; k++) {
      const c = this.bins[k - this.offset]!;
      if (c === 0) continue;
      w.varint(k - prev);
      w.varint(c);
      prev = k;
    }
  }

  /**
   * Decodes `encode()` output. Throws `WindowError` on malformed input (callers turn that into a
   * `partial_malformed` outcome once per record).
   *
   * @example
   * const s = QuantileSketch.decode(bytes);
   */
  static decode(bytes: Uint8Array): QuantileSketch {
    const r: ByteReader = {
      bytes,
      view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      offset: 0,
    };
    const s = QuantileSketch.decodeFrom(r);
    if (r.offset !== bytes.length) throw new WindowError('trailing bytes after sketch');
    return s;
  }

  /** Decodes from a shared reader (the partial codec). */
  static decodeFrom(r: ByteReader): QuantileSketch {
    const version = readU8(r);
    if (version !== FORMAT_VERSION) throw new WindowError(`unknown sketch format version ${version}`);
    const ppm = readVarint(r);
    if (ppm < 1 || ppm >= 1e6) throw new WindowError(`sketch relative accuracy ${ppm} ppm out of range`);
    const s = new QuantileSketch(ppm / 1e6);
    const count = readVarint(r);
    if (count === 0) return s;
    s.zeroCount = readVarint(r);
    s.sum = readF64(r);
    s.min = readF64(r);
    s.max = readF64(r);
    const nBins = readVarint(r);
    let total = s.zeroCount;
    if (nBins > 0) {
      if (nBins > MAX_SKETCH_BINS)
        throw new WindowError(`sketch has ${nBins} bins, more than ${MAX_SKETCH_BINS}`);
      const lo = readZigzag(r);
      const span = readVarint(r);
      if (span + 1 > MAX_SKETCH_BINS || nBins > span + 1)
        throw new WindowError('sketch key range out of bounds');
      const bins = new Uint32Array(span + 1);
      const bytes = r.bytes;
      let o = r.offset;
      let idx = 0;
      for (let i = 0; i < nBins; i++) {
        // Inline single-byte varints (nearly all gaps and most counts); fall back for longer ones.
        let gap = bytes[o++];
        if (gap === undefined) throw new WindowError('unexpected end of data');
        if (gap >= 0x80) {
          r.offset = o - 1;
          gap = readVarint(r);
          o = r.offset;
        }
        let c = bytes[o++];
        if (c === undefined) throw new WindowError('unexpected end of data');
        if (c >= 0x80) {
          r.offset = o - 1;
          c = readVarint(r);
          o = r.offset;
        }
        idx += gap;
        if ((i > 0 ? gap < 1 : gap !== 0) || idx > span)
          throw new WindowError('sketch bin keys not increasing within range');
        if (c < 1 || c > 0xffffffff) throw new WindowError('sketch bin count out of range');
        bins[idx] = c;
        total += c;
      }
      r.offset = o;
      if (idx !== span || (nBins === 1 && span !== 0))
        throw new WindowError('sketch key span does not match its bins');
      s.bins = bins;
      s.offset = lo;
      s.minKey = lo;
      s.maxKey = lo + span;
    }
    if (total !== count) throw new WindowError(`sketch count ${count} does not match its bins (${total})`);
    s.count = count;
    return s;
  }

  private addKey(key: number, n: number): void {
    if (key < this.offset || key >= this.offset + this.bins.length) {
      this.ensureRange(key, key);
    } else {
      if (key < this.minKey) this.minKey = key;
      if (key > this.maxKey) this.maxKey = key;
    }
    const k = Math.max(key, this.minKey); // below a collapsed range
    this.bins[k - this.offset]! += n;
  }

  /** Makes room for keys lo..hi, collapsing the lowest keys when the span exceeds MAX_SKETCH_BINS. */
  private ensureRange(lo: number, hi: number, exact = false): void {
    let newMin = Math.min(lo, this.minKey);
    const newMax = Math.max(hi, this.maxKey);
    if (newMax - newMin + 1 > MAX_SKETCH_BINS) newMin = newMax - MAX_SKETCH_BINS + 1;
    if (newMin >= this.offset && newMax < this.offset + this.bins.length) {
      this.collapseBelow(newMin);
      this.minKey = newMin;
      this.maxKey = newMax;
      return;
    }
    const span = newMax - newMin + 1;
    const capacity = Math.min(
      MAX_SKETCH_BINS,
      exact ? span + (span >> 2) + 8 : Math.max(INITIAL_BINS, span * 2),
    );
    const newOffset = Math.max(newMax - capacity + 1, Math.min(newMin, newMin - ((capacity - span) >> 1)));
    const next = new Uint32Array(capacity);
    if (this.maxKey >= this.minKey) {
      for (let k = this.minKey; k <= this.maxKey; k++) {
        const c = this.bins[k - this.offset]!;
        if (c === 0) continue;
        next[Math.max(k, newMin) - newOffset]! += c;
      }
    }
    this.bins = next;
    this.offset = newOffset;
    this.minKey = newMin;
    this.maxKey = newMax;
  }

  private collapseBelow(newMin: number): void {
    if (this.maxKey < this.minKey || newMin <= this.minKey) return;
    let moved = 0;
    for (let k = this.minKey; k < newMin; k++) {
      moved += this.bins[k - this.offset]!;
      this.bins[k - this.offset] = 0;
    }
    this.bins[newMin - this.offset]! += moved;
  }
}

const EMPTY = new Uint32Array(0);

/**
 * Growable byte buffer with the few primitives the window codecs need (shared by the sketch and
 * partial codecs; not a public API).
 *
 * @internal
 * @example
 * const w = new ByteWriter(); w.varint(300); w.finish(); // Uint8Array [172, 2]
 */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  length = 0;

  constructor(initialBytes = 256) {
    this.buf = new Uint8Array(Math.max(16, initialBytes));
    this.view = new DataView(this.buf.buffer);
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.reserve(1);
    this.buf[this.length++] = v;
  }

  /** Unsigned LEB128 of a non-negative safe integer (arithmetic, so up to 2^53). */
  varint(v: number): void {
    if (v >= 0 && v < 0x80 && this.length < this.buf.length) {
      this.buf[this.length++] = v; // fast path: most gaps and counts are one byte
      return;
    }
    if (!(v >= 0 && Number.isSafeInteger(v))) throw new WindowError(`varint out of range: ${v}`);
    this.reserve(8);
    while (v >= 0x80) {
      this.buf[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.length++] = v;
  }

  /** Signed integer, zigzag-mapped then LEB128. */
  zigzag(v: number): void {
    this.varint(v < 0 ? -2 * v - 1 : 2 * v);
  }

  f64(v: number): void {
    this.reserve(8);
    this.view.setFloat64(this.length, v, true);
    this.length += 8;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /** The written bytes (a copy sized exactly). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

export function readU8(r: ByteReader): number {
  if (r.offset >= r.bytes.length) throw new WindowError('unexpected end of data');
  return r.bytes[r.offset++]!;
}

export function readVarint(r: ByteReader): number {
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 8; i++) {
    const b = readU8(r);
    result += (b & 0x7f) * mul;
    if (b < 0x80) {
      if (!Number.isSafeInteger(result)) throw new WindowError('varint exceeds 2^53');
      return result;
    }
    mul *= 0x80;
  }
  throw new WindowError('varint too long');
}

export function readZigzag(r: ByteReader): number {
  const v = readVarint(r);
  return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
}

export function readF64(r: ByteReader): number {
  if (r.offset + 8 > r.bytes.length) throw new WindowError('unexpected end of data');
  const v = r.view.getFloat64(r.offset, true);
  r.offset += 8;
  return v;
}

export function readBytes(r: ByteReader, n: number): Uint8Array {
  if (n < 0 || r.offset + n > r.bytes.length) throw new WindowError('unexpected end of data');
  const out = r.bytes.subarray(r.offset, r.offset + n);
  r.offset += n;
  return out;
}
