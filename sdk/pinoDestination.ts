/**
 * An in-process pino destination: pino serializes each log line once and the shipper sends that
 * string as it is. The pattern for AWS Lambda, where a worker-thread transport is a poor fit (the
 * sandbox freezes between invocations): log synchronously into the shipper, `await shipper.flush()`
 * before the handler returns.
 */
import type { Shipper } from './shipper.ts';

/** The subset of a Node writable stream pino needs (`write`), plus `flush` for `logger.flush()`. */
export interface PinoDestination {
  write(line: string): boolean;
  flush(callback?: (err?: Error) => void): void;
}

/**
 * Wraps a shipper as a pino destination. The trailing newline pino appends is stripped: each line is
 * one Kinesis user record.
 *
 * @example
 * import pino from 'pino';
 * import { createPinoDestination, createShipper } from 'tidewatch/sdk';
 * const shipper = createShipper({ streamName: process.env.TW_LOGS_STREAM ?? 'tidewatch-logs' });
 * const logger = pino({ base: { service: 'checkout' } }, createPinoDestination(shipper));
 * export const handler = async (event: unknown) => {
 *   logger.info({ event }, 'handled');
 *   await shipper.flush(); // before the sandbox freezes
 *   return { ok: true };
 * };
 */
export function createPinoDestination(shipper: Shipper): PinoDestination {
  const send = shipper.send;
  return {
    write(line: string): boolean {
      send(line.charCodeAt(line.length - 1) === 10 ? line.slice(0, -1) : line);
      return true;
    },
    flush(callback?: (err?: Error) => void): void {
      void shipper.flush().then(() => callback?.());
    },
  };
}
