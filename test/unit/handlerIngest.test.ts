/**
 * The ingest handler's delivery contract (DESIGN.md §3), with in-memory doubles: only retry parents are
 * reported, partials cover the prefix before the first of them, and a redelivered batch — same, longer,
 * shorter or after a cold start — never makes stage two count an event twice or drop one.
 */
import { describe, expect, it } from 'vitest';
import { readHandlerConfig } from '../../processors/pipeline/handlerConfig.ts';
import { isHealthRecord } from '../../processors/pipeline/healthRecord.ts';
import { createIngestHandler } from '../../processors/pipeline/ingestPipeline.ts';
import { silentLogger } from '../../processors/pipeline/logger.ts';
import type { MetricsRecord } from '../../processors/pipeline/partialsPublisher.ts';
import type { WindowPartial } from '../../processors/transforms/window/aggregateBatch.ts';
import { WindowMerger } from '../../processors/transforms/window/mergePartials.ts';
import { decodePartials } from '../../processors/transforms/window/partialCodec.ts';
import { FakeArchiver, FakeBlobs, FakePublisher, kinesisEvent } from './handlerFakes.ts';

const T = 1_800_000_000_000;
const config = readHandlerConfig({ TW_WINDOW_MS: '1000', TW_ALLOWED_LATENESS_MS: '60000' });

function line(i: number, text = 'ok'): string {
  return JSON.stringify({
    time: T + i * 300,
    service: i % 2 === 0 ? 'a' : 'b',
    level: 'info',
    msg: `${text} ${i}`,
  });
}

function lines(from: number, to: number): string[] {
  const out: string[] = [];
  for (let i = from; i <= to; i++) out.push(line(i));
  return out;
}

function setup(blobs = new FakeBlobs()) {
  const archiver = new FakeArchiver();
  const publisher = new FakePublisher();
  const handler = createIngestHandler({
    config,
    archiver: archiver.asArchiver(),
    publisher: publisher.asPublisher(),
    cursors: blobs.asStore(),
    logger: silentLogger,
  });
  return { handler, archiver, publisher, blobs };
}

function partialsOf(records: readonly MetricsRecord[]): WindowPartial[] {
  const out: WindowPartial[] = [];
  for (const r of records) {
    if (isHealthRecord(r.data)) continue;
    const d = decodePartials(r.data);
    if (d.kind !== 'ok') throw new Error('undecodable partial');
    out.push(...d.value);
  }
  return out;
}

/** Stage two over everything published, in order: the events it counts. */
function mergedEvents(...published: MetricsRecord[][]): number {
  const merger = new WindowMerger(config.window);
  for (const batch of published) merger.add(partialsOf(batch), T);
  return merger.flush(T).closed.reduce((n, w) => n + (w.measures.count ?? 0), 0);
}

const seq = (event: ReturnType<typeof kinesisEvent>, i: number) => event.Records[i]!.kinesis.sequenceNumber;

