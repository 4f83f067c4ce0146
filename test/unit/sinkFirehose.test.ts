import {
  type FirehoseClient,
  type PutRecordBatchCommandInput,
  ResourceNotFoundException,
  ServiceUnavailableException,
} from '@aws-sdk/client-firehose';
import { describe, expect, it } from 'vitest';
import { errorEnvelope, FirehoseArchiver } from '../../processors/sinks/firehoseArchiver.ts';
import { fakeClock } from './sinkTestClock.ts';

const meta = { $metadata: {} };

type Respond = (input: PutRecordBatchCommandInput, call: number) => unknown;

function fakeFirehose(respond: Respond) {
  const calls: PutRecordBatchCommandInput[] = [];
  const delivered: Buffer[] = [];
  const client = {
    send: async (command: { input: PutRecordBatchCommandInput }) => {
      calls.push(command.input);
      const out = respond(command.input, calls.length);
      if (out instanceof Error) throw out;
      const res = out as { RequestResponses?: Array<{ ErrorCode?: string }> };
      command.input.Records!.forEach((r, k) => {
        if (res.RequestResponses?.[k]?.ErrorCode === undefined) delivered.push(Buffer.from(r.Data!));
      });
      return out;
    },
  } as unknown as FirehoseClient;
  return { client, calls, delivered };
}

const allOk: Respond = (input) => ({
  FailedPutCount: 0,
  RequestResponses: input.Records!.map(() => ({ RecordId: 'id' })),
});

