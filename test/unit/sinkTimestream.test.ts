import {
  InternalServerException,
  RejectedRecordsException,
  ResourceNotFoundException,
  ThrottlingException,
  type TimestreamWriteClient,
  ValidationException,
  type WriteRecordsRequest,
} from '@aws-sdk/client-timestream-write';
import { describe, expect, it } from 'vitest';
import { Names, PipelineMeasureName, WindowMeasureName } from '../../processors/schema.ts';
import type { SeriesWindowRecord } from '../../processors/sinks/timeSeriesRecord.ts';
import { planWriteRecords, TimestreamSink } from '../../processors/sinks/timestreamSink.ts';
import { fakeClock } from './sinkTestClock.ts';

const T0 = 1_700_000_000_000;
const meta = { $metadata: {} };

function windowRecord(i: number, overrides: Partial<SeriesWindowRecord> = {}): SeriesWindowRecord {
  return {
    table: Names.windowsTable,
    dimensions: { service: `svc-${i % 5}`, window_ms: '10000' },
    timeMs: T0 + Math.floor(i / 5) * 10_000,
    version: 1,
    measures: { count: i, errors: 1, error_rate: 1 / (i + 1), latency_p99_ms: 12.5 },
    ...overrides,
  };
}

type Responder = (input: WriteRecordsRequest, call: number) => unknown;

function fakeClient(respond: Responder = () => ({})) {
  const calls: WriteRecordsRequest[] = [];
  const client = {
    send: async (command: { input: WriteRecordsRequest }) => {
      calls.push(command.input);
      const out = respond(command.input, calls.length);
      if (out instanceof Error) throw out;
      return out;
    },
  } as unknown as TimestreamWriteClient;
  return { client, calls };
}

