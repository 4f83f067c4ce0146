/**
 * Test helper: a seeded, known set of log events for the embedded-pipeline tests, the windows they must
 * produce, and a producer that ships them through the SDK (KPL aggregates) plus malformed records.
 */
import { type KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { encodeAggregate } from '../../sdk/kpl.ts';
import { createShipper } from '../../sdk/shipper.ts';

/** One generated event (serialized as a pino-style JSON line with an `id`). */
export interface TestEvent {
  id: string;
  service: string;
  timeMs: number;
  error: boolean;
  durationMs: number;
}

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Options of {@link generateEvents}. */
export interface GenerateOptions {
  seed: number;
  services: readonly string[];
  /** First window start (epoch ms, a multiple of `windowMs`). */
  startMs: number;
  windowMs: number;
  windows: number;
  /** Events per service per window (± 20 %). */
  perWindow: number;
  /** Baseline error probability. */
  errorRate: number;
  /** Windows (indices) of `spikeService` with `spikeErrorRate`. */
  spike?: { service: string; fromWindow: number; toWindow: number; errorRate: number };
}

/**
 * Events in time order.
 *
 * @example
 * const events = generateEvents({ seed: 1, services: ['a'], startMs, windowMs: 1000, windows: 60, perWindow: 20, errorRate: 0.02 });
 */
export function generateEvents(o: GenerateOptions): TestEvent[] {
  const random = rng(o.seed);
  const out: TestEvent[] = [];
  let n = 0;
  for (let w = 0; w < o.windows; w++) {
    const windowStart = o.startMs + w * o.windowMs;
    const batch: TestEvent[] = [];
    for (const service of o.services) {
      const count = Math.round(o.perWindow * (0.8 + 0.4 * random()));
      const spiking =
        o.spike !== undefined &&
        o.spike.service === service &&
        w >= o.spike.fromWindow &&
        w <= o.spike.toWindow;
      const p = spiking ? o.spike!.errorRate : o.errorRate;
      for (let i = 0; i < count; i++) {
        batch.push({
          id: `ev-${n++}`,
          service,
          timeMs: windowStart + Math.floor(random() * o.windowMs),
          error: random() < p,
          durationMs: Math.round(20 + 30 * random()),
        });
      }
    }
    batch.sort((a, b) => a.timeMs - b.timeMs);
    out.push(...batch);
  }
  return out;
}

/** The NDJSON line of an event. */
export function eventLine(e: TestEvent): string {
  return JSON.stringify({
    time: e.timeMs,
    level: e.error ? 50 : 30,
    name: e.service,
    msg: e.error ? 'request failed' : 'request done',
    id: e.id,
    responseTime: e.durationMs,
    res: { statusCode: e.error ? 500 : 200 },
  });
}

/** Expected window counts: `service|windowStart` → count. */
export function expectedWindows(events: readonly TestEvent[], windowMs: number): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of events) {
    const key = `${e.service}|${Math.floor(e.timeMs / windowMs) * windowMs}`;
    m.set(key, (m.get(key) ?? 0) + 1);
  }
  return m;
}

/**
 * Ships events (and raw lines) through the SDK shipper and resolves once Kinesis acknowledged all.
 *
 * @example
 * await ship(client, 'tidewatch-logs', events.map(eventLine));
 */
export async function ship(
  client: KinesisClient,
  streamName: string,
  lines: readonly string[],
  options: { maxAggregateBytes?: number } = {},
): Promise<void> {
  const failures: string[] = [];
  const shipper = createShipper({
    streamName,
    client,
    onError: (err) => failures.push(err.message),
    // One aggregate in flight per call: records reach each shard in the order they were sent, as a
    // service's own logs would (stage one's lateness is measured against each shard's newest event).
    maxInFlightCalls: 1,
    ...(options.maxAggregateBytes === undefined ? {} : { maxAggregateBytes: options.maxAggregateBytes }),
  });
  for (const line of lines) shipper.send(line);
  await shipper.flush();
  await shipper.close();
  if (failures.length > 0) throw new Error(`shipper failed: ${failures.join('; ')}`);
}

/**
 * Writes a KPL aggregate whose MD5 does not match (rejected `kpl_checksum_mismatch`).
 *
 * @example
 * await putCorruptAggregate(client, 'tidewatch-logs');
 */
export async function putCorruptAggregate(client: KinesisClient, streamName: string): Promise<void> {
  const entry = encodeAggregate([{ partitionKey: 'corrupt', data: Buffer.from('{"msg":"never seen"}') }]);
  const data = Buffer.from(entry.data);
  data[data.length - 1]! ^= 0xff;
  await client.send(new PutRecordCommand({ StreamName: streamName, PartitionKey: 'corrupt', Data: data }));
}