describe('ingest handler', () => {
  it('archives every line and sends partials covering the whole batch, plus one health record', async () => {
    // Prepare
    const { handler, archiver, publisher } = setup();
    const event = kinesisEvent(lines(0, 4));
    // Act
    const response = await handler(event);
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(archiver.lines).toHaveLength(5);
    const partials = partialsOf(publisher.all());
    expect(
      partials.every(
        (p) => p.firstSequenceNumber === seq(event, 0) && p.lastSequenceNumber === seq(event, 4),
      ),
    ).toBe(true);
    expect(partials.reduce((n, p) => n + p.count, 0)).toBe(5);
    expect(publisher.all().filter((r) => isHealthRecord(r.data))).toHaveLength(1);
  });

  it('archives rejects with their code and counts them, without failing the batch', async () => {
    // Prepare
    const { handler, archiver } = setup();
    // Act
    const response = await handler(kinesisEvent([line(0), '{"broken', line(1)]));
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(archiver.rejects.map((r) => r.code)).toEqual(['invalid_json']);
  });

  it('reports only the retry parents and emits partials for the prefix before the first of them', async () => {
    // Prepare
    const { handler, archiver, publisher } = setup();
    archiver.failing = 'fail';
    const event = kinesisEvent([line(0), line(1), line(2, 'fail'), line(3), line(4, 'fail')]);
    // Act
    const response = await handler(event);
    // Assess
    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: seq(event, 2) }, { itemIdentifier: seq(event, 4) }],
    });
    const partials = partialsOf(publisher.all());
    expect(partials.every((p) => p.lastSequenceNumber === seq(event, 1))).toBe(true);
    expect(partials.reduce((n, p) => n + p.count, 0)).toBe(2);
  });

  it('replays a range whose partials were not delivered: identical bytes, not archived again', async () => {
    // Prepare
    const { handler, archiver, publisher } = setup();
    const clean = setup();
    const event = kinesisEvent(lines(0, 5));
    publisher.failNext = 1;
    // Act
    const failed = await handler(event);
    const retried = await handler(event);
    await clean.handler(event);
    // Assess
    expect(failed).toEqual({ batchItemFailures: [{ itemIdentifier: seq(event, 0) }] });
    expect(retried).toEqual({ batchItemFailures: [] });
    expect(archiver.calls).toBe(1);
    const data = (p: FakePublisher) =>
      p
        .all()
        .filter((r) => !isHealthRecord(r.data))
        .map((r) => Buffer.from(r.data).toString('hex'));
    expect(data(publisher)).toEqual(data(clean.publisher));
  });

  it('after a cold start, acknowledges records before the stored intent and replays the intent', async () => {
    // Prepare: the first container finishes 0–4, then dies before delivering 5–9; Lambda's checkpoint lagged.
    const first = setup();
    await first.handler(kinesisEvent(lines(0, 4)));
    first.publisher.failNext = 1;
    await first.handler(kinesisEvent(lines(5, 9), { firstIndex: 5 }));
    const second = setup(first.blobs);
    const redelivered = kinesisEvent(lines(0, 9));
    // Act
    const response = await second.handler(redelivered);
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(second.archiver.calls).toBe(0);
    const partials = partialsOf(second.publisher.all());
    expect(partials.every((p) => p.firstSequenceNumber === seq(redelivered, 5))).toBe(true);
    expect(mergedEvents(first.publisher.all(), second.publisher.all())).toBe(10);
  });

  it('a shorter redelivery (bisect) replays a prefix, then the rest, within the original range', async () => {
    // Prepare
    const { handler, publisher } = setup();
    const whole = kinesisEvent(lines(0, 9));
    publisher.failNext = 1;
    await handler(whole);
    // Act
    const a = await handler(kinesisEvent(lines(0, 4)));
    const b = await handler(kinesisEvent(lines(5, 9), { firstIndex: 5 }));
    // Assess
    expect([a, b]).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
    for (const p of partialsOf(publisher.all())) {
      expect(BigInt(p.firstSequenceNumber) >= BigInt(seq(whole, 0))).toBe(true);
      expect(BigInt(p.lastSequenceNumber) <= BigInt(seq(whole, 9))).toBe(true);
    }
    expect(mergedEvents(publisher.all())).toBe(10);
  });

  it('a redelivery after partials were delivered counts nothing twice', async () => {
    // Prepare
    const { handler, publisher } = setup();
    const event = kinesisEvent(lines(0, 7));
    // Act
    await handler(event);
    await handler(event);
    await handler(kinesisEvent(lines(0, 11)));
    // Assess
    expect(mergedEvents(publisher.all())).toBe(12);
  });

  it('retries the whole batch when the intent cannot be stored', async () => {
    // Prepare
    const { handler, blobs, publisher } = setup();
    blobs.failSaves = 1;
    const event = kinesisEvent(lines(0, 2));
    // Act
    const response = await handler(event);
    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: seq(event, 0) }] });
    expect(partialsOf(publisher.all())).toEqual([]);
  });
});