describe('planWriteRecords', () => {
  it('sends 100 records in one call and 101 in two', () => {
    // Prepare
    const hundred = Array.from({ length: 100 }, (_, i) => windowRecord(i));
    const hundredOne = Array.from({ length: 101 }, (_, i) => windowRecord(i));
    // Act
    const a = planWriteRecords(hundred, { databaseName: 'tidewatch' });
    const b = planWriteRecords(hundredOne, { databaseName: 'tidewatch' });
    // Assess
    expect(a.plans.map((p) => p.input.Records!.length)).toEqual([100]);
    expect(b.plans.map((p) => p.input.Records!.length).sort()).toEqual([1, 100]);
    expect(new Set(b.plans.flatMap((p) => p.indices)).size).toBe(101);
  });

  it('writes one multi-measure record with shared dimensions, time and version in CommonAttributes', () => {
    // Prepare: one service, same window → everything common but the route.
    const records = [
      windowRecord(0, { dimensions: { service: 'a', route: '/x' } }),
      windowRecord(0, { dimensions: { service: 'a', route: '/y' } }),
    ];
    // Act
    const { plans } = planWriteRecords(records, { databaseName: 'tidewatch' });
    // Assess
    const input = plans[0]!.input;
    expect(input.DatabaseName).toBe('tidewatch');
    expect(input.TableName).toBe('windows');
    expect(input.CommonAttributes).toEqual({
      MeasureName: WindowMeasureName,
      MeasureValueType: 'MULTI',
      TimeUnit: 'MILLISECONDS',
      Dimensions: [{ Name: 'service', Value: 'a', DimensionValueType: 'VARCHAR' }],
      Time: String(T0),
      Version: 1,
    });
    expect(input.Records![0]).toEqual({
      Dimensions: [{ Name: 'route', Value: '/x', DimensionValueType: 'VARCHAR' }],
      MeasureValues: [
        { Name: 'count', Value: '0', Type: 'BIGINT' },
        { Name: 'errors', Value: '1', Type: 'BIGINT' },
        { Name: 'error_rate', Value: '1', Type: 'DOUBLE' },
        { Name: 'latency_p99_ms', Value: '12.5', Type: 'DOUBLE' },
      ],
    });
  });

  it('keeps per-record Time and Version when they differ, and never splits a call across tables', () => {
    // Prepare
    const records = [
      windowRecord(0),
      windowRecord(7, { version: 2 }),
      {
        table: Names.pipelineTable,
        dimensions: { stage: 'detect' },
        timeMs: T0,
        version: 1,
        measures: { records: 5 },
      },
    ];
    // Act
    const { plans } = planWriteRecords(records, { databaseName: 'tidewatch' });
    // Assess
    expect(plans.map((p) => p.input.TableName).sort()).toEqual(['pipeline', 'windows']);
    const windows = plans.find((p) => p.input.TableName === 'windows')!.input;
    expect(windows.CommonAttributes!.Time).toBeUndefined();
    expect(windows.CommonAttributes!.Version).toBeUndefined();
    expect(windows.Records!.map((r) => [r.Time, r.Version])).toEqual([
      [String(T0), 1],
      [String(T0 + 10_000), 2],
    ]);
    expect(plans.find((p) => p.input.TableName === 'pipeline')!.input.CommonAttributes!.MeasureName).toBe(
      PipelineMeasureName,
    );
  });

  it('drops non-finite measures, rounds BIGINT, and refuses records with nothing to write', () => {
    // Prepare
    const records = [
      windowRecord(0, { measures: { count: 2.6, error_rate: Number.NaN, bytes: 1e22 } }),
      windowRecord(1, { measures: { error_rate: Number.POSITIVE_INFINITY } }),
      windowRecord(2, { timeMs: -1 }),
    ];
    // Act
    const { plans, invalid } = planWriteRecords(records, { databaseName: 'tidewatch' });
    // Assess
    expect(plans[0]!.input.Records![0]!.MeasureValues).toEqual([
      { Name: 'count', Value: '3', Type: 'BIGINT' },
      { Name: 'bytes', Value: '10000000000000000000000', Type: 'BIGINT' },
    ]);
    expect(invalid.map((x) => x.index)).toEqual([1, 2]);
  });

  it('keeps only the highest version of one upsert key', () => {
    // Prepare
    const records = [windowRecord(0), windowRecord(0, { version: 3 }), windowRecord(0, { version: 2 })];
    // Act
    const { plans, supersededBy } = planWriteRecords(records, { databaseName: 'tidewatch' });
    // Assess
    expect(plans.flatMap((p) => p.indices)).toEqual([1]);
    expect([...supersededBy]).toEqual([1, -1, 1]);
  });
});

