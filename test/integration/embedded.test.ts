/**
 * The embedded pipeline end to end (local/embedded.ts): ephemeral ports, a temp data directory, a known
 * set of events from several services shipped through the SDK (KPL), some malformed, some late, and an
 * error spike. Every well-formed event must be counted exactly once in the windows in DuckDB, every
 * event must be in the archive, rejects must be counted by code, and the spike must alert.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedPipeline, startEmbedded } from '../../local/embedded.ts';
import { listArchiveFiles, readArchiveFile } from '../../local/firehoseEndpoint.ts';
import { createKinesisClient } from '../../local/kinesisClient.ts';
import {
  eventLine,
  expectedWindows,
  generateEvents,
  putCorruptAggregate,
  ship,
  type TestEvent,
} from './embeddedEvents.ts';

const WINDOW_MS = 1_000;
const SERVICES = ['checkout', 'search', 'billing'];

async function archived(dir: string, prefix: 'logs/' | 'errors/'): Promise<string[]> {
  const lines: string[] = [];
  for (const f of await listArchiveFiles(dir, prefix)) {
    for (const l of (await readArchiveFile(f)).toString('utf8').split('\n')) if (l !== '') lines.push(l);
  }
  return lines;
}

describe('embedded pipeline', () => {
  let dir: string;
  let pipeline: EmbeddedPipeline;
  let events: TestEvent[];
  let lateEvents: TestEvent[];

  beforeAll(async () => {
    // Prepare: 50 windows of history for three services (the detector warms up on 30), with an error
    // spike on checkout in windows 40–44, ending two minutes ago.
    dir = await mkdtemp(join(tmpdir(), 'tw-embedded-'));
    pipeline = await startEmbedded({
      dataDir: dir,
      ports: { kinesis: 0, dynamodb: 0, timestream: 0, firehose: 0, sns: 0, dashboard: 0 },
      windowMs: WINDOW_MS,
      // Events are sent as fast as the SDK can, 50 s of event time in a second or two: a generous
      // lateness keeps them on time; the late ones below are far older still.
      allowedLatenessMs: 60_000,
      dashboard: false,
      logLevel: 'warn',
    });
    const startMs = Math.floor((Date.now() - 180_000) / WINDOW_MS) * WINDOW_MS;
    events = generateEvents({
      seed: 7,
      services: SERVICES,
      startMs,
      windowMs: WINDOW_MS,
      windows: 50,
      perWindow: 20,
      errorRate: 0.02,
      spike: { service: 'checkout', fromWindow: 40, toWindow: 44, errorRate: 0.6 },
    });
    lateEvents = [0, 1, 2].map((i) => ({
      id: `late-${i}`,
      service: 'billing',
      timeMs: startMs - 120_000 + i,
      error: false,
      durationMs: 5,
    }));
    const client = createKinesisClient(pipeline.endpoints.kinesis);
    try {
      // Act
      await ship(client, pipeline.streams.logs, [
        ...events.map(eventLine),
        ...lateEvents.map(eventLine),
        '{"time": 1, "msg": "truncated',
        '{not json at all',
      ]);
      await putCorruptAggregate(client, pipeline.streams.logs);
    } finally {
      client.destroy();
    }
    expect(await pipeline.drain(90_000)).toBe(true);
    await pipeline.flushWindows();
    await pipeline.flushArchive();
  });

  afterAll(async () => {
    await pipeline?.stop({ drainTimeoutMs: 5_000 });
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('counts every well-formed event exactly once in its window', async () => {
    // Act
    const rows = await pipeline.store.query(
      `SELECT service, epoch_ms(time) AS t, count FROM "tidewatch"."windows" WHERE count > 0`,
    );
    // Assess
    const actual = new Map(rows.map((r) => [`${r.service}|${r.t}`, Number(r.count)]));
    expect(actual).toEqual(expectedWindows(events, WINDOW_MS));
  });

  it('archives every event, and rejects and late events under errors/ by code', async () => {
    // Act
    const logs = await archived(pipeline.archiveDir, 'logs/');
    const errors = (await archived(pipeline.archiveDir, 'errors/')).map(
      (l) => JSON.parse(l) as { code: string; data: string },
    );
    // Assess
    const ids = new Set(logs.map((l) => (JSON.parse(l) as { id: string }).id));
    for (const e of [...events, ...lateEvents]) expect(ids.has(e.id)).toBe(true);
    expect(logs).toHaveLength(events.length + lateEvents.length);
    const byCode: Record<string, number> = {};
    for (const e of errors) byCode[e.code] = (byCode[e.code] ?? 0) + 1;
    expect(byCode).toEqual({ invalid_json: 2, kpl_checksum_mismatch: 1, late: 3 });
  });

  it('records the pipeline health: events accepted and rejected, per stage', async () => {
    // Act
    const [ingest] = await pipeline.store.query(
      `SELECT sum(events) AS events, sum(rejected) AS rejected, sum(late) AS late FROM "tidewatch"."pipeline" WHERE stage = 'ingest'`,
    );
    // Assess
    expect(ingest).toEqual({
      events: events.length + lateEvents.length,
      rejected: 3,
      late: lateEvents.length,
    });
  });

  it('alerts on the injected error spike', async () => {
    // Act
    const lines = (await readFile(pipeline.alertsFile, 'utf8')).split('\n').filter((l) => l !== '');
    const alerts = lines
      .map(
        (l) =>
          JSON.parse(JSON.parse(l).message as string) as {
            kind: string;
            service: string;
            metric: string;
            window: { startMs: number };
          },
      )
      .filter((a) => a.kind === 'alert');
    // Assess
    const spikeStart = events[0]!.timeMs - (events[0]!.timeMs % WINDOW_MS) + 40 * WINDOW_MS;
    const spike = alerts.filter(
      (a) =>
        a.service === 'checkout' &&
        a.metric === 'error_rate' &&
        a.window.startMs >= spikeStart &&
        a.window.startMs < spikeStart + 5 * WINDOW_MS,
    );
    expect(spike).toHaveLength(1);
  });
});
