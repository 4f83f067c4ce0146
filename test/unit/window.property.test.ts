import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../../processors/schema.ts';
import {
  aggregateBatch,
  StageOneState,
  type WindowPartial,
} from '../../processors/transforms/window/aggregateBatch.ts';
import { assignWindows, windowStartMs } from '../../processors/transforms/window/assignWindows.ts';
import { type ClosedWindow, WindowMerger } from '../../processors/transforms/window/mergePartials.ts';
import { chunkPartials, decodePartials } from '../../processors/transforms/window/partialCodec.ts';
import { referenceAggregate, referenceKey } from '../../processors/transforms/window/referenceAggregate.ts';
import { defaultWindowConfig } from '../../processors/transforms/window/windowConfig.ts';

const T0 = 1_700_000_000_000;

function roundTrip(partials: WindowPartial[]): WindowPartial[] {
  return chunkPartials(partials).flatMap((c) => {
    const d = decodePartials(c.data);
    if (d.kind !== 'ok') throw new Error('decode');
    return d.value;
  });
}

describe('window assignment', () => {
  it('puts every event in exactly one tumbling window that contains it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -4_000_000_000_000, max: 4_000_000_000_000 }),
        fc.integer({ min: 1_000, max: 900_000 }),
        (t, windowMs) => {
          const starts: number[] = [];
          const n = assignWindows(t, { windowMs }, starts);
          expect(n).toBe(1);
          expect(starts[0]).toBe(windowStartMs(t, windowMs));
          expect(starts[0]! <= t && t < starts[0]! + windowMs).toBe(true);
          expect(Math.abs(starts[0]! % windowMs)).toBe(0);
        },
      ),
    );
  });

  it('puts every event in windowMs / slideMs hopping windows, each containing it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_000_000_000_000 }),
        fc.integer({ min: 1_000, max: 60_000 }),
        fc.integer({ min: 1, max: 12 }),
        (t, slideMs, k) => {
          const starts: number[] = [];
          const n = assignWindows(t, { windowMs: slideMs * k, slideMs }, starts);
          expect(n).toBe(k);
          for (const s of starts.slice(0, n))
            expect(s <= t && t < s + slideMs * k && s % slideMs === 0).toBe(true);
          expect(new Set(starts.slice(0, n)).size).toBe(k);
        },
      ),
    );
  });

  it('counts every accepted event once over all tumbling windows of a batch', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 600_000 }), { maxLength: 200 }), (offsets) => {
        const events: LogEvent[] = offsets.map((o) => ({
          timeMs: T0 + o,
          service: 's',
          level: 'info',
          message: '',
        }));
        const config = defaultWindowConfig({ allowedLatenessMs: 3_600_000 });
        const r = aggregateBatch(events, {
          sourceShard: 'a',
          firstSequenceNumber: '1',
          lastSequenceNumber: '2',
          nowMs: T0 + 3_600_000,
          config,
        });
        expect(r.partials.reduce((n, p) => n + p.count, 0)).toBe(events.length);
        expect(new Set(r.partials.map((p) => p.windowStartMs)).size).toBe(r.partials.length);
      }),
    );
  });
});

