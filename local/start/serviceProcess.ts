/**
 * Child-process entry that runs one local AWS stand-in for the embedded mode (`fork` with
 * `--import tsx`): kinesalite (`kinesis`), dynalite (`dynamodb`), the Firehose endpoint (`firehose`) or
 * the Timestream endpoint with its DuckDB store (`timestream`).
 *
 * Why separate processes: in one process these servers' request handling, LevelDB and gzip work share
 * the event loop with the handlers and runners, and every call a handler makes then waits on the
 * pipeline's own work (measured: a DynamoDB put or a Firehose call took 300 ms to 1 s under load). In
 * their own processes they answer on their own, as the real services would.
 *
 * Protocol (IPC, `serialization: 'advanced'`): argv[2] is the service name, argv[3] its JSON options.
 * The child sends `{ url, port }` once ready or `{ error }`. Messages: `'flush'` (Firehose: deliver
 * buffers; answers `'flushed'`), `{ id, sql }` (Timestream: query the store; answers `{ id, rows }` or
 * `{ id, error }`), `'close'` (close, then exit). The Timestream child also sends `{ windows }`
 * (`WindowRowsWritten`) after each write to the windows table. The child exits when the parent goes away (IPC disconnect — also after
 * the parent was SIGKILLed, so LevelDB locks are released).
 */

import { DuckDbStore } from '../duckdbStore.ts';
import { startDynalite } from '../dynalite.ts';
import { startFirehoseEndpoint } from '../firehoseEndpoint.ts';
import { startKinesalite } from '../kinesalite.ts';
import { startTimestreamEndpoint } from '../timestreamEndpoint.ts';
import { observeWindowRows } from './windowRows.ts';

interface Running {
  url: string;
  port: number;
  flush?: () => Promise<unknown>;
  query?: (sql: string) => Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

/** Options of the `timestream` service. */
export interface TimestreamServiceOptions {
  port: number;
  /** DuckDB file. */
  dbPath: string;
}

async function start(name: string, options: unknown): Promise<Running> {
  switch (name) {
    case 'kinesis':
      return startKinesalite(options as Parameters<typeof startKinesalite>[0]);
    case 'dynamodb':
      return startDynalite(options as Parameters<typeof startDynalite>[0]);
    case 'firehose':
      return startFirehoseEndpoint(options as Parameters<typeof startFirehoseEndpoint>[0]);
    case 'timestream': {
      const o = options as TimestreamServiceOptions;
      const store = await DuckDbStore.open({ path: o.dbPath });
      observeWindowRows(store, (windows) => process.send?.({ windows }));
      const endpoint = await startTimestreamEndpoint({ port: o.port, store });
      return {
        url: endpoint.url,
        port: endpoint.port,
        query: (sql) => store.query(sql),
        close: async () => {
          await endpoint.close();
          await store.close();
        },
      };
    }
    default:
      throw new Error(`unknown service '${name}'`);
  }
}

const name = process.argv[2] ?? '';
try {
  const server = await start(name, JSON.parse(process.argv[3] ?? '{}'));
  let closing: Promise<void> | undefined;
  const shutdown = () => {
    closing ??= server
      .close()
      .catch(() => undefined)
      .finally(() => process.exit(0));
    return closing;
  };
  process.on('message', (m: unknown) => {
    if (m === 'close') void shutdown();
    else if (m === 'flush') {
      void (server.flush?.() ?? Promise.resolve()).finally(() => process.send?.('flushed'));
    } else if (typeof m === 'object' && m !== null && 'sql' in m) {
      const { id, sql } = m as { id: number; sql: string };
      if (server.query === undefined) process.send?.({ id, error: `${name} answers no queries` });
      else {
        server.query(sql).then(
          (rows) => process.send?.({ id, rows }),
          (err: unknown) => process.send?.({ id, error: (err as Error).message ?? String(err) }),
        );
      }
    }
  });
  process.on('disconnect', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
  // Ctrl-C reaches the whole process group: the parent decides when this child stops ('close').
  process.on('SIGINT', () => undefined);
  process.send?.({ url: server.url, port: server.port });
} catch (err) {
  process.send?.({ error: (err as Error).message ?? String(err) });
  process.exit(1);
}
