/**
 * The artifact we deploy is the artifact we test: loads the esbuild bundles `dist/ingest/index.mjs` and
 * `dist/detect/index.mjs` (built here when missing or older than the sources), feeds the ingest bundle a
 * recorded Lambda Kinesis event (test/fixtures/events/kinesis/handler-logs-mixed.json) and the detect
 * bundle what ingest wrote to the metrics stream, against the local endpoints, configured only through
 * process.env as Lambda configures them.
 */
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isHealthRecord } from '../../processors/pipeline/healthRecord.ts';
import { Names } from '../../processors/schema.ts';
import type { KinesisEvent } from '../../processors/sources/kinesisEvent.ts';
import { decodePartials } from '../../processors/transforms/window/partialCodec.ts';
import { type LocalStack, startLocalStack } from './handlerLocalStack.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = join(root, 'test', 'fixtures', 'events', 'kinesis');
const logsEvent = JSON.parse(readFileSync(join(fixtures, 'handler-logs-mixed.json'), 'utf8')) as KinesisEvent;

type Handler = (event: unknown, context?: unknown) => Promise<unknown>;

async function newestSourceMs(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { recursive: true })) {
    if (!entry.endsWith('.ts')) continue;
    const t = statSync(join(dir, entry)).mtimeMs;
    if (t > newest) newest = t;
  }
  return newest;
}

function bundleMtime(stage: string): number {
  try {
    return statSync(join(root, 'dist', stage, 'index.mjs')).mtimeMs;
  } catch {
    return 0;
  }
}

const context = { awsRequestId: 'test', getRemainingTimeInMillis: () => 30_000 };

describe('Lambda bundles', () => {
  let stack: LocalStack;
  let ingest: Handler;
  let detect: Handler;
  let metricsEvent: KinesisEvent;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    // Prepare: (re)build when a bundle is missing or older than the processors' sources.
    const sources = Math.max(
      await newestSourceMs(join(root, 'processors')),
      await newestSourceMs(join(root, 'sdk')),
    );
    if (bundleMtime('ingest') < sources || bundleMtime('detect') < sources) {
      await promisify(execFile)(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'build.ts')], {
        cwd: root,
      });
    }
    stack = await startLocalStack();
    Object.assign(process.env, stack.env);
    ingest = (
      (await import(pathToFileURL(join(root, 'dist', 'ingest', 'index.mjs')).href)) as { handler: Handler }
    ).handler;
    detect = (
      (await import(pathToFileURL(join(root, 'dist', 'detect', 'index.mjs')).href)) as { handler: Handler }
    ).handler;
  });

  afterAll(async () => {
    for (const key of Object.keys(stack?.env ?? {})) {
      if (savedEnv[key] === undefined) delete process.env[key];
      else process.env[key] = savedEnv[key];
    }
    await stack?.close();
  });

  it('ingest bundle: archives every event, rejects by code, sends partials, acknowledges the batch', async () => {
    // Act
    const response = await ingest(logsEvent, context);
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const logs = await stack.archivedLines('logs/');
    expect(logs).toHaveLength(12);
    expect(logs.some((l) => l.includes('card declined'))).toBe(true);
    const errors = (await stack.archivedLines('errors/')).map((l) => JSON.parse(l) as { code: string });
    expect(errors.map((e) => e.code).sort()).toEqual(['invalid_json', 'kpl_checksum_mismatch', 'late']);
    metricsEvent = await stack.readStream(Names.metricsStream);
    let events = 0;
    for (const r of metricsEvent.Records) {
      const bytes = Buffer.from(r.kinesis.data, 'base64');
      if (isHealthRecord(bytes)) continue;
      const decoded = decodePartials(bytes);
      expect(decoded.kind).toBe('ok');
      if (decoded.kind === 'ok') for (const p of decoded.value) events += p.count;
    }
    expect(events).toBe(11);
    expect(
      metricsEvent.Records.filter((r) => isHealthRecord(Buffer.from(r.kinesis.data, 'base64'))),
    ).toHaveLength(1);
  });

  it('detect bundle: merges the partials ingest sent, writes one record per series·window, checkpoints', async () => {
    // Act
    const response = await detect(metricsEvent, context);
    const flushed = (await detect({ tidewatch: 'flush', shards: ['shardId-000000000000'] }, context)) as {
      windowsWritten: number;
    };
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(flushed.windowsWritten).toBe(6);
    const rows = await stack.store.query(
      `SELECT service, epoch_ms(time) AS t, count, errors FROM "tidewatch"."windows" ORDER BY service, t`,
    );
    const start = Date.parse('2026-11-22T05:00:00.000Z');
    expect(rows).toEqual([
      { service: 'billing', t: start, count: 2, errors: 0 },
      { service: 'billing', t: start + 10_000, count: 1, errors: 1 },
      { service: 'checkout', t: start, count: 3, errors: 1 },
      { service: 'inventory', t: start, count: 2, errors: 0 },
      { service: 'search', t: start, count: 1, errors: 0 },
      { service: 'search', t: start + 10_000, count: 2, errors: 0 },
    ]);
    const health = await stack.store.query(
      `SELECT stage, events, rejected, late FROM "tidewatch"."pipeline" ORDER BY stage DESC`,
    );
    expect(health).toEqual([
      { stage: 'ingest', events: 12, rejected: 2, late: 1 },
      { stage: 'detect', events: 11, rejected: 0, late: 0 },
    ]);
  });

  it('detect bundle: a redelivered batch changes nothing', async () => {
    // Act
    const response = await detect(metricsEvent, context);
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const [total] = await stack.store.query(`SELECT sum(count) AS n FROM "tidewatch"."windows"`);
    expect(total).toEqual({ n: 11 });
  });
});
