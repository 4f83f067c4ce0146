/**
 * FirehoseArchiver → real @aws-sdk/client-firehose → local Firehose endpoint (gzip files laid out
 * like S3), with per-entry throttling, whole-call failures, latency and lost responses: every line is
 * archived at least once, oversized input lands under errors/ with its code, nothing is lost.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FirehoseEndpoint,
  listArchiveFiles,
  readArchiveFile,
  startFirehoseEndpoint,
} from '../../local/firehoseEndpoint.ts';
import { seededRandom } from '../../processors/sinks/backoff.ts';
import { type ArchiveReject, FirehoseArchiver } from '../../processors/sinks/firehoseArchiver.ts';
import { createFirehoseClient } from '../../processors/sinks/sinkClients.ts';

let dir: string;
let fh: FirehoseEndpoint;
let archiver: FirehoseArchiver;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tw-fh-'));
  fh = await startFirehoseEndpoint({
    dataDir: dir,
    streams: {
      'tidewatch-archive': { prefix: 'logs/', bufferSizeMiB: 1, bufferIntervalS: 1 },
      'tidewatch-archive-errors': { prefix: 'errors/', bufferSizeMiB: 1, bufferIntervalS: 1 },
    },
    faults: {
      throttleEntryFraction: 0.3,
      throttleCallFraction: 0.1,
      failCallFraction: 0.05,
      dropResponseFraction: 0.1,
      latencyJitterMs: 5,
      seed: 5,
    },
  });
  archiver = new FirehoseArchiver({
    client: createFirehoseClient({ endpoint: fh.url }),
    // Small records and calls so the run makes enough calls for every kind of fault to fire.
    limits: { maxRecordBytes: 256 * 1024, maxBatchRecords: 4 },
    backoff: { baseDelayMs: 5, maxDelayMs: 100, random: seededRandom(9) },
  });
});

afterAll(async () => {
  await fh.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('FirehoseArchiver against the local endpoint with faults', () => {
  it('archives every line at least once and every reject under errors/ with its code', async () => {
    // Prepare: 8,000 lines of 20 B..2 KB, a few of 200 KB, two over the record limit.
    const rand = seededRandom(1);
    const lines: string[] = [];
    for (let i = 0; i < 8_000; i++) {
      const pad = i % 1_000 === 999 ? 200_000 : Math.floor(rand() * 2_000);
      lines.push(JSON.stringify({ id: i, level: 'info', msg: 'x'.repeat(pad) }));
    }
    lines.push(JSON.stringify({ id: 'big-1', msg: 'y'.repeat(1_100_000) }));
    lines.push(JSON.stringify({ id: 'big-2', msg: 'z'.repeat(2_000_000) }));
    const invocations = [lines.slice(0, 2_500), lines.slice(2_500, 5_000), lines.slice(5_000)];

    // Act
    const outcomes = [];
    const rejects: ArchiveReject[] = [];
    for (const batch of invocations) {
      const res = await archiver.archive(batch, { budgetMs: 60_000 });
      outcomes.push(...res.outcomes);
      res.outcomes.forEach((o, k) => {
        if (o.kind === 'reject') rejects.push({ data: batch[k]!, code: o.code, detail: o.detail ?? '' });
      });
    }
    const errorRes = await archiver.archiveRejects(rejects, { budgetMs: 60_000 });
    await fh.flush();

    // Assess: outcomes
    expect(outcomes.filter((o) => o.kind === 'ok').length).toBe(8_000);
    expect(outcomes.filter((o) => o.kind === 'reject').map((o) => o.kind === 'reject' && o.code)).toEqual([
      'oversized',
      'oversized',
    ]);
    expect(outcomes.some((o) => o.kind === 'retry')).toBe(false);
    expect(errorRes.outcomes.every((o) => o.kind === 'ok')).toBe(true);

    // Assess: every line is in logs/ at least once, as NDJSON, under the S3 key layout.
    const files = await listArchiveFiles(dir, 'logs/');
    expect(files.length).toBeGreaterThan(1);
    for (const f of files) {
      expect(relative(dir, f)).toMatch(
        /^logs\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/tidewatch-archive-\d{4}(-\d{2}){5}-[0-9a-f-]{36}\.gz$/,
      );
    }
    const seen = new Map<number, number>();
    for (const f of files) {
      for (const line of (await readArchiveFile(f)).toString('utf8').split('\n')) {
        if (line === '') continue;
        const id = (JSON.parse(line) as { id: number }).id;
        seen.set(id, (seen.get(id) ?? 0) + 1);
      }
    }
    for (let i = 0; i < 8_000; i++) expect(seen.get(i) ?? 0).toBeGreaterThanOrEqual(1);
    expect(seen.size).toBe(8_000);

    // Assess: the rejects are under errors/ with their code and original size.
    const errorLines = [];
    for (const f of await listArchiveFiles(dir, 'errors/')) {
      for (const line of (await readArchiveFile(f)).toString('utf8').split('\n')) {
        if (line !== '')
          errorLines.push(JSON.parse(line) as { code: string; bytes: number; truncated: boolean });
      }
    }
    const byBytes = new Map(errorLines.map((e) => [e.bytes, e]));
    for (const r of rejects) {
      expect(byBytes.get(Buffer.byteLength(r.data as string))).toMatchObject({
        code: 'oversized',
        truncated: true,
      });
    }

    // Assess: the faults really happened.
    expect(fh.faults.stats.throttledEntries).toBeGreaterThan(0);
    expect(fh.faults.stats.throttledCalls + fh.faults.stats.failedCalls).toBeGreaterThan(0);
    expect(fh.faults.stats.droppedResponses).toBeGreaterThan(0);
  });
});
