import { DetectError } from './errors.ts';

/**
 * Compact binary checkpoint format for detector state: one header byte per field kind is avoided —
 * the layout is fixed per detector kind and version, so state is just little-endian numbers.
 *
 * Layout: `[magic 0x54 'T'] [kind u8] [version u8] [reserved u8]` then the detector's fields in the
 * order it writes them. float64 is used where a value feeds later arithmetic (so a restored detector
 * produces bit-identical scores); float32 only for large seasonal tables whose values are also stored
 * as float32 in memory (Float32Array), which keeps the round trip exact too.
 */
export const STATE_MAGIC = 0x54;

/**
 * Appends numbers to a growable buffer.
 *
 * @example
 * const w = new StateWriter(1, 1); w.f64(3.5); const bytes = w.finish();
 */
export class StateWriter {
  private buf: ArrayBuffer;
  private view: DataView;
  private pos = 0;

  constructor(kind: number, version: number, initialBytes = 256) {
    this.buf = new ArrayBuffer(initialBytes);
    this.view = new DataView(this.buf);
    this.u8(STATE_MAGIC);
    this.u8(kind);
    this.u8(version);
    this.u8(0);
  }

  private ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.byteLength) return;
    const next = new ArrayBuffer(Math.max(this.buf.byteLength * 2, this.pos + bytes));
    new Uint8Array(next).set(new Uint8Array(this.buf, 0, this.pos));
    this.buf = next;
    this.view = new DataView(next);
  }

  u8(v: number): void {
    this.ensure(1);
    this.view.setUint8(this.pos, v);
    this.pos += 1;
  }

  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }

  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  f64s(values: Float64Array): void {
    this.u32(values.length);
    for (let i = 0; i < values.length; i++) this.f64(values[i]!);
  }

  f32s(values: Float32Array): void {
    this.u32(values.length);
    this.ensure(4 * values.length);
    for (let i = 0; i < values.length; i++) {
      this.view.setFloat32(this.pos, values[i]!, true);
      this.pos += 4;
    }
  }

  finish(): Uint8Array {
    return new Uint8Array(this.buf.slice(0, this.pos));
  }
}

/**
 * Reads what a {@link StateWriter} wrote; throws {@link DetectError} on a wrong kind, version or length.
 *
 * @example
 * const r = new StateReader(bytes, 1, 1); const x = r.f64();
 */
export class StateReader {
  private readonly view: DataView;
  private pos = 0;

  constructor(bytes: Uint8Array, kind: number, version: number) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.byteLength < 4 || this.u8() !== STATE_MAGIC) {
      throw new DetectError('detector state is not a tidewatch checkpoint (bad magic byte)');
    }
    const k = this.u8();
    const v = this.u8();
    this.u8();
    if (k !== kind || v !== version) {
      throw new DetectError(
        `detector state is kind ${k} version ${v}, expected kind ${kind} version ${version}; discard the checkpoint and start fresh`,
      );
    }
  }

  private need(bytes: number): void {
    if (this.pos + bytes > this.view.byteLength) {
      throw new DetectError('detector state is truncated; discard the checkpoint and start fresh');
    }
  }

  u8(): number {
    this.need(1);
    return this.view.getUint8(this.pos++);
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  f64s(expectedLength: number): Float64Array<ArrayBuffer> {
    const n = this.u32();
    if (n !== expectedLength)
      throw new DetectError(`detector state array has ${n} items, expected ${expectedLength}`);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = this.f64();
    return out;
  }

  f32s(expectedLength: number): Float32Array<ArrayBuffer> {
    const n = this.u32();
    if (n !== expectedLength)
      throw new DetectError(`detector state array has ${n} items, expected ${expectedLength}`);
    this.need(4 * n);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = this.view.getFloat32(this.pos, true);
      this.pos += 4;
    }
    return out;
  }
}
