/**
 * The local Firehose endpoint through the real SDK client: limits at their edges, per-entry failure
 * shape, buffering hints and the S3-style gzip layout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { type FirehoseClient, PutRecordBatchCommand, PutRecordCommand } from '@aws-sdk/client-firehose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  archiveKey,
  type FirehoseEndpoint,
  listArchiveFiles,
  readArchiveFile,
  startFirehoseEndpoint,
} from '../../local/firehoseEndpoint.ts';
import { createFirehoseClient } from '../../processors/sinks/sinkClients.ts';

let dir: string;
let fh: FirehoseEndpoint;
let client: FirehoseClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tw-fhe-'));
  fh = await startFirehoseEndpoint({
    dataDir: dir,
    streams: {
      big: { prefix: 'logs/', bufferSizeMiB: 128, bufferIntervalS: 900 },
      small: { prefix: 'small/', bufferSizeMiB: 1, bufferIntervalS: 900 },
      quick: { prefix: 'quick/', bufferSizeMiB: 128, bufferIntervalS: 1 },
    },
  });
  client = createFirehoseClient({ endpoint: fh.url, requestTimeoutMs: 60_000 });
});

afterAll(async () => {
  await fh.close();
  rmSync(dir, { recursive: true, force: true });
});

async function errorOf(p: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to fail');
}

const put = (stream: string, datas: Uint8Array[]) =>
  client.send(
    new PutRecordBatchCommand({ DeliveryStreamName: stream, Records: datas.map((Data) => ({ Data })) }),
  );

describe('local Firehose endpoint limits', () => {
  it('accepts 500 records and refuses 501', async () => {
    const ok = await put(
      'big',
      Array.from({ length: 500 }, () => new Uint8Array([0x61, 0x0a])),
    );
    const err = await errorOf(
      put(
        'big',
        Array.from({ length: 501 }, () => new Uint8Array([0x61, 0x0a])),
      ),
    );
    expect(ok.FailedPutCount).toBe(0);
    expect(ok.RequestResponses!.length).toBe(500);
    expect(err.name).toBe('ValidationException');
  });

  it('accepts a 1,024,000-byte record and refuses 1,024,001', async () => {
    const ok = await put('big', [new Uint8Array(1_024_000).fill(0x62)]);
    const err = await errorOf(put('big', [new Uint8Array(1_024_001).fill(0x62)]));
    expect(ok.FailedPutCount).toBe(0);
    expect(err.name).toBe('ValidationException');
    expect(err.message).toMatch(/less than or equal to 1024000/);
  });

  it('accepts exactly 4 MiB per call and refuses one byte more', async () => {
    const four = [1_024_000, 1_024_000, 1_024_000, 1_024_000, 4 * 1024 * 1024 - 4_096_000];
    const ok = await put(
      'big',
      four.map((n) => new Uint8Array(n).fill(0x63)),
    );
    const err = await errorOf(
      put(
        'big',
        [...four.slice(0, 4), four[4]! + 1].map((n) => new Uint8Array(n).fill(0x63)),
      ),
    );
    expect(ok.FailedPutCount).toBe(0);
    expect(err.name).toBe('InvalidArgumentException');
    expect(err.message).toBe('Records size exceeds 4 MB limit');
  });

  it('refuses an unknown delivery stream', async () => {
    const err = await errorOf(put('nope', [new Uint8Array([1])]));
    expect(err.name).toBe('ResourceNotFoundException');
  });

  it('fails throttled entries inside an HTTP 200 with FailedPutCount and ErrorCode', async () => {
    fh.faults.set({ throttleEntryFraction: 0.5, seed: 1 });
    const res = await put(
      'big',
      Array.from({ length: 40 }, () => new Uint8Array([0x64, 0x0a])),
    );
    fh.faults.set({});
    const failed = res.RequestResponses!.filter((r) => r.ErrorCode !== undefined);
    expect(res.FailedPutCount).toBe(failed.length);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0]).toEqual({ ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' });
    expect(res.RequestResponses!.filter((r) => r.RecordId !== undefined).length).toBe(40 - failed.length);
  });
});

describe('local Firehose endpoint delivery', () => {
  it('delivers a buffer when it reaches the size hint, as gzip under the S3 key layout', async () => {
    // Act: 1.5 MiB into a 1 MiB buffer with a 15-minute interval; PutRecord for the single-record API.
    await put('small', [new Uint8Array(800_000).fill(0x65), new Uint8Array(800_000).fill(0x66)]);
    await client.send(
      new PutRecordCommand({ DeliveryStreamName: 'small', Record: { Data: new Uint8Array([0x67]) } }),
    );
    let files: string[] = [];
    for (let i = 0; i < 100 && files.length === 0; i++) {
      files = await listArchiveFiles(dir, 'small/');
      if (files.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    // Assess
    expect(files.length).toBe(1);
    expect(relative(dir, files[0]!)).toMatch(
      /^small\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/small-\d{4}(-\d{2}){5}-[0-9a-f-]{36}\.gz$/,
    );
    const content = await readArchiveFile(files[0]!);
    expect(content.length).toBe(1_600_000);
    const flushed = await fh.flush();
    expect(flushed.filter((f) => f.includes('/small/')).length).toBe(1);
    expect((await readArchiveFile(flushed.find((f) => f.includes('/small/'))!)).toString()).toBe('g');
  });

  it('delivers a buffer when the interval hint passes', async () => {
    await put('quick', [new TextEncoder().encode('{"a":1}\n'), new TextEncoder().encode('{"a":2}\n')]);
    let files: string[] = [];
    for (let i = 0; i < 150 && files.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      files = await listArchiveFiles(dir, 'quick/');
    }
    expect(files.length).toBe(1);
    expect((await readArchiveFile(files[0]!)).toString()).toBe('{"a":1}\n{"a":2}\n');
  });

  it('names keys like the S3 destination does', () => {
    expect(archiveKey('logs/', 'tidewatch-archive', Date.UTC(2024, 0, 2, 3, 4, 5), 'id')).toBe(
      'logs/2024/01/02/03/tidewatch-archive-2024-01-02-03-04-05-id.gz',
    );
  });
});