describe('TimestreamSink', () => {
  it('maps RejectedRecords[].RecordIndex back to the caller’s records', async () => {
    // Prepare: the service rejects request records 1 and 3 of the only call.
    const records = Array.from({ length: 5 }, (_, i) => windowRecord(i));
    const { client, calls } = fakeClient(
      () =>
        new RejectedRecordsException({
          ...meta,
          message: 'One or more records have been rejected.',
          RejectedRecords: [
            {
              RecordIndex: 1,
              Reason: 'The record timestamp is outside the time range',
              ExistingVersion: undefined,
            },
            { RecordIndex: 3, Reason: 'duplicate with different values', ExistingVersion: 4 },
          ],
        }),
    );
    const sink = new TimestreamSink({ client });
    // Act
    const { outcomes, stats } = await sink.write(records);
    // Assess
    const sent = planWriteRecords(records, { databaseName: 'tidewatch' }).plans[0]!.indices;
    expect(calls.length).toBe(1);
    for (let k = 0; k < sent.length; k++) {
      const outcome = outcomes[sent[k]!]!;
      if (k === 1) expect(outcome).toMatchObject({ kind: 'reject', code: 'timestream_rejected' });
      else if (k === 3) {
        expect(outcome).toEqual({
          kind: 'reject',
          code: 'timestream_rejected',
          detail: 'duplicate with different values (existing version 4)',
        });
      } else expect(outcome.kind).toBe('ok');
    }
    expect(stats).toMatchObject({ records: 5, written: 3, rejected: 2, retry: 0, calls: 1 });
  });

  it('retries throttling and 5xx with backoff and then succeeds', async () => {
    // Prepare
    const clock = fakeClock();
    const { client, calls } = fakeClient((_, n) =>
      n === 1
        ? new ThrottlingException({ ...meta, message: 'Rate exceeded', Message: 'Rate exceeded' })
        : n === 2
          ? new InternalServerException({ ...meta, message: 'oops', Message: 'oops' })
          : {},
    );
    const sink = new TimestreamSink({ client, backoff: clock });
    // Act
    const { outcomes, stats } = await sink.write([windowRecord(0)]);
    // Assess
    expect(outcomes).toEqual([{ kind: 'ok', value: null }]);
    expect(calls.length).toBe(3);
    expect(stats.retriedCalls).toBe(2);
    expect(clock.slept.length).toBe(2);
  });

  it('returns retry outcomes when the budget is spent, never rejects', async () => {
    // Prepare
    const clock = fakeClock();
    const { client } = fakeClient(
      () => new ThrottlingException({ ...meta, message: 'Rate exceeded', Message: 'Rate exceeded' }),
    );
    const sink = new TimestreamSink({ client, backoff: clock });
    // Act
    const { outcomes, stats } = await sink.write([windowRecord(0), windowRecord(1)], { budgetMs: 5_000 });
    // Assess
    expect(outcomes).toEqual([
      { kind: 'retry', reason: 'timestream:ThrottlingException' },
      { kind: 'retry', reason: 'timestream:ThrottlingException' },
    ]);
    expect(stats.retry).toBe(2);
    expect(clock.slept.reduce((a, b) => a + b, 0)).toBeLessThan(5_000);
  });

  it('keeps data in the shard (retry) on a missing table instead of dropping it', async () => {
    const { client, calls } = fakeClient(
      () => new ResourceNotFoundException({ ...meta, message: 'no table', Message: 'no table' }),
    );
    const { outcomes } = await new TimestreamSink({ client }).write([windowRecord(0)]);
    expect(outcomes[0]).toEqual({ kind: 'retry', reason: 'timestream:ResourceNotFoundException' });
    expect(calls.length).toBe(1);
  });

  it('isolates a ValidationException to the one bad record by splitting the call', async () => {
    // Prepare: any call containing the record with count 13 is invalid.
    const records = Array.from({ length: 20 }, (_, i) => windowRecord(i));
    const { client } = fakeClient((input) =>
      input.Records!.some((r) => r.MeasureValues!.some((m) => m.Name === 'count' && m.Value === '13'))
        ? new ValidationException({ ...meta, message: 'bad record', Message: 'bad record' })
        : {},
    );
    // Act
    const { outcomes, stats } = await new TimestreamSink({ client }).write(records);
    // Assess
    expect(outcomes[13]).toEqual({
      kind: 'reject',
      code: 'timestream_rejected',
      detail: 'ValidationException: bad record',
    });
    expect(outcomes.filter((o) => o.kind === 'ok').length).toBe(19);
    expect(stats.calls).toBeLessThanOrEqual(1 + 2 * Math.ceil(Math.log2(20)));
  });

  it('gives superseded same-key records the outcome of the newer version', async () => {
    const { client, calls } = fakeClient();
    const { outcomes, stats } = await new TimestreamSink({ client }).write([
      windowRecord(0, { version: 1 }),
      windowRecord(0, { version: 2, measures: { count: 99 } }),
    ]);
    expect(outcomes.map((o) => o.kind)).toEqual(['ok', 'ok']);
    expect(stats.superseded).toBe(1);
    expect(calls[0]!.Records!.length).toBe(1);
    expect(calls[0]!.CommonAttributes!.Version).toBe(2);
  });

  it('refuses a call size above the Timestream quota', () => {
    const { client } = fakeClient();
    expect(() => new TimestreamSink({ client, maxRecordsPerCall: 101 })).toThrow(/1\.\.100/);
  });
});
