/**
 * The detect handler's checkpoint (head → snapshot + batch logs): for any traffic, a handler that
 * cold-starts from the state store before every batch writes exactly the records of one that never
 * restarts — whether the previous invocation wrote a snapshot or only a batch log — and a failed
 * checkpoint put leaves a state that redelivery turns into the same records.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDetectHandler } from '../../processors/pipeline/detectPipeline.ts';
import { readHandlerConfig } from '../../processors/pipeline/handlerConfig.ts';
import { silentLogger } from '../../processors/pipeline/logger.ts';
import type { LogEvent } from '../../processors/schema.ts';
import { aggregateBatch, StageOneState } from '../../processors/transforms/window/aggregateBatch.ts';
import { chunkPartials } from '../../processors/transforms/window/partialCodec.ts';
import { FakeArchiver, FakeBlobs, FakeSink, kinesisEvent } from './handlerFakes.ts';

const T = 1_800_000_000_000;
const config = readHandlerConfig({ TW_WINDOW_MS: '1000', TW_ALLOWED_LATENESS_MS: '2000' });

const batchArb = fc.record({
  shard: fc.integer({ min: 0, max: 1 }),
  /** Event-time advance in 100 ms steps: mostly less than a window, so many batches only merge. */
  advance: fc.integer({ min: 0, max: 12 }),
  services: fc.subarray(['checkout', 'search', 'auth', 'cart'], { minLength: 1 }),
  error: fc.boolean(),
  failCheckpoint: fc.boolean(),
});

type Batch = typeof batchArb extends fc.Arbitrary<infer R> ? R : never;

/** Metrics-stream events for the batches: stage one of two logs shards, sequence numbers increasing. */
function metricsEvents(batches: readonly Batch[]) {
  const stageOne = [StageOneState.initial(), StageOneState.initial()];
  const logsSeq = [0, 0];
  let t = T;
  let index = 0;
  return batches.map((b) => {
    t += b.advance * 100;
    const events: LogEvent[] = b.services.map((service) => ({
      timeMs: t,
      service,
      level: b.error ? 'error' : 'info',
      message: 'x',
      durationMs: 5 + b.advance,
    }));
    const first = 1_000 + logsSeq[b.shard]!;
    logsSeq[b.shard]! += 10;
    const r = aggregateBatch(events, {
      sourceShard: `shardId-00000000000${b.shard}`,
      firstSequenceNumber: `${first}`,
      lastSequenceNumber: `${first + 9}`,
      nowMs: t + 500,
      config: config.window,
      state: stageOne[b.shard]!,
    });
    stageOne[b.shard] = r.state;
    const datas = chunkPartials(r.partials).map((c) => c.data);
    const event = kinesisEvent(datas, { firstIndex: index, arrivalMs: t });
    index += datas.length;
    return { event, nowMs: t + 500 };
  });
}

function handler(blobs: FakeBlobs, sink: FakeSink, clock: { nowMs: number }) {
  return createDetectHandler({
    config,
    states: blobs.asStore(),
    sink,
    archiver: new FakeArchiver().asArchiver(),
    logger: silentLogger,
    now: () => clock.nowMs,
  });
}

const windowRows = (sink: FakeSink) => sink.writes.map((w) => w.filter((r) => r.table === 'windows'));

