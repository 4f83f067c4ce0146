/**
 * `tidewatch/sdk/pino`: a pino transport that ships every log line to Kinesis through the shipper.
 *
 * @example
 * import pino from 'pino';
 * const logger = pino({ transport: { target: 'tidewatch/sdk/pino', options: { streamName: 'tidewatch-logs' } } });
 *
 * pino runs transports in a worker thread and loads the target by module path there. The line pino
 * serialized is sent as it is (no parse, no re-serialization). The shipper's buffer bound applies
 * backpressure to the worker's input; what pino buffers on the main thread meanwhile is pino's
 * (thread-stream) business. `logger.flush(cb)` resolves once lines written before it reached Kinesis
 * (or failed); on exit pino ends the transport and the worker flushes before it stops (pino waits up
 * to 10 s for that). Failures go to stderr as one warning per reason; counts are not visible from the
 * main thread — use `createShipper` + `createPinoDestination` when you need `stats()` or `onError`
 * (and in AWS Lambda, where a worker thread is the wrong shape).
 *
 * Options must survive `structuredClone` (they cross to the worker): `partitionKey` can only be a
 * string here, and there is no `onError`.
 */
import type { Transform } from 'node:stream';
import build from 'pino-abstract-transport';
import { createShipper, type ShipperOptions } from './shipper.ts';

/** Options of the pino transport: the serializable subset of {@link ShipperOptions}. */
export interface PinoTransportOptions extends Omit<ShipperOptions, 'client' | 'onError' | 'partitionKey'> {
  /** One partition key for every line; default: a fresh key per aggregate (spread over shards). */
  partitionKey?: string | undefined;
}

const identity = (line: string): string => line;

/**
 * Builds the transport stream (pino calls this in its worker thread).
 *
 * @example
 * const logger = pino({
 *   transport: { target: 'tidewatch/sdk/pino', options: { streamName: 'tidewatch-logs', endpoint: 'http://127.0.0.1:4567' } },
 * });
 * logger.info({ route: '/pay', durationMs: 41 }, 'paid');
 */
export default async function tidewatchPinoTransport(options: PinoTransportOptions): Promise<Transform> {
  const shipper = createShipper({ ...options });
  const stream = build(
    async (source) => {
      for await (const line of source as AsyncIterable<string>) {
        if (line.length === 0) continue;
        shipper.send(line);
        // Stop reading while the shipper's buffer is full: split2's buffer then fills and
        // thread-stream stops handing us lines.
        await shipper.ready();
      }
    },
    {
      parse: 'lines',
      parseLine: identity,
      close: async () => {
        await shipper.close();
      },
    },
  );
  // thread-stream calls `flush()` on the destination for `logger.flush(cb)`. Lines still in split2's
  // buffer were written before the flush: wait until the loop above has taken them, then flush.
  Object.assign(stream, {
    flush: async (): Promise<void> => {
      while (stream.readableLength > 0) await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      await shipper.flush();
    },
  });
  return stream;
}