describe('streaming with watermarks', () => {
  it('yields identical windows for a constant stream, whatever the sharding and batching', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            at: fc.integer({ min: 0, max: 9_999 }),
            status: fc.constantFrom(200, 404, 500),
            durationMs: fc.integer({ min: 1, max: 2_000 }),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 30 }),
        (pattern, shards, batchSize) => {
          // Prepare: the same pattern in each of 12 windows, event-time ordered per shard
          const config = defaultWindowConfig({ allowedLatenessMs: 5_000 });
          const events: LogEvent[] = [];
          for (let w = 0; w < 12; w++) {
            for (const p of pattern) {
              events.push({
                timeMs: T0 + w * 10_000 + p.at,
                service: 'api',
                level: 'info',
                message: 'x',
                status: p.status,
                durationMs: p.durationMs,
              });
            }
          }
          events.sort((a, b) => a.timeMs - b.timeMs);
          const merger = new WindowMerger(config);
          const windows: ClosedWindow[] = [];
          const states = Array.from({ length: shards }, () => StageOneState.initial());
          // Act: shards take events round-robin; each batch is merged as it is produced
          for (let i = 0, seq = 1; i < events.length; i += batchSize * shards) {
            const nowMs = events[Math.min(events.length, i + batchSize * shards) - 1]!.timeMs;
            const produced: WindowPartial[] = [];
            for (let s = 0; s < shards; s++) {
              const mine = events.slice(i, i + batchSize * shards).filter((_, j) => j % shards === s);
              if (mine.length === 0) continue;
              const r = aggregateBatch(mine, {
                sourceShard: `shard-${s}`,
                firstSequenceNumber: String(seq),
                lastSequenceNumber: String(seq + mine.length - 1),
                nowMs,
                config,
                state: states[s]!,
              });
              seq += mine.length;
              states[s] = r.state;
              expect(r.late).toEqual([]);
              produced.push(...roundTrip(r.partials));
            }
            const out = merger.merge(produced, nowMs);
            expect(out.corrections).toEqual([]);
            windows.push(...out.closed);
          }
          windows.push(...merger.flush(events.at(-1)!.timeMs).closed);
          // Assess
          expect(windows).toHaveLength(12);
          const first = windows[0]!.measures;
          for (const w of windows) expect(w.measures).toEqual(first);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('never loses or double counts an event: windows + late at either stage = input', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            arrive: fc.integer({ min: 0, max: 180_000 }),
            delay: fc.integer({ min: 0, max: 60_000 }),
            shard: fc.nat({ max: 2 }),
          }),
          {
            minLength: 1,
            maxLength: 150,
          },
        ),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 0, max: 20_000 }),
        (raw, batchSize, closedRetentionMs) => {
          // Prepare: events arrive in order, carrying event times up to 60 s old (lateness is 10 s)
          const config = defaultWindowConfig({
            allowedLatenessMs: 10_000,
            closedRetentionMs,
            idleSourceTimeoutMs: 5_000,
          });
          const arrivals = [...raw].sort((a, b) => a.arrive - b.arrive);
          const events = arrivals.map((a) => ({
            shard: a.shard,
            arriveMs: T0 + a.arrive,
            e: { timeMs: T0 + a.arrive - a.delay, service: 'api', level: 'info', message: 'm' } as LogEvent,
          }));
          const merger = new WindowMerger(config);
          const table = new Map<string, ClosedWindow>();
          const states = [StageOneState.initial(), StageOneState.initial(), StageOneState.initial()];
          let stageOneLate = 0;
          let stageTwoLate = 0;
          // Act
          for (let i = 0, seq = 1; i < events.length; i += batchSize) {
            const slice = events.slice(i, i + batchSize);
            const nowMs = slice.at(-1)!.arriveMs;
            const produced: WindowPartial[] = [];
            for (let s = 0; s < 3; s++) {
              const mine = slice.filter((x) => x.shard === s).map((x) => x.e);
              if (mine.length === 0) continue;
              const r = aggregateBatch(mine, {
                sourceShard: `shard-${s}`,
                firstSequenceNumber: String(seq),
                lastSequenceNumber: String(seq + mine.length),
                nowMs,
                config,
                state: states[s]!,
              });
              seq += mine.length + 1;
              states[s] = r.state;
              stageOneLate += r.late.length;
              produced.push(...roundTrip(r.partials));
            }
            const out = merger.merge(produced, nowMs);
            stageTwoLate += out.stats.lateEvents;
            expect(out.stats.conflicts + out.stats.duplicates).toBe(0);
            for (const w of [...out.closed, ...out.corrections]) {
              const k = referenceKey(w.seriesKey, w.windowStartMs);
              const prev = table.get(k);
              expect(prev === undefined || w.version > prev.version).toBe(true);
              table.set(k, w);
            }
          }
          for (const w of merger.flush(T0 + 10_000_000).closed) {
            expect(table.has(referenceKey(w.seriesKey, w.windowStartMs))).toBe(false);
            table.set(referenceKey(w.seriesKey, w.windowStartMs), w);
          }
          // Assess
          const merged = [...table.values()].reduce((n, w) => n + w.measures.count!, 0);
          expect(merged + stageOneLate + stageTwoLate).toBe(events.length);
          const ref = referenceAggregate(
            events.map((x) => x.e),
            config,
          );
          for (const [k, w] of table) expect(w.measures.count!).toBeLessThanOrEqual(ref.get(k)!.count);
        },
      ),
      { numRuns: 150 },
    );
  });
});
