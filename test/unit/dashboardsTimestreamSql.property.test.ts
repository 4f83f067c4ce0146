import { DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { translateTimestreamSql } from '../../local/timestreamSql.ts';

// Properties checked by running the translated SQL in DuckDB: what the translation means, not how it
// reads. Bounded runs: each property executes at most 100 small queries on an in-memory database.

let instance: DuckDBInstance;
// biome-ignore lint/suspicious/noExplicitAny: DuckDB connection type is internal to the package.
let connection: any;

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  connection = await instance.connect();
});

afterAll(() => {
  connection?.closeSync();
  instance?.closeSync();
});

async function scalar(sql: string): Promise<unknown> {
  const r = await connection.runAndReadAll(sql);
  return r.getRowsJS()[0]?.[0];
}

const base = { database: 'tidewatch', table: 'windows', measure: 'window', fromMs: 0, toMs: 1, nowMs: 0 };

describe('translated Timestream SQL in DuckDB', () => {
  it('bin(time, $__interval_ms) buckets like Timestream: floor(t / interval) × interval since the epoch', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        fc.integer({ min: 1, max: 86_400_000 }),
        async (tMs, intervalMs) => {
          // Act
          const sql = translateTimestreamSql(`SELECT bin(from_milliseconds(${tMs}), $__interval_ms)`, {
            ...base,
            intervalMs,
          });
          const bucket = (await scalar(sql)) as Date;
          // Assess
          expect(bucket.getTime()).toBe(Math.floor(tMs / intervalMs) * intervalMs);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('a dashboard variable round-trips through its string literal, whatever the value', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'grapheme', maxLength: 40 }), async (service) => {
        fc.pre(!service.includes('\u0000'));
        // Act
        const sql = translateTimestreamSql(`SELECT '\${service}'`, {
          ...base,
          intervalMs: 1000,
          variables: { service },
        });
        // Assess
        expect(await scalar(sql)).toBe(service);
      }),
      { numRuns: 100 },
    );
  });

  it('greatest() is NULL when any argument is NULL, as in Timestream, else the maximum', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.option(fc.integer({ min: -1000, max: 1000 }), { nil: null }),
        fc.option(fc.integer({ min: -1000, max: 1000 }), { nil: null }),
        async (a, b) => {
          const lit = (v: number | null) => (v === null ? 'CAST(NULL AS INTEGER)' : String(v));
          const sql = translateTimestreamSql(`SELECT greatest(${lit(a)}, ${lit(b)})`, {
            ...base,
            intervalMs: 1000,
          });
          expect(await scalar(sql)).toBe(a === null || b === null ? null : Math.max(a, b));
        },
      ),
      { numRuns: 50 },
    );
  });

  it('$__timeFilter keeps exactly the times in [from, to]', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 4_000_000_000_000 }),
        fc.integer({ min: 0, max: 3_600_000 }),
        fc.integer({ min: -10, max: 3_600_010 }),
        async (fromMs, spanMs, offsetMs) => {
          // Prepare
          const t = fromMs + offsetMs;
          // Act
          const sql = translateTimestreamSql(
            `SELECT $__timeFilter FROM (SELECT from_milliseconds(${t}) AS time)`,
            {
              ...base,
              fromMs,
              toMs: fromMs + spanMs,
              intervalMs: 1000,
            },
          );
          // Assess
          expect(await scalar(sql)).toBe(t >= fromMs && t <= fromMs + spanMs);
        },
      ),
      { numRuns: 100 },
    );
  });
});
