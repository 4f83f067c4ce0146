/**
 * The detect handler with in-memory doubles: windows are written once the merged watermark passes
 * them (or on flush), a redelivered batch changes nothing, a failed write is retried from the last
 * checkpoint with identical records, and silent series are zero-filled.
 */
import { describe, expect, it } from 'vitest';
import { createDetectHandler, type DetectHandler } from '../../processors/pipeline/detectPipeline.ts';
import { readHandlerConfig } from '../../processors/pipeline/handlerConfig.ts';
import { silentLogger } from '../../processors/pipeline/logger.ts';
import type { LogEvent } from '../../processors/schema.ts';
import { aggregateBatch } from '../../processors/transforms/window/aggregateBatch.ts';
import { chunkPartials } from '../../processors/transforms/window/partialCodec.ts';
import { FakeArchiver, FakeBlobs, FakeSink, kinesisEvent } from './handlerFakes.ts';

const T = 1_800_000_000_000;
const config = readHandlerConfig({ TW_WINDOW_MS: '1000', TW_ALLOWED_LATENESS_MS: '2000' });

function events(services: readonly string[], fromMs: number, toMs: number, stepMs: number): LogEvent[] {
  const out: LogEvent[] = [];
  for (let t = fromMs; t < toMs; t += stepMs) {
    for (const service of services)
      out.push({ timeMs: t, service, level: 'info', message: 'x', durationMs: 10 });
  }
  return out;
}

/** The metrics-stream records stage one makes of `evs` (one logs shard, sequence range first..last). */
function partialRecords(evs: LogEvent[], first: string, last: string): Uint8Array[] {
  const r = aggregateBatch(evs, {
    sourceShard: 'shardId-000000000000',
    firstSequenceNumber: first,
    lastSequenceNumber: last,
    nowMs: T + 3_600_000,
    config: config.window,
  });
  return chunkPartials(r.partials).map((c) => c.data);
}

function setup(
  sink = new FakeSink(),
  blobs = new FakeBlobs(),
  now = () => T + 100_000,
  archiver = new FakeArchiver(),
) {
  const handler: DetectHandler = createDetectHandler({
    config,
    states: blobs.asStore(),
    sink,
    archiver: archiver.asArchiver(),
    logger: silentLogger,
    now,
  });
  return { handler, sink, blobs };
}

const shard = ['shardId-000000000000'];

describe('detect handler', () => {
  it('archives a malformed pipeline-health record as a reject instead of dropping it', async () => {
    // Prepare: the health magic ("TWH" 1) followed by bytes that are not a record.
    const archiver = new FakeArchiver();
    const { handler, sink } = setup(new FakeSink(), new FakeBlobs(), () => T + 100_000, archiver);
    const garbage = new Uint8Array([0x54, 0x57, 0x48, 0x01, 0x7b, 0x6e, 0x6f]);
    const good = partialRecords(events(['a'], T, T + 2_000, 500), '100', '200');
    // Act
    const response = await handler(kinesisEvent([garbage, ...good]));
    await handler({ tidewatch: 'flush', shards: shard });
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(archiver.rejects.map((r) => r.code)).toEqual(['partial_malformed']);
    expect(sink.windowCounts().size).toBe(2);
  });

  it('writes each series·window once the watermark passes it, the rest on flush', async () => {
    // Prepare: 10 s of two services; watermark = 10 s − 2 s lateness.
    const { handler, sink } = setup();
    const batch = kinesisEvent(partialRecords(events(['a', 'b'], T, T + 10_000, 250), '100', '200'));
    // Act
    const response = await handler(batch);
    const closedBeforeFlush = sink.windowCounts().size;
    await handler({ tidewatch: 'flush', shards: shard });
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(closedBeforeFlush).toBe(2 * 7);
    const counts = sink.windowCounts();
    expect(counts.size).toBe(2 * 10);
    expect([...counts.values()].every((n) => n === 4)).toBe(true);
  });

  it('a redelivered batch changes nothing', async () => {
    // Prepare
    const { handler, sink } = setup();
    const batch = kinesisEvent(partialRecords(events(['a'], T, T + 5_000, 100), '100', '200'));
    await handler(batch);
    const before = new Map(sink.windowCounts());
    // Act
    await handler(batch);
    await handler({ tidewatch: 'flush', shards: shard });
    // Assess
    const after = sink.windowCounts();
    for (const [k, v] of before) expect(after.get(k)).toBe(v);
    expect([...after.values()].reduce((a, b) => a + b, 0)).toBe(50);
  });

  it('retries from the last checkpoint when a write fails, and writes identical records', async () => {
    // Prepare
    const failing = setup();
    const clean = setup();
    const batch = kinesisEvent(partialRecords(events(['a', 'b'], T, T + 8_000, 200), '100', '200'));
    failing.sink.failNext = 1;
    // Act
    const failed = await failing.handler(batch);
    const retried = await failing.handler(batch);
    await clean.handler(batch);
    // Assess
    expect(failed).toEqual({
      batchItemFailures: [{ itemIdentifier: batch.Records[0]!.kinesis.sequenceNumber }],
    });
    expect(retried).toEqual({ batchItemFailures: [] });
    const windows = (s: FakeSink) => [...s.rows.values()].filter((r) => r.table === 'windows');
    expect(windows(failing.sink)).toEqual(windows(clean.sink));
  });

  it('restores its state on a cold start: partials already merged are not counted again', async () => {
    // Prepare
    const first = setup();
    const batch = kinesisEvent(partialRecords(events(['a'], T, T + 6_000, 100), '100', '200'));
    await first.handler(batch);
    const second = setup(first.sink, first.blobs);
    // Act: the same batch again (checkpoint lagged), then a partial of the same range, then flush.
    await second.handler(batch);
    await second.handler(
      kinesisEvent(partialRecords(events(['a'], T, T + 6_000, 100), '100', '200'), { firstIndex: 10 }),
    );
    await second.handler({ tidewatch: 'flush', shards: shard });
    // Assess
    expect([...first.sink.windowCounts().values()].reduce((a, b) => a + b, 0)).toBe(60);
  });

  it('zero-fills a series that went silent while others kept the watermark moving', async () => {
    // Prepare: 'a' and 'b' for 5 s, then only 'a' for 10 s more.
    const { handler, sink } = setup();
    const both = events(['a', 'b'], T, T + 5_000, 250);
    const onlyA = events(['a'], T + 5_000, T + 15_000, 250);
    // Act
    await handler(kinesisEvent(partialRecords(both, '100', '200')));
    await handler(kinesisEvent(partialRecords(onlyA, '300', '400'), { firstIndex: 5 }));
    // Assess
    const silent = [...sink.rows.values()].filter(
      (r) => r.dimensions.service === 'b' && r.timeMs >= T + 5_000,
    );
    expect(silent.length).toBeGreaterThan(0);
    expect(silent.every((r) => r.measures.count === 0 && r.version === 0)).toBe(true);
  });
});
