/**
 * Kill -9 the embedded pipeline mid-run and start it again on the same data directory: no event may be
 * lost and no window double counted. The pipeline runs in a child process (test/integration/
 * embeddedChild.ts); the events are in the logs stream before the kill, so the restarted pipeline must
 * finish the work from its checkpoints, ingest intents and detect state alone.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DuckDbStore } from '../../local/duckdbStore.ts';
import { listArchiveFiles, readArchiveFile } from '../../local/firehoseEndpoint.ts';
import { createKinesisClient } from '../../local/kinesisClient.ts';
import { eventLine, expectedWindows, generateEvents, ship } from './embeddedEvents.ts';

const WINDOW_MS = 1_000;
const childEntry = fileURLToPath(new URL('./embeddedChild.ts', import.meta.url));

interface Child {
  proc: ChildProcess;
  next(): Promise<Record<string, unknown>>;
}

function startChild(dataDir: string): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', childEntry, dataDir], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  const queue: Record<string, unknown>[] = [];
  const waiters: Array<(v: Record<string, unknown>) => void> = [];
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const w = waiters.shift();
    if (w !== undefined) w(msg);
    else queue.push(msg);
  });
  return {
    proc,
    next: () =>
      new Promise((resolve, reject) => {
        const m = queue.shift();
        if (m !== undefined) return resolve(m);
        waiters.push(resolve);
        proc.once('exit', (code) => reject(new Error(`child exited (${code}) before answering`)));
      }),
  };
}

async function countIngestBatches(dataDir: string): Promise<number> {
  try {
    const text = await readFile(join(dataDir, 'logs', 'handlers.log'), 'utf8');
    return text.split('\n').filter((l) => l.includes('"ingest batch"')).length;
  } catch {
    return 0;
  }
}

describe('embedded pipeline after SIGKILL', () => {
  let dir: string | undefined;
  const children: ChildProcess[] = [];

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    if (dir !== undefined && process.env.TW_KEEP_TEST_DIR === undefined)
      await rm(dir, { recursive: true, force: true });
  });

  it('loses no event and double counts no window', { timeout: 150_000 }, async () => {
    // Prepare: a pipeline on a fresh directory and 60 windows of three services in its logs stream.
    dir = await mkdtemp(join(tmpdir(), 'tw-crash-'));
    const first = startChild(dir);
    children.push(first.proc);
    const { kinesis } = (await first.next()) as { kinesis: string };
    const startMs = Math.floor((Date.now() - 240_000) / WINDOW_MS) * WINDOW_MS;
    const events = generateEvents({
      seed: 11,
      services: ['checkout', 'search', 'billing'],
      startMs,
      windowMs: WINDOW_MS,
      windows: 60,
      perWindow: 40,
      errorRate: 0.05,
    });
    const client = createKinesisClient(kinesis);
    try {
      // Small aggregates: many Kinesis records, so ingest takes several batches and the kills land mid-run.
      await ship(client, 'tidewatch-logs', events.map(eventLine), { maxAggregateBytes: 2_048 });
    } finally {
      client.destroy();
    }

    // Act: kill -9 once ingest has processed a few batches, then start again on the same directory.
    const deadline = Date.now() + 60_000;
    while ((await countIngestBatches(dir)) < 3 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    first.proc.kill('SIGKILL');
    await new Promise((r) => first.proc.once('exit', r));
    const second = startChild(dir);
    children.push(second.proc);
    await second.next();
    second.proc.stdin!.write('stop\n');
    const stopped = await second.next();
    await new Promise((r) => second.proc.once('exit', r));

    // Assess
    expect(stopped).toEqual({ stopped: true, drained: true });
    const store = await DuckDbStore.open({ path: join(dir, 'tidewatch.duckdb') });
    let rows: Record<string, unknown>[];
    try {
      rows = await store.query(
        `SELECT service, epoch_ms(time) AS t, count FROM "tidewatch"."windows" WHERE count > 0`,
      );
    } finally {
      await store.close();
    }
    const actual = new Map(rows.map((r) => [`${r.service}|${r.t}`, Number(r.count)]));
    expect(actual).toEqual(expectedWindows(events, WINDOW_MS));
    const archivedIds = new Set<string>();
    for (const f of await listArchiveFiles(join(dir, 'archive'), 'logs/')) {
      for (const l of (await readArchiveFile(f)).toString('utf8').split('\n')) {
        if (l !== '') archivedIds.add((JSON.parse(l) as { id: string }).id);
      }
    }
    const missing = events.filter((e) => !archivedIds.has(e.id)).map((e) => e.id);
    expect(missing).toEqual([]);
  });
});