describe('FirehoseArchiver', () => {
  it('packs lines into few records and acks every line only after delivery', async () => {
    // Prepare
    const lines = Array.from({ length: 2_000 }, (_, i) => `{"i":${i}}`);
    const { client, calls, delivered } = fakeFirehose(allOk);
    const archiver = new FirehoseArchiver({ client });
    // Act
    const { outcomes, stats } = await archiver.archive(lines);
    // Assess
    expect(calls.length).toBe(1);
    expect(calls[0]!.DeliveryStreamName).toBe('tidewatch-archive');
    expect(calls[0]!.Records!.length).toBe(1);
    expect(Buffer.concat(delivered).toString()).toBe(lines.map((l) => `${l}\n`).join(''));
    expect(outcomes.every((o) => o.kind === 'ok')).toBe(true);
    expect(stats).toMatchObject({ items: 2_000, records: 1, delivered: 2_000, retry: 0, rejected: 0 });
  });

  it('archiveSlices delivers ranges of shared buffers as the same records archive() builds', async () => {
    // Prepare: lines laid out with framing between them in two buffers; one oversized line.
    const lines = Array.from({ length: 50 }, (_, i) => `{"i":${i},"pad":"${'x'.repeat(i * 7)}"}`);
    lines[20] = 'y'.repeat(400);
    const buffers: Buffer[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    for (const half of [lines.slice(0, 25), lines.slice(25)]) {
      const buf = Buffer.from(half.map((l) => `\u0000${l}`).join(''));
      let at = 0;
      for (const l of half) {
        buffers.push(buf);
        starts.push(at + 1);
        ends.push(at + 1 + l.length);
        at += 1 + l.length;
      }
    }
    const a = fakeFirehose(allOk);
    const b = fakeFirehose(allOk);
    const limits = { maxRecordBytes: 300 };
    // Act
    const viaArchive = await new FirehoseArchiver({ client: a.client, limits }).archive(lines.slice(5));
    const viaSlices = await new FirehoseArchiver({ client: b.client, limits }).archiveSlices(
      buffers,
      starts,
      ends,
      5,
      lines.length,
    );
    // Assess
    expect(Buffer.concat(b.delivered).toString('hex')).toBe(Buffer.concat(a.delivered).toString('hex'));
    expect(viaSlices.outcomes).toEqual(viaArchive.outcomes);
    expect(viaSlices.outcomes[15]).toMatchObject({ kind: 'reject', code: 'oversized' });
    expect(viaSlices.stats).toEqual(viaArchive.stats);
  });

  it('resends only the entries that failed (FailedPutCount) until all are in', async () => {
    // Prepare: 3 records; the first call fails entries 0 and 2, the second fails entry 0 again.
    const clock = fakeClock();
    const lines = Array.from({ length: 3 }, (_, i) => String(i).repeat(200));
    const { client, calls, delivered } = fakeFirehose((input, n) => {
      const fail = n === 1 ? [0, 2] : n === 2 ? [0] : [];
      return {
        FailedPutCount: fail.length,
        RequestResponses: input.Records!.map((_, k) =>
          fail.includes(k)
            ? { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' }
            : { RecordId: 'x' },
        ),
      };
    });
    const archiver = new FirehoseArchiver({ client, limits: { maxRecordBytes: 201 }, backoff: clock });
    // Act
    const { outcomes, stats } = await archiver.archive(lines);
    // Assess
    expect(calls.map((c) => c.Records!.length)).toEqual([3, 2, 1]);
    expect(delivered.map((b) => b.toString()[0]).sort()).toEqual(['0', '1', '2']);
    expect(outcomes.every((o) => o.kind === 'ok')).toBe(true);
    expect(stats.resentRecords).toBe(3);
  });

  it('marks the lines of still-failing records retry when the budget runs out, others ok', async () => {
    // Prepare
    const clock = fakeClock();
    const lines = ['a'.repeat(100), 'b'.repeat(100)];
    const { client } = fakeFirehose((input) => ({
      FailedPutCount: 1,
      RequestResponses: input.Records!.map((r) =>
        Buffer.from(r.Data!).toString().startsWith('b')
          ? { ErrorCode: 'ServiceUnavailableException' }
          : { RecordId: 'x' },
      ),
    }));
    const archiver = new FirehoseArchiver({ client, limits: { maxRecordBytes: 101 }, backoff: clock });
    // Act
    const { outcomes } = await archiver.archive(lines, { budgetMs: 3_000 });
    // Assess
    expect(outcomes).toEqual([
      { kind: 'ok', value: null },
      { kind: 'retry', reason: 'firehose:ServiceUnavailableException' },
    ]);
  });

  it('retries whole-call throttling, and keeps data (retry) on a missing stream', async () => {
    const clock = fakeClock();
    const throttled = fakeFirehose((input, n) =>
      n === 1 ? new ServiceUnavailableException({ ...meta, message: 'Slow down.' }) : allOk(input, n),
    );
    const ok = await new FirehoseArchiver({ client: throttled.client, backoff: clock }).archive(['x']);
    expect(ok.outcomes[0]!.kind).toBe('ok');
    expect(ok.stats.retriedCalls).toBe(1);

    const missing = fakeFirehose(() => new ResourceNotFoundException({ ...meta, message: 'not found' }));
    const res = await new FirehoseArchiver({ client: missing.client, backoff: clock }).archive(['x']);
    expect(res.outcomes[0]).toEqual({ kind: 'retry', reason: 'firehose:ResourceNotFoundException' });
    expect(missing.calls.length).toBe(1);
  });

  it('rejects a line larger than one record as oversized and delivers the rest', async () => {
    const { client } = fakeFirehose(allOk);
    const { outcomes } = await new FirehoseArchiver({ client }).archive(['small', 'x'.repeat(1_024_000)]);
    expect(outcomes[0]!.kind).toBe('ok');
    expect(outcomes[1]).toMatchObject({ kind: 'reject', code: 'oversized' });
  });

  it('sends rejects as JSON envelopes to the error stream', async () => {
    // Prepare
    const { client, calls, delivered } = fakeFirehose(allOk);
    const archiver = new FirehoseArchiver({ client, now: () => 1_700_000_000_000 });
    // Act
    const { outcomes } = await archiver.archiveRejects([
      {
        data: '{"broken',
        code: 'invalid_json',
        detail: 'Unexpected end of JSON input',
        source: 'shard-0/42',
      },
      { data: new Uint8Array([0xff, 0x00, 0xfe]), code: 'not_utf8' },
    ]);
    // Assess
    expect(calls[0]!.DeliveryStreamName).toBe('tidewatch-archive-errors');
    const lines = Buffer.concat(delivered)
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      {
        code: 'invalid_json',
        detail: 'Unexpected end of JSON input',
        source: 'shard-0/42',
        timeMs: 1_700_000_000_000,
        bytes: 8,
        truncated: false,
        encoding: 'utf8',
        data: '{"broken',
      },
      {
        code: 'not_utf8',
        timeMs: 1_700_000_000_000,
        bytes: 3,
        truncated: false,
        encoding: 'base64',
        data: '/wD+',
      },
    ]);
    expect(outcomes.every((o) => o.kind === 'ok')).toBe(true);
  });
});

describe('errorEnvelope', () => {
  it('truncates data that cannot fit one record, keeping its original length', () => {
    // Prepare
    const big = 'é'.repeat(800_000); // 1.6 MB of UTF-8
    // Act
    const line = errorEnvelope({ data: big, code: 'oversized' }, 1_024_000, 0);
    // Assess
    expect(line.length).toBeLessThanOrEqual(1_024_000);
    const parsed = JSON.parse(Buffer.from(line).toString());
    expect(parsed).toMatchObject({
      code: 'oversized',
      bytes: 1_600_000,
      truncated: true,
      encoding: 'base64',
    });
    expect(Buffer.from(parsed.data, 'base64').length).toBeGreaterThan(700_000);
  });
});