describe('detect handler checkpoint (snapshot + batch logs)', () => {
  it('a cold start before every batch writes the records of a handler that never restarts', async () => {
    let logsSeen = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(batchArb, { minLength: 1, maxLength: 30 }), async (batches) => {
        // Prepare
        const events = metricsEvents(batches);
        const warmClock = { nowMs: T };
        const coldClock = { nowMs: T };
        const warmSink = new FakeSink();
        const coldSink = new FakeSink();
        const warmBlobs = new FakeBlobs();
        const coldBlobs = new FakeBlobs();
        const warm = handler(warmBlobs, warmSink, warmClock);
        // Act
        for (const [i, e] of events.entries()) {
          warmClock.nowMs = e.nowMs;
          coldClock.nowMs = e.nowMs;
          await warm(e.event);
          if (batches[i]!.failCheckpoint) coldBlobs.failSaves = 1;
          const cold = handler(coldBlobs, coldSink, coldClock);
          const res = await cold(e.event);
          // A failed checkpoint: Lambda redelivers the batch (to a new container here).
          if (res.batchItemFailures.length > 0) await handler(coldBlobs, coldSink, coldClock)(e.event);
          logsSeen += [...coldBlobs.items.keys()].filter((k) => k.startsWith('detect-log#')).length;
        }
        await warm({ tidewatch: 'flush', shards: ['shardId-000000000000'] });
        await handler(
          coldBlobs,
          coldSink,
          coldClock,
        )({ tidewatch: 'flush', shards: ['shardId-000000000000'] });
        // Assess: same rows (upserted by version), and the same writes apart from the retried ones.
        expect([...coldSink.rows.values()]).toEqual([...warmSink.rows.values()]);
        const coldWrites = windowRows(coldSink).filter((w) => w.length > 0);
        const warmWrites = windowRows(warmSink).filter((w) => w.length > 0);
        expect(new Set(coldWrites.map((w) => JSON.stringify(w)))).toEqual(
          new Set(warmWrites.map((w) => JSON.stringify(w))),
        );
        // Garbage: only the current snapshot and its logs remain.
        const snapshots = [...coldBlobs.items.keys()].filter((k) => k.startsWith('detect-snapshot#'));
        expect(snapshots.length).toBeLessThanOrEqual(1);
      }),
      { numRuns: 40 },
    );
    // The logs path was exercised, not only snapshots.
    expect(logsSeen).toBeGreaterThan(0);
  });

  it('writes what a log replay closes when the configuration changed since the log was written', async () => {
    // Prepare: shard 0 reports a window, then shard 1 reports 5 s later: with a 60 s idle timeout both
    // sources hold the watermark back, so the second invocation only merges and is logged.
    const evs = (service: string, timeMs: number): LogEvent[] => [
      { timeMs, service, level: 'info', message: 'x', durationMs: 3 },
    ];
    const stage = (shard: number, timeMs: number, first: number) => {
      const r = aggregateBatch(evs('a', timeMs), {
        sourceShard: `shardId-00000000000${shard}`,
        firstSequenceNumber: `${first}`,
        lastSequenceNumber: `${first + 1}`,
        nowMs: timeMs,
        config: config.window,
      });
      return chunkPartials(r.partials).map((c) => c.data);
    };
    const blobs = new FakeBlobs();
    const clock = { nowMs: T + 1_000 };
    const writer = handler(blobs, new FakeSink(), clock);
    await writer(kinesisEvent(stage(0, T + 100, 100)));
    clock.nowMs = T + 3_000;
    await writer(kinesisEvent(stage(1, T + 5_000, 200), { firstIndex: 10 }));
    const logs = [...blobs.items.keys()].filter((k) => k.startsWith('detect-log#'));
    // Act: a cold start with a 1 s idle timeout: replaying the log, shard 0 is idle, so the watermark
    // passes the first window. The sink fails once: the retry must write the window all the same.
    const changed = readHandlerConfig({
      TW_WINDOW_MS: '1000',
      TW_ALLOWED_LATENESS_MS: '2000',
      TW_IDLE_SOURCE_TIMEOUT_MS: '1000',
    });
    const sink = new FakeSink();
    sink.failNext = 1;
    const restarted = createDetectHandler({
      config: changed,
      states: blobs.asStore(),
      sink,
      archiver: new FakeArchiver().asArchiver(),
      logger: silentLogger,
      now: () => T + 3_000,
    });
    const failed = await restarted({ tidewatch: 'tick', shards: ['shardId-000000000000'] });
    const retried = await restarted({ tidewatch: 'tick', shards: ['shardId-000000000000'] });
    const again = await restarted({ tidewatch: 'tick', shards: ['shardId-000000000000'] });
    // Assess
    expect(logs.length).toBe(1);
    expect(failed.failed).toEqual(['shardId-000000000000']);
    expect(retried.windowsWritten).toBeGreaterThanOrEqual(1);
    expect(sink.windowCounts().get(`a|${T}`)).toBe(1);
    expect(again.windowsWritten).toBe(0);
  });
});
