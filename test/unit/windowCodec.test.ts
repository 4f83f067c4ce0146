import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../../processors/schema.ts';
import { aggregateBatch } from '../../processors/transforms/window/aggregateBatch.ts';
import { decodePartialsArrow, encodePartialsArrow } from '../../processors/transforms/window/partialArrow.ts';
import {
  chunkPartials,
  decodePartials,
  encodePartials,
} from '../../processors/transforms/window/partialCodec.ts';
import { partitionKeyForSeries } from '../../processors/transforms/window/seriesKey.ts';
import { defaultWindowConfig } from '../../processors/transforms/window/windowConfig.ts';

const T0 = 1_700_000_000_000;
const SEQ1 = '49590338271490256608559692538361571095921575989136588898';
const SEQ2 = '49590338271490256608559692538361571095921575989136599999';

function batch(
  n: number,
  services = 3,
  config = defaultWindowConfig({ dimensions: ['route', 'status_class'] }),
) {
  const events: LogEvent[] = [];
  for (let i = 0; i < n; i++) {
    events.push({
      timeMs: T0 + ((i * 7919) % 30_000),
      service: `svc-${i % services}`,
      level: i % 17 === 0 ? 'error' : 'info',
      message: 'GET /x',
      status: [200, 200, 200, 404, 503][i % 5]!,
      durationMs: 5 + ((i * 31) % 400),
      route: ['/a', '/b', '/c|d=e%'][i % 3]!,
    });
  }
  return aggregateBatch(events, {
    sourceShard: 'shardId-000000000007',
    firstSequenceNumber: SEQ1,
    lastSequenceNumber: SEQ2,
    nowMs: T0 + 60_000,
    config,
  });
}

describe('partial codec', () => {
  it('round-trips every field, including 56-digit sequence numbers and escaped dimension values', () => {
    // Prepare
    const { partials } = batch(500);
    // Act
    const back = decodePartials(encodePartials(partials));
    // Assess
    expect(back.kind).toBe('ok');
    if (back.kind !== 'ok') return;
    expect(back.value).toHaveLength(partials.length);
    back.value.forEach((b, i) => {
      const p = partials[i]!;
      const { latency: bl, ...bRest } = b;
      const { latency: pl, ...pRest } = p;
      expect(bRest).toEqual(pRest);
      expect([bl.count, bl.sum, bl.min, bl.max, bl.quantile(0.99)]).toEqual([
        pl.count,
        pl.sum,
        pl.min,
        pl.max,
        pl.quantile(0.99),
      ]);
    });
  });

  it('is deterministic: the same batch encodes to the same bytes', () => {
    const a = chunkPartials(batch(300).partials);
    const b = chunkPartials(batch(300).partials);
    expect(a.map((c) => [c.partitionKey, Buffer.from(c.data).toString('hex')])).toEqual(
      b.map((c) => [c.partitionKey, Buffer.from(c.data).toString('hex')]),
    );
  });

  it('chunks by series under the byte budget, with the series key as partition key', () => {
    // Prepare
    const { partials } = batch(2_000, 2);
    // Act
    const chunks = chunkPartials(partials, { maxRecordBytes: 600 });
    // Assess
    for (const c of chunks) {
      expect(c.data.length + Buffer.byteLength(c.partitionKey)).toBeLessThanOrEqual(600);
      expect(c.partitionKey).toBe(partitionKeyForSeries(c.seriesKey));
      const d = decodePartials(c.data);
      if (d.kind !== 'ok') throw new Error('decode');
      for (const p of d.value) expect(p.seriesKey).toBe(c.seriesKey);
    }
    expect(chunks.reduce((n, c) => n + c.partialCount, 0)).toBe(partials.length);
  });

  it('keeps a whole batch at a few hundred bytes per series', () => {
    // Prepare: 10,000 events over 20 services, one 10 s window
    const config = defaultWindowConfig();
    const events: LogEvent[] = Array.from({ length: 10_000 }, (_, i) => ({
      timeMs: T0 + (i % 10_000),
      service: `svc-${i % 20}`,
      level: 'info',
      message: '',
      status: 200,
      durationMs: 20 + ((i * 7) % 300),
    }));
    const r = aggregateBatch(events, {
      sourceShard: 's',
      firstSequenceNumber: SEQ1,
      lastSequenceNumber: SEQ2,
      nowMs: T0 + 60_000,
      config,
    });
    // Act
    const chunks = chunkPartials(r.partials);
    // Assess
    const perSeries = chunks.reduce((n, c) => n + c.data.length, 0) / 20;
    expect(perSeries).toBeLessThan(800);
  });

  it('shortens partition keys beyond 256 characters deterministically', () => {
    const long = `svc|route=/${'x'.repeat(400)}`;
    const k = partitionKeyForSeries(long);
    expect(k.length).toBeLessThanOrEqual(256);
    expect(partitionKeyForSeries(long)).toBe(k);
    expect(partitionKeyForSeries(`${long}y`)).not.toBe(k);
  });

  it('never throws on malformed bytes: reject partial_malformed', () => {
    const good = encodePartials(batch(50).partials);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.nat({ max: 255 }), (junk, at, byte) => {
        const flipped = good.slice();
        flipped[at % flipped.length] = byte;
        for (const input of [junk, flipped, good.subarray(0, at % good.length)]) {
          const out = decodePartials(input);
          if (out.kind === 'reject') expect(out.code).toBe('partial_malformed');
          else expect(out.kind).toBe('ok');
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('Arrow IPC form of partials', () => {
  it('round-trips the same partials as the wire format', () => {
    // Prepare
    const config = defaultWindowConfig({
      dimensions: ['route'],
      rules: [
        { name: 'n404', kind: 'count', where: [{ field: 'status', equals: 404 }] },
        { name: 'lat', kind: 'sketch', field: 'durationMs' },
      ],
    });
    const { partials } = batch(400, 3, config);
    // Act
    const back = decodePartialsArrow(encodePartialsArrow(partials));
    // Assess
    expect(back.kind).toBe('ok');
    if (back.kind !== 'ok') return;
    const wire = decodePartials(encodePartials(partials));
    if (wire.kind !== 'ok') throw new Error('decode');
    expect(back.value.map((p) => Buffer.from(encodePartials([p])).toString('hex'))).toEqual(
      wire.value.map((p) => Buffer.from(encodePartials([p])).toString('hex')),
    );
  });

  it('rejects bytes that are not Arrow IPC', () => {
    expect(decodePartialsArrow(new Uint8Array([1, 2, 3]))).toMatchObject({
      kind: 'reject',
      code: 'partial_malformed',
    });
  });
});

describe('partial codec text', () => {
  it('round-trips non-ASCII and long dimension values', () => {
    const config = defaultWindowConfig({ dimensions: ['route'] });
    const events: LogEvent[] = ['/grüße', '/日本', `/${'x'.repeat(300)}`].map((route) => ({
      timeMs: T0,
      service: 'café',
      level: 'info',
      message: '',
      route,
    }));
    const r = aggregateBatch(events, {
      sourceShard: 's',
      firstSequenceNumber: '1',
      lastSequenceNumber: '1',
      nowMs: T0,
      config,
    });
    const back = decodePartials(encodePartials(r.partials));
    if (back.kind !== 'ok') throw new Error('decode');
    expect(back.value.map((p) => p.dimensions)).toEqual(r.partials.map((p) => p.dimensions));
  });
});
