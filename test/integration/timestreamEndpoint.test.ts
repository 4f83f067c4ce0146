/**
 * The local Timestream Write endpoint through the real SDK client: operations, limits and error shapes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type _Record,
  DescribeEndpointsCommand,
  RejectedRecordsException,
  type TimestreamWriteClient,
  WriteRecordsCommand,
  type WriteRecordsRequest,
} from '@aws-sdk/client-timestream-write';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAULTS_PATH } from '../../local/awsJsonServer.ts';
import { startTimestreamEndpoint, type TimestreamEndpoint } from '../../local/timestreamEndpoint.ts';
import { createTimestreamWriteClient } from '../../processors/sinks/sinkClients.ts';

let dir: string;
let ts: TimestreamEndpoint;
let client: TimestreamWriteClient;
const NOW = Date.now();
const T = NOW - (NOW % 1000) - 60_000;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tw-tse-'));
  ts = await startTimestreamEndpoint({ dataDir: dir, memoryRetentionHours: 1 });
  client = createTimestreamWriteClient({ endpoint: ts.url });
});

afterAll(async () => {
  await ts.close();
  rmSync(dir, { recursive: true, force: true });
});

function records(n: number, service = 's'): _Record[] {
  return Array.from({ length: n }, (_, i) => ({
    Dimensions: [{ Name: 'service', Value: `${service}${i}` }],
    MeasureValues: [{ Name: 'count', Value: String(i), Type: 'BIGINT' }],
  }));
}

function request(recs: _Record[], extra: Partial<WriteRecordsRequest> = {}): WriteRecordsRequest {
  return {
    DatabaseName: 'tidewatch',
    TableName: 'windows',
    CommonAttributes: {
      MeasureName: 'window',
      MeasureValueType: 'MULTI',
      Time: String(T),
      TimeUnit: 'MILLISECONDS',
    },
    Records: recs,
    ...extra,
  };
}

async function errorOf(p: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to fail');
}

describe('local Timestream Write endpoint', () => {
  it('answers DescribeEndpoints with its own address', async () => {
    const res = await client.send(new DescribeEndpointsCommand({}));
    expect(res.Endpoints).toEqual([{ Address: `127.0.0.1:${ts.port}`, CachePeriodInMinutes: 1440 }]);
  });

  it('accepts 100 records per call and refuses 101 with ValidationException', async () => {
    // Act
    const ok = await client.send(new WriteRecordsCommand(request(records(100, 'a'))));
    const err = await errorOf(client.send(new WriteRecordsCommand(request(records(101, 'b')))));
    // Assess
    expect(ok.RecordsIngested).toEqual({ Total: 100, MemoryStore: 100, MagneticStore: 0 });
    expect(err.name).toBe('ValidationException');
    expect(err.$metadata?.httpStatusCode).toBe(400);
    expect(
      await ts.store.query(`SELECT count(*) AS n FROM "tidewatch"."windows" WHERE service LIKE 'b%'`),
    ).toEqual([{ n: 0 }]);
  });

  it('rejects per record with RecordIndex, Reason and ExistingVersion, and ingests the rest of the call', async () => {
    // Prepare: c0 stored at version 3.
    await client.send(
      new WriteRecordsCommand(
        request(records(1, 'c'), { CommonAttributes: { ...request([]).CommonAttributes, Version: 3 } }),
      ),
    );
    const recs: _Record[] = [
      {
        Dimensions: [{ Name: 'service', Value: 'c0' }],
        MeasureValues: [{ Name: 'count', Value: '99', Type: 'BIGINT' }],
        Version: 2,
      },
      {
        Dimensions: [{ Name: 'service', Value: 'c1' }],
        MeasureValues: [{ Name: 'count', Value: '1', Type: 'BIGINT' }],
      },
      {
        Dimensions: [{ Name: 'service', Value: 'c2' }],
        MeasureValues: [{ Name: 'count', Value: '1', Type: 'BIGINT' }],
        Time: String(NOW - 2 * 3_600_000),
      },
      {
        Dimensions: [{ Name: 'service', Value: 'c3' }],
        MeasureValues: [{ Name: 'count', Value: '1', Type: 'BIGINT' }],
        Time: String(NOW + 16 * 60_000),
      },
      {
        Dimensions: [{ Name: 'service', Value: 'c0' }],
        MeasureValues: [{ Name: 'count', Value: '0', Type: 'BIGINT' }],
        Version: 1,
      },
    ];
    // Act
    const err = await errorOf(client.send(new WriteRecordsCommand(request(recs))));
    // Assess
    expect(err).toBeInstanceOf(RejectedRecordsException);
    expect(err.$metadata?.httpStatusCode).toBe(419);
    const rejected = (err as RejectedRecordsException).RejectedRecords!;
    expect(rejected.map((r) => [r.RecordIndex, r.ExistingVersion])).toEqual([
      [0, 3],
      [2, undefined],
      [3, undefined],
    ]);
    expect(rejected[1]!.Reason).toMatch(/outside the time range/);
    expect(
      await ts.store.query(
        `SELECT service, count, version FROM "tidewatch"."windows" WHERE service LIKE 'c%' ORDER BY service`,
      ),
    ).toEqual([
      { service: 'c0', count: 0, version: 3 },
      { service: 'c1', count: 1, version: 1 },
    ]);
  });

  it('refuses overlapping common and record dimensions, and unknown tables', async () => {
    const overlap = await errorOf(
      client.send(
        new WriteRecordsCommand(
          request(records(1), {
            CommonAttributes: {
              ...request([]).CommonAttributes,
              Dimensions: [{ Name: 'service', Value: 'x' }],
            },
          }),
        ),
      ),
    );
    const missing = await errorOf(
      client.send(new WriteRecordsCommand(request(records(1), { TableName: 'nope' }))),
    );
    expect(overlap.name).toBe('ValidationException');
    expect(missing.name).toBe('ResourceNotFoundException');
    expect(missing.$metadata?.httpStatusCode).toBe(404);
  });

  it('injects faults set at runtime over HTTP', async () => {
    // Act
    const set = await fetch(`${ts.url}${FAULTS_PATH}`, {
      method: 'POST',
      body: JSON.stringify({ throttleCallFraction: 1 }),
    });
    const throttled = await errorOf(client.send(new WriteRecordsCommand(request(records(1, 'd')))));
    ts.faults.set({ failCallFraction: 1 });
    const failed = await errorOf(client.send(new WriteRecordsCommand(request(records(1, 'd')))));
    ts.faults.set({});
    const bad = await fetch(`${ts.url}${FAULTS_PATH}`, { method: 'POST', body: JSON.stringify({ nope: 1 }) });
    // Assess
    expect(set.status).toBe(200);
    expect(throttled.name).toBe('ThrottlingException');
    expect(throttled.$metadata?.httpStatusCode).toBe(429);
    expect(failed.name).toBe('InternalServerException');
    expect(failed.$metadata?.httpStatusCode).toBe(500);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/unknown fault config 'nope'/);
  });
});
