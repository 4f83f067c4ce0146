/**
 * Child-process entry that runs one local AWS stand-in for the embedded mode (`fork` with
 * `--import tsx`): kinesalite (`kinesis`), dynalite (`dynamodb`) or the Firehose endpoint (`firehose`).
 *
 * Why separate processes: in one process these servers' request handling, LevelDB and gzip work share
 * the event loop with the handlers and runners, and every call a handler makes then waits on the
 * pipeline's own work (measured: a DynamoDB put or a Firehose call took 300 ms to 1 s under load). In
 * their own processes they answer on their own, as the real services would.
 *
 * Protocol (IPC): argv[2] is the service name, argv[3] its JSON options. The child sends `{ url, port }`
 * once ready or `{ error }`. Messages: `'flush'` (Firehose: deliver buffers; answers `'flushed'`),
 * `'close'` (close, then exit). The child exits when the parent goes away (IPC disconnect — also after
 * the parent was SIGKILLed, so LevelDB locks are released).
 */
import { startDynalite } from '../dynalite.ts';
import { startFirehoseEndpoint } from '../firehoseEndpoint.ts';
import { startKinesalite } from '../kinesalite.ts';

interface Running {
  url: string;
  port: number;
  flush?: () => Promise<unknown>;
  close(): Promise<void>;
}

async function start(name: string, options: unknown): Promise<Running> {
  switch (name) {
    case 'kinesis':
      return startKinesalite(options as Parameters<typeof startKinesalite>[0]);
    case 'dynamodb':
      return startDynalite(options as Parameters<typeof startDynalite>[0]);
    case 'firehose':
      return startFirehoseEndpoint(options as Parameters<typeof startFirehoseEndpoint>[0]);
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
  process.on('message', (m) => {
    if (m === 'close') void shutdown();
    else if (m === 'flush') {
      void (server.flush?.() ?? Promise.resolve()).finally(() => process.send?.('flushed'));
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
