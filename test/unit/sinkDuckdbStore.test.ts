import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DuckDbStore, type StoreRow } from '../../local/duckdbStore.ts';
import { Dimension, Measure, PipelineMeasure } from '../../processors/schema.ts';

const T0 = 1_700_000_000_123;
const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tw-duck-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function row(overrides: Partial<StoreRow> = {}): StoreRow {
  return {
    timeMs: T0,
    dimensions: { service: 'checkout', window_ms: '10000' },
    measureName: 'window',
    measures: { count: 10, error_rate: 0.1 },
    version: 1,
    ...overrides,
  };
}

describe('DuckDbStore layout', () => {
  it('creates "tidewatch"."windows" and "pipeline" with the contract columns, even in a file named tidewatch.duckdb', async () => {
    // Prepare / Act
    const store = await DuckDbStore.open({ path: join(tempDir(), 'tidewatch.duckdb') });
    try {
      const windows = await store.describe('tidewatch', 'windows');
      const pipeline = await store.describe('tidewatch', 'pipeline');
      // Assess
      expect(windows[0]).toEqual({ name: 'time', type: 'TIMESTAMP' });
      expect(windows.at(-1)).toEqual({ name: 'version', type: 'BIGINT' });
      for (const d of Object.values(Dimension)) expect(windows).toContainEqual({ name: d, type: 'VARCHAR' });
      expect(windows).toContainEqual({ name: 'measure_name', type: 'VARCHAR' });
      for (const m of Object.values(Measure)) expect(windows).toContainEqual({ name: m.name, type: m.type });
      for (const m of Object.values(PipelineMeasure))
        expect(pipeline).toContainEqual({ name: m.name, type: m.type });
      expect(await store.query('SELECT count(*) AS n FROM "tidewatch"."windows"')).toEqual([{ n: 0 }]);
    } finally {
      await store.close();
    }
  });
});

describe('DuckDbStore upsert (Timestream semantics)', () => {
  it('inserts, accepts identical rewrites, replaces on a higher version, rejects conflicting lower versions', async () => {
    // Prepare
    const store = await DuckDbStore.open({ path: ':memory:' });
    try {
      // Act
      const first = await store.upsert('tidewatch', 'windows', [row()]);
      const same = await store.upsert('tidewatch', 'windows', [row()]);
      const conflict = await store.upsert('tidewatch', 'windows', [row({ measures: { count: 11 } })]);
      const newer = await store.upsert('tidewatch', 'windows', [
        row({ version: 2, measures: { count: 12 } }),
      ]);
      const stale = await store.upsert('tidewatch', 'windows', [row({ version: 1 })]);
      // Assess
      expect([first[0], same[0], newer[0]]).toEqual([
        { kind: 'inserted' },
        { kind: 'unchanged' },
        { kind: 'updated' },
      ]);
      expect(conflict[0]).toMatchObject({ kind: 'rejected', existingVersion: 1 });
      expect(stale[0]).toMatchObject({ kind: 'rejected', existingVersion: 2 });
      const rows = await store.query(
        'SELECT epoch_ms(time) AS t, service, measure_name, count, error_rate, version FROM "tidewatch"."windows"',
      );
      expect(rows).toEqual([
        { t: T0, service: 'checkout', measure_name: 'window', count: 12, error_rate: null, version: 2 },
      ]);
    } finally {
      await store.close();
    }
  });

  it('treats a missing dimension as a different series and adds unknown dimensions and measures as columns', async () => {
    // Prepare
    const store = await DuckDbStore.open({ path: ':memory:' });
    try {
      // Act
      const res = await store.upsert('tidewatch', 'windows', [
        row(),
        row({ dimensions: { service: 'checkout' } }),
        row({
          dimensions: { service: 'checkout', window_ms: '10000', region: 'eu-west-1' },
          measures: { custom_ms: 3 },
        }),
      ]);
      // Assess
      expect(res.map((r) => r.kind)).toEqual(['inserted', 'inserted', 'inserted']);
      const cols = await store.describe('tidewatch', 'windows');
      expect(cols).toContainEqual({ name: 'region', type: 'VARCHAR' });
      expect(cols).toContainEqual({ name: 'custom_ms', type: 'DOUBLE' });
      expect(
        await store.query('SELECT count(*) AS n FROM "tidewatch"."windows" WHERE region IS NULL'),
      ).toEqual([{ n: 2 }]);
    } finally {
      await store.close();
    }
  });

  it('rejects dimension names that collide with measures or reserved columns', async () => {
    const store = await DuckDbStore.open({ path: ':memory:' });
    try {
      const res = await store.upsert('tidewatch', 'windows', [
        row({ dimensions: { service: 'a', count: 'x' } }),
        row({ dimensions: { service: 'a', version: 'x' } }),
      ]);
      expect(res.map((r) => r.kind)).toEqual(['rejected', 'rejected']);
    } finally {
      await store.close();
    }
  });

  it('applies a batch in order: a later higher version in the same batch wins', async () => {
    const store = await DuckDbStore.open({ path: ':memory:' });
    try {
      const res = await store.upsert('tidewatch', 'windows', [
        row(),
        row({ version: 3, measures: { count: 30 } }),
      ]);
      expect(res.map((r) => r.kind)).toEqual(['inserted', 'updated']);
      expect(await store.query('SELECT count, version FROM "tidewatch"."windows"')).toEqual([
        { count: 30, version: 3 },
      ]);
    } finally {
      await store.close();
    }
  });

  it('persists across reopen and works as a TimeSeriesSink', async () => {
    // Prepare
    const path = join(tempDir(), 'metrics.duckdb');
    const a = await DuckDbStore.open({ path });
    const { outcomes, stats } = await a.write([
      { table: 'windows', dimensions: { service: 's' }, timeMs: T0, version: 1, measures: { count: 1 } },
      {
        table: 'pipeline',
        dimensions: { stage: 'detect' },
        timeMs: T0,
        version: 1,
        measures: { records: 5 },
      },
      { table: 'windows', dimensions: { service: 's' }, timeMs: T0, version: 1, measures: { count: 2 } },
      {
        table: 'windows',
        dimensions: { service: 't' },
        timeMs: T0,
        version: 1,
        measures: { count: Number.NaN },
      },
    ]);
    await a.close();
    // Act
    const b = await DuckDbStore.open({ path });
    try {
      const rows = await b.query('SELECT service, count FROM "tidewatch"."windows"');
      const health = await b.query('SELECT stage, records, measure_name FROM "tidewatch"."pipeline"');
      // Assess
      expect(outcomes.map((o) => o.kind)).toEqual(['ok', 'ok', 'reject', 'reject']);
      expect(stats).toMatchObject({ written: 2, rejected: 2 });
      expect(rows).toEqual([{ service: 's', count: 1 }]);
      expect(health).toEqual([{ stage: 'detect', records: 5, measure_name: 'health' }]);
    } finally {
      await b.close();
    }
  });
});
