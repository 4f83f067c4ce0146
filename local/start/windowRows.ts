/**
 * Observes the rows the local Timestream endpoint writes to the DuckDB store, for the embedded mode's
 * latency figures and summary: when each series·window with events first landed, and which rows were
 * written at all. Wraps the store's `upsert` (the endpoint's only write path).
 */
import { Names } from '../../processors/schema.ts';
import type { DuckDbStore, StoreRow } from '../duckdbStore.ts';

/**
 * Key of a window landing: service and window start.
 *
 * @example
 * windowKey('checkout', 1_700_000_000_000); // 'checkout\u00001700000000000'
 */
export function windowKey(service: string, windowStartMs: number): string {
  return `${service}\u0000${windowStartMs}`;
}

/** What one upsert call wrote to the windows table. */
export interface WindowRowsWritten {
  /** `[windowKey, epoch ms]` of rows with events that were inserted or updated. */
  landed: Array<[string, number]>;
  /** Identity (time + dimensions) of every inserted or updated row, zero-filled ones included. */
  rows: string[];
}

/**
 * Calls `observer` after every upsert to the windows table that inserted or updated rows.
 *
 * @example
 * observeWindowRows(store, ({ landed }) => { for (const [k, t] of landed) if (!map.has(k)) map.set(k, t); });
 */
export function observeWindowRows(store: DuckDbStore, observer: (written: WindowRowsWritten) => void): void {
  const upsert = store.upsert.bind(store);
  store.upsert = async (database: string, table: string, rows: readonly StoreRow[]) => {
    const result = await upsert(database, table, rows);
    if (table === Names.windowsTable) {
      const t = Date.now();
      const written: WindowRowsWritten = { landed: [], rows: [] };
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i]!;
        const kind = result[i]?.kind;
        if (kind !== 'inserted' && kind !== 'updated') continue;
        written.rows.push(`${r.timeMs}\u0000${JSON.stringify(Object.entries(r.dimensions).sort())}`);
        const service = r.dimensions.service;
        if (service !== undefined && (r.measures.count ?? 0) > 0)
          written.landed.push([windowKey(service, r.timeMs), t]);
      }
      if (written.rows.length > 0) observer(written);
    }
    return result;
  };
}
