/**
 * Partial window summaries as an Apache Arrow IPC stream (one row per partial, sketches in a
 * Binary column, one column per rule: `rule_count:<name>`, `rule_sum:<name>`,
 * `rule_sketch:<name>`). This is the columnar alternative to the TWP1 wire format: used for
 * export and analysis of many series at once, and measured against TWP1 in
 * `bench/windows.bench.ts` — per-series metrics records are ~10× smaller in TWP1, which is why the
 * metrics stream carries TWP1 (see partialCodec.ts).
 */
import {
  Binary,
  Float64,
  Int32,
  Table,
  tableFromIPC,
  tableToIPC,
  Uint32,
  Utf8,
  type Vector,
  vectorFromArray,
} from 'apache-arrow';
import { type Outcome, RejectCode } from '../../schema.ts';
import type { RuleAggregate, WindowPartial } from './aggregateBatch.ts';
import { PartialCodecError } from './errors.ts';
import { isSequenceNumber } from './sequenceNumber.ts';
import { seriesKey } from './seriesKey.ts';
import { QuantileSketch } from './sketch.ts';

const RULE_PREFIX = { count: 'rule_count:', sum: 'rule_sum:', sketch: 'rule_sketch:' } as const;

/**
 * Encodes partials as one Arrow IPC stream (schema + one record batch).
 *
 * @example
 * const ipc = encodePartialsArrow(partials); // readable by pyarrow, DuckDB, arrow-js
 */
export function encodePartialsArrow(partials: readonly WindowPartial[]): Uint8Array {
  const ruleCols = new Map<string, { kind: RuleAggregate['kind']; values: (number | Uint8Array | null)[] }>();
  partials.forEach((p, row) => {
    for (const r of p.rules) {
      const col = `${RULE_PREFIX[r.kind]}${r.name}`;
      let c = ruleCols.get(col);
      if (c === undefined) {
        c = { kind: r.kind, values: new Array(partials.length).fill(null) };
        ruleCols.set(col, c);
      }
      c.values[row] = r.kind === 'sketch' ? (r.sketch ?? new QuantileSketch()).encode() : r.value;
    }
  });
  const cols: Record<string, Vector> = {
    service: vectorFromArray(
      partials.map((p) => p.dimensions.service),
      new Utf8(),
    ),
    route: vectorFromArray(
      partials.map((p) => p.dimensions.route ?? null),
      new Utf8(),
    ),
    status_class: vectorFromArray(
      partials.map((p) => p.dimensions.statusClass ?? null),
      new Utf8(),
    ),
    window_start_ms: vectorFromArray(Float64Array.from(partials, (p) => p.windowStartMs)),
    window_ms: vectorFromArray(
      partials.map((p) => p.windowMs),
      new Int32(),
    ),
    source_shard: vectorFromArray(
      partials.map((p) => p.sourceShard),
      new Utf8(),
    ),
    first_sequence_number: vectorFromArray(
      partials.map((p) => p.firstSequenceNumber),
      new Utf8(),
    ),
    last_sequence_number: vectorFromArray(
      partials.map((p) => p.lastSequenceNumber),
      new Utf8(),
    ),
    source_watermark_ms: vectorFromArray(Float64Array.from(partials, (p) => p.sourceWatermarkMs)),
    count: vectorFromArray(
      partials.map((p) => p.count),
      new Uint32(),
    ),
    errors: vectorFromArray(
      partials.map((p) => p.errors),
      new Uint32(),
    ),
    status_4xx: vectorFromArray(
      partials.map((p) => p.status4xx),
      new Uint32(),
    ),
    status_5xx: vectorFromArray(
      partials.map((p) => p.status5xx),
      new Uint32(),
    ),
    bytes: vectorFromArray(Float64Array.from(partials, (p) => p.bytes)),
    latency_sketch: vectorFromArray(
      partials.map((p) => p.latency.encode()),
      new Binary(),
    ),
  };
  for (const [name, c] of ruleCols) {
    cols[name] =
      c.kind === 'sketch'
        ? vectorFromArray(c.values, new Binary())
        : vectorFromArray(c.values, new Float64());
  }
  return tableToIPC(new Table(cols), 'stream');
}

/**
 * Decodes `encodePartialsArrow` output. Never throws.
 *
 * @example
 * const outcome = decodePartialsArrow(ipc);
 */
export function decodePartialsArrow(bytes: Uint8Array): Outcome<WindowPartial[]> {
  try {
    const t = tableFromIPC(bytes);
    const col = (name: string) => {
      const c = t.getChild(name);
      if (c === null) throw new PartialCodecError(`missing column ${name}`);
      return c;
    };
    const service = col('service');
    const route = col('route');
    const sc = col('status_class');
    const start = col('window_start_ms');
    const size = col('window_ms');
    const shard = col('source_shard');
    const first = col('first_sequence_number');
    const last = col('last_sequence_number');
    const wm = col('source_watermark_ms');
    const count = col('count');
    const errors = col('errors');
    const s4 = col('status_4xx');
    const s5 = col('status_5xx');
    const bytesCol = col('bytes');
    const lat = col('latency_sketch');
    const rules = t.schema.fields
      .filter((f) => f.name.startsWith('rule_'))
      .map((f) => {
        const i = f.name.indexOf(':');
        return {
          kind: f.name.slice(5, i) as RuleAggregate['kind'],
          name: f.name.slice(i + 1),
          vec: col(f.name),
        };
      });
    const out: WindowPartial[] = [];
    for (let i = 0; i < t.numRows; i++) {
      const dims: { service: string; route?: string; statusClass?: string } = {
        service: String(service.get(i)),
      };
      const r = route.get(i);
      if (r !== null) dims.route = String(r);
      const s = sc.get(i);
      if (s !== null) dims.statusClass = String(s);
      const f = String(first.get(i));
      const l = String(last.get(i));
      if (!isSequenceNumber(f) || !isSequenceNumber(l))
        throw new PartialCodecError('malformed sequence number');
      const ruleAggs: RuleAggregate[] = [];
      for (const rc of rules) {
        const v = rc.vec.get(i);
        if (v === null) continue;
        if (rc.kind === 'sketch') {
          const sketch = QuantileSketch.decode(v as Uint8Array);
          ruleAggs.push({ name: rc.name, kind: 'sketch', value: sketch.count, sketch });
        } else ruleAggs.push({ name: rc.name, kind: rc.kind, value: Number(v) });
      }
      out.push({
        seriesKey: seriesKey(dims),
        dimensions: dims,
        windowStartMs: Number(start.get(i)),
        windowMs: Number(size.get(i)),
        sourceShard: String(shard.get(i)),
        firstSequenceNumber: f,
        lastSequenceNumber: l,
        sourceWatermarkMs: Number(wm.get(i)),
        count: Number(count.get(i)),
        errors: Number(errors.get(i)),
        status4xx: Number(s4.get(i)),
        status5xx: Number(s5.get(i)),
        bytes: Number(bytesCol.get(i)),
        latency: QuantileSketch.decode(lat.get(i) as Uint8Array),
        rules: ruleAggs,
      });
    }
    return { kind: 'ok', value: out };
  } catch (err) {
    return { kind: 'reject', code: RejectCode.partialMalformed, detail: (err as Error).message };
  }
}
