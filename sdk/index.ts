/**
 * `tidewatch/sdk`: ship logs from a Node service or a Lambda function to Kinesis as shard-aware KPL
 * aggregates. See docs/sdk.md.
 *
 * @example
 * import { createShipper } from 'tidewatch/sdk';
 * const shipper = createShipper({ streamName: 'tidewatch-logs' });
 * shipper.send({ time: Date.now(), service: 'checkout', level: 'info', msg: 'paid' });
 * await shipper.close();
 */
export { fullJitterDelayMs } from './backoff.ts';
export {
  ShipperConfigError,
  ShipperError,
  ShipperErrorReason,
  type ShipperErrorReasonName,
} from './errors.ts';
export { createShipperClient, isLocalEndpoint, type ShipperClientOptions } from './kinesisClient.ts';
export {
  decodeAggregate,
  encodeAggregate,
  type KinesisPutEntry,
  KplAggregateBuilder,
  type KplDecodeResult,
  type KplUserRecord,
  MAX_KINESIS_RECORD_BYTES,
} from './kpl.ts';
export { createPinoDestination, type PinoDestination } from './pinoDestination.ts';
export { effectiveHashKey, partitionKeyHash, ShardMap, type ShardRange } from './shardMap.ts';
export {
  createShipper,
  MAX_PUT_RECORDS_BYTES,
  MAX_PUT_RECORDS_ENTRIES,
  type Shipper,
  type ShipperOptions,
  type ShipperStats,
  WhenFull,
  type WhenFullName,
} from './shipper.ts';
