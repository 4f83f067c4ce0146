/**
 * The demo fleet behind `tidewatch start --demo`: a handful of synthetic services writing realistic
 * logs in several formats over several transports into the logs stream, with injected incidents the
 * pipeline should catch and a few malformed records it should reject (docs/demo.md).
 *
 * | service (default) | format        | transport                                  |
 * |-------------------|---------------|--------------------------------------------|
 * | checkout          | pino JSON     | tidewatch SDK (`createShipper`, KPL)       |
 * | payments          | ECS JSON      | tidewatch SDK (`createShipper`, KPL)       |
 * | search            | logfmt        | PutRecords, several lines per record       |
 * | inventory         | plain text    | CloudWatch Logs subscription (gzip), PutRecord |
 * | auth              | OTLP/JSON     | PutRecord, one export per batch            |
 * | notifications     | pino JSON     | CloudWatch Logs subscription (gzip), PutRecord |
 *
 * Every well-formed event carries a unique id (`dm_<run>_<n>`, {@link DEMO_ID_PATTERN}) in its raw
 * line, so a summary can check that each produced event reached the archive and measure latency.
 */
import { Buffer } from 'node:buffer';
import { type KinesisClient, PutRecordCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { DEFAULT_DETECTOR_OPTIONS } from '../../processors/transforms/detect/defaultDetector.ts';
import { fullJitterDelayMs } from '../../sdk/backoff.ts';
import { createShipper, type Shipper } from '../../sdk/shipper.ts';
import {
  type DemoIncident,
  DemoIncidentKind,
  type DemoIncidentKindName,
  type DemoService,
  demoServices,
  IncidentMetrics,
  minIncidentSpanMs,
  planIncidents,
} from './fleetPlan.ts';
import {
  MALFORMED_CODES,
  MALFORMED_PARTITION_KEY,
  type MalformedCode,
  malformedRecord,
} from './malformed.ts';
import { DemoRandom } from './random.ts';
import { cloudWatchEnvelope, otlpExport, renderLine } from './render.ts';
import { type DemoEvent, DemoTraffic, demoSeqOf } from './traffic.ts';

export {
  DemoFormat,
  type DemoFormatName,
  type DemoIncident,
  DemoIncidentKind,
  type DemoIncidentKindName,
  type DemoService,
  DemoTransport,
  type DemoTransportName,
  demoServices,
  IncidentMetrics,
  minIncidentSpanMs,
  planIncidents,
} from './fleetPlan.ts';
export { MALFORMED_CODES, type MalformedCode } from './malformed.ts';
export { cloudWatchEnvelope, otlpExport, renderLine } from './render.ts';
export { DEMO_ID_PATTERN, type DemoEvent, DemoTraffic, demoIdOf, demoSeqOf } from './traffic.ts';

/** Default fleet-wide rate: comfortable for the whole pipeline on a 2-core laptop. */
export const DEFAULT_DEMO_EVENTS_PER_SECOND = 400;
/**
 * Default amplitude of the compressed daily cycle (±10 %). Compressed into a 90 s run it moves faster
 * than any real day, and the detector (which learns daily profiles only after a day of history) sees
 * it as noise; more than this inflates the noise scale enough to hide a traffic drop.
 */
export const DEFAULT_DAY_AMPLITUDE = 0.1;
/** Default interval between two generation ticks (lines are batched per tick and service). */
export const DEFAULT_DEMO_TICK_MS = 200;
/** Default interval between two malformed records. */
export const DEFAULT_MALFORMED_EVERY_MS = 5_000;
/** Windows of warm-up beyond the detector's own `warmupPoints` before the first incident. */
const EXTRA_WARMUP_WINDOWS = 10;
/** Lines per plain PutRecords record for line-shipping services (Fluent Bit packs similarly). */
const LINES_PER_RECORD = 25;
/** PutRecords: at most 500 entries per call (Kinesis API reference). */
const MAX_PUT_RECORDS_ENTRIES = 500;
/** Concurrent direct PutRecord(s) calls. */
const MAX_IN_FLIGHT_CALLS = 4;
/** A record not acknowledged after retrying this long is counted as failed. */
const MAX_RETRY_MS = 60_000;

/** An incident given explicitly instead of the seeded schedule (epoch ms, `[startMs, endMs)`). */
export interface DemoIncidentSpec {
  readonly service: string;
  readonly kind: DemoIncidentKindName;
  readonly startMs: number;
  readonly endMs: number;
}

/** Options of {@link startDemoFleet}. Durations in milliseconds, rates per second. */
export interface DemoFleetOptions {
  /** Client for the logs stream (e.g. `createKinesisClient('http://127.0.0.1:4567')`). Not destroyed. */
  readonly kinesisClient: KinesisClient;
  readonly streamName: string;
  /** Same seed → same services' traffic, incident schedule and malformed records. */
  readonly seed: number;
  /** Number of services (default 6) or their names; formats and transports cycle (see module doc). */
  readonly services?: number | readonly string[];
  /** Fleet-wide mean events per second (default {@link DEFAULT_DEMO_EVENTS_PER_SECOND}). */
  readonly eventsPerSecond?: number;
  /**
   * Incident kinds to inject at seeded random times after the warm-up (default: all four), an explicit
   * schedule, or `false` for none.
   */
  readonly incidents?: readonly DemoIncidentKindName[] | readonly DemoIncidentSpec[] | false;
  /** The pipeline's window size: incidents and warm-up are sized in windows. */
  readonly windowMs: number;
  /**
   * Run length. The fleet stops producing by itself after it (see `finished`), and incidents are
   * scheduled to end a few windows before it. Without it the fleet runs until `stop()`, with a round
   * of incidents every 5 minutes (or 60 windows), six rounds; a round never hits a service·metric the
   * alert cooldown (15 min) would still keep quiet.
   */
  readonly durationMs?: number;
  /**
   * Quiet time before the first incident. Default: the default detector's `warmupPoints` + 10 windows
   * (the detector emits no score during its warm-up), shortened if a bounded run would otherwise have
   * no room for the incidents — but never below `warmupPoints` windows.
   */
  readonly warmupMs?: number;
  /** Length of the compressed "day" of traffic variation. Default `durationMs`, else 30 minutes. */
  readonly dayMs?: number;
  /** Relative amplitude of the daily variation. Default {@link DEFAULT_DAY_AMPLITUDE}. */
  readonly dayAmplitude?: number;
  /** One malformed record every this often (default 5,000); `false` for none. */
  readonly malformedEveryMs?: number | false;
  /** Generation tick (default {@link DEFAULT_DEMO_TICK_MS}). */
  readonly tickMs?: number;
  /** Clock (epoch ms) for event times; default `Date.now`. Timers still run in real time. */
  readonly now?: () => number;
  /** Called for every well-formed event as it is handed to its transport. Keep it cheap. */
  readonly onEvent?: (event: DemoEvent, service: DemoService) => void;
  /** Delivery problems (a record given up after retries). Default: one stderr line per problem kind. */
  readonly onWarning?: (message: string) => void;
}

/** Counters of a running fleet. */
export interface DemoFleetStats {
  /** Well-formed events generated (handed to a transport). */
  generated: number;
  /** Well-formed events acknowledged by Kinesis (= `produced()`). */
  produced: number;
  /** Well-formed events given up on after retries (never acknowledged). */
  failed: number;
  /** Malformed records acknowledged by Kinesis, by the reject code each must produce. */
  malformed: Partial<Record<MalformedCode, number>>;
  /** Kinesis records written directly (not through the SDK shipper). */
  directRecords: number;
  /** Records and events waiting for (re)sending. */
  pendingRecords: number;
}

/** A running demo fleet. */
export interface DemoFleet {
  /** Fleet start (epoch ms, from `now`). */
  readonly startMs: number;
  /** The warm-up actually used (ms). */
  readonly warmupMs: number;
  readonly services: readonly DemoService[];
  /** Resolves once the fleet has stopped and flushed (after `durationMs`, or after `stop()`). */
  readonly finished: Promise<void>;
  /** Stops producing and resolves once every generated record is acknowledged or given up. Idempotent. */
  stop(): Promise<void>;
  /** Well-formed demo events acknowledged by Kinesis so far (malformed records excluded). */
  produced(): number;
  /** Malformed records written, by the reject code each must produce. */
  malformed(): Partial<Record<MalformedCode, number>>;
  /** The incident schedule (past, current and future), sorted by start. */
  incidents(): readonly DemoIncident[];
  /** When the event with this id was handed to its transport (epoch ms), or undefined if unknown. */
  sentAt(eventId: string): number | undefined;
  stats(): DemoFleetStats;
}

interface DirectRecord {
  readonly api: 'PutRecord' | 'PutRecords';
  readonly partitionKey: string;
  readonly data: Uint8Array;
  /** Well-formed events inside. */
  readonly events: number;
  readonly malformed: MalformedCode | undefined;
  firstTryMs: number;
  attempt: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Growable Float64Array of send times indexed by event sequence number. */
class SentTimes {
  private times = new Float64Array(16_384).fill(Number.NaN);
  set(seq: number, ms: number): void {
    if (seq >= this.times.length) {
      let n = this.times.length;
      while (n <= seq) n *= 2;
      const next = new Float64Array(n).fill(Number.NaN);
      next.set(this.times);
      this.times = next;
    }
    this.times[seq] = ms;
  }
  get(seq: number): number | undefined {
    const v = seq >= 0 && seq < this.times.length ? this.times[seq] : undefined;
    return v === undefined || Number.isNaN(v) ? undefined : v;
  }
}

function isKindList(
  x: readonly DemoIncidentKindName[] | readonly DemoIncidentSpec[],
): x is readonly DemoIncidentKindName[] {
  return x.every((k) => typeof k === 'string');
}

/**
 * Starts a synthetic fleet of services writing logs into `streamName`. See the module doc for the
 * formats and transports, docs/demo.md for the traffic model and incidents.
 *
 * @example
 * const client = createKinesisClient('http://127.0.0.1:4567');
 * const fleet = startDemoFleet({ kinesisClient: client, streamName: 'tidewatch-logs', seed: 42,
 *   windowMs: 1_000, durationMs: 90_000 });
 * await fleet.finished;                 // or: await fleet.stop() on Ctrl-C
 * console.log(fleet.produced(), fleet.incidents(), fleet.malformed());
 */
export function startDemoFleet(options: DemoFleetOptions): DemoFleet {
  const now = options.now ?? Date.now;
  const startMs = now();
  const windowMs = options.windowMs;
  if (!(windowMs > 0)) throw new RangeError(`windowMs must be > 0, got ${windowMs}`);
  const services = demoServices(options.services ?? 6);
  const tickMs = options.tickMs ?? DEFAULT_DEMO_TICK_MS;
  const durationMs = options.durationMs;
  const detectorWarmupMs = DEFAULT_DETECTOR_OPTIONS.warmupPoints * windowMs;
  let warmupMs =
    options.warmupMs ?? (DEFAULT_DETECTOR_OPTIONS.warmupPoints + EXTRA_WARMUP_WINDOWS) * windowMs;
  if (options.warmupMs === undefined && durationMs !== undefined) {
    warmupMs = Math.max(
      detectorWarmupMs + 3 * windowMs,
      Math.min(warmupMs, durationMs - minIncidentSpanMs(windowMs)),
    );
  }
  const incidentOption = options.incidents ?? Object.values(DemoIncidentKind);
  const incidents: DemoIncident[] =
    incidentOption === false
      ? []
      : isKindList(incidentOption)
        ? planIncidents({
            seed: options.seed,
            services,
            kinds: incidentOption,
            startMs,
            windowMs,
            durationMs,
            warmupMs,
          })
        : incidentOption
            .map((s) => ({ ...s, metrics: IncidentMetrics[s.kind] }))
            .sort((a, b) => a.startMs - b.startMs);
  const runTag = `${(options.seed >>> 0).toString(36)}${(startMs % 46_656).toString(36)}`;
  const traffic = new DemoTraffic({
    seed: options.seed,
    runTag,
    services,
    incidents,
    eventsPerSecond: options.eventsPerSecond ?? DEFAULT_DEMO_EVENTS_PER_SECOND,
    startMs,
    dayMs: options.dayMs ?? durationMs ?? 30 * 60_000,
    dayAmplitude: options.dayAmplitude ?? DEFAULT_DAY_AMPLITUDE,
  });
  const rng = new DemoRandom(options.seed ^ 0x0bad_f00d);
  const client = options.kinesisClient;
  const sent = new SentTimes();
  const warned = new Set<string>();
  const warn =
    options.onWarning ??
    ((message: string) => {
      const key = message.split(':')[0] ?? message;
      if (warned.has(key)) return;
      warned.add(key);
      process.stderr.write(`tidewatch demo: ${message}\n`);
    });

  // The SDK's own shipper per SDK-shipping service, partition key = service (ordered per service).
  const shippers = new Map<string, Shipper>();
  for (const s of services) {
    if (s.transport !== 'sdk') continue;
    shippers.set(
      s.name,
      createShipper({
        streamName: options.streamName,
        client,
        partitionKey: s.name,
        lingerMs: 100,
        onError: (err) => warn(`SDK shipper for ${s.name}: ${err.message}`),
      }),
    );
  }
  const serviceIndex = new Map(services.map((s, i) => [s.name, i]));

  let directProduced = 0;
  let directFailed = 0;
  let directRecords = 0;
  const malformedCounts: Partial<Record<MalformedCode, number>> = {};
  const queue: DirectRecord[] = [];
  let inFlight = 0;
  let drainWaiters: (() => void)[] = [];

  function settle(r: DirectRecord, ok: boolean): void {
    if (ok) {
      directRecords++;
      if (r.malformed !== undefined) malformedCounts[r.malformed] = (malformedCounts[r.malformed] ?? 0) + 1;
      else directProduced += r.events;
    } else if (Date.now() - r.firstTryMs > MAX_RETRY_MS) {
      if (r.malformed === undefined) directFailed += r.events;
      warn(`giving up on a record of ${r.events} events after ${MAX_RETRY_MS} ms of retries`);
    } else {
      r.attempt++;
      const delay = fullJitterDelayMs(r.attempt, 100, 5_000);
      inFlight++;
      void sleep(delay).then(() => {
        inFlight--;
        queue.push(r);
        pump();
      });
    }
  }

  async function sendOne(r: DirectRecord): Promise<void> {
    try {
      await client.send(
        new PutRecordCommand({ StreamName: options.streamName, PartitionKey: r.partitionKey, Data: r.data }),
      );
      settle(r, true);
    } catch (err) {
      warn(`PutRecord failed (will retry): ${(err as Error).message}`);
      settle(r, false);
    }
  }

  async function sendMany(rs: DirectRecord[]): Promise<void> {
    try {
      const out = await client.send(
        new PutRecordsCommand({
          StreamName: options.streamName,
          Records: rs.map((r) => ({ PartitionKey: r.partitionKey, Data: r.data })),
        }),
      );
      const results = out.Records ?? [];
      for (let i = 0; i < rs.length; i++) {
        const res = results[i];
        settle(rs[i]!, res !== undefined && res.ErrorCode === undefined && res.SequenceNumber !== undefined);
      }
    } catch (err) {
      warn(`PutRecords failed (will retry): ${(err as Error).message}`);
      for (const r of rs) settle(r, false);
    }
  }

  function pump(): void {
    while (inFlight < MAX_IN_FLIGHT_CALLS && queue.length > 0) {
      const first = queue[0]!;
      let call: Promise<void>;
      if (first.api === 'PutRecord') {
        queue.shift();
        call = sendOne(first);
      } else {
        const batch: DirectRecord[] = [];
        let bytes = 0;
        for (let i = 0; i < queue.length && batch.length < MAX_PUT_RECORDS_ENTRIES; ) {
          const r = queue[i]!;
          // 5 MiB per PutRecords request, partition keys included (Kinesis API reference).
          if (r.api === 'PutRecords' && bytes + r.data.byteLength + r.partitionKey.length <= 5 * 1_048_576) {
            batch.push(r);
            bytes += r.data.byteLength + r.partitionKey.length;
            queue.splice(i, 1);
          } else i++;
        }
        call = sendMany(batch);
      }
      inFlight++;
      void call.then(() => {
        inFlight--;
        pump();
        if (inFlight === 0 && queue.length === 0) {
          const ws = drainWaiters;
          drainWaiters = [];
          for (const w of ws) w();
        }
      });
    }
  }

  function drained(): Promise<void> {
    if (inFlight === 0 && queue.length === 0) return Promise.resolve();
    return new Promise((r) => drainWaiters.push(r));
  }

  function enqueue(
    api: DirectRecord['api'],
    partitionKey: string,
    data: Uint8Array,
    events: number,
    malformed?: MalformedCode,
  ): void {
    queue.push({ api, partitionKey, data, events, malformed, firstTryMs: Date.now(), attempt: 0 });
  }

  // Per tick: generate, group by service, hand to transports.
  let lastTickMs = startMs;
  const endMs = durationMs === undefined ? Number.POSITIVE_INFINITY : startMs + durationMs;
  const malformedEveryMs = options.malformedEveryMs ?? DEFAULT_MALFORMED_EVERY_MS;
  let nextMalformedMs =
    malformedEveryMs === false
      ? Number.POSITIVE_INFINITY
      : startMs + malformedEveryMs * rng.between(0.5, 1.5);
  let malformedTurn = 0;
  const byService: DemoEvent[][] = services.map(() => []);

  function tick(): void {
    const t = Math.min(now(), endMs);
    if (t <= lastTickMs) return;
    const events = traffic.generate(lastTickMs, t);
    lastTickMs = t;
    for (const e of events) byService[serviceIndex.get(e.service)!]!.push(e);
    for (let s = 0; s < services.length; s++) {
      const list = byService[s]!;
      if (list.length === 0) continue;
      const service = services[s]!;
      for (const e of list) {
        sent.set(e.seq, t);
        options.onEvent?.(e, service);
      }
      dispatch(service, list);
      byService[s] = [];
    }
    while (t >= nextMalformedMs && malformedEveryMs !== false) {
      const code = MALFORMED_CODES[malformedTurn++ % MALFORMED_CODES.length]!;
      enqueue('PutRecord', MALFORMED_PARTITION_KEY, malformedRecord(code, rng), 0, code);
      nextMalformedMs += malformedEveryMs * rng.between(0.5, 1.5);
    }
    pump();
  }

  function dispatch(service: DemoService, events: DemoEvent[]): void {
    switch (service.transport) {
      case 'sdk': {
        const shipper = shippers.get(service.name)!;
        for (const e of events) shipper.send(renderLine(service.format, e));
        return;
      }
      case 'put_records':
        for (let i = 0; i < events.length; i += LINES_PER_RECORD) {
          const chunk = events.slice(i, i + LINES_PER_RECORD);
          const text = chunk.map((e) => renderLine(service.format, e)).join('\n');
          enqueue('PutRecords', service.name, Buffer.from(`${text}\n`, 'utf8'), chunk.length);
        }
        return;
      case 'put_record':
        if (service.format === 'otel')
          enqueue(
            'PutRecord',
            service.name,
            Buffer.from(otlpExport(service.name, events), 'utf8'),
            events.length,
          );
        else
          enqueue(
            'PutRecord',
            service.name,
            Buffer.from(events.map((e) => renderLine(service.format, e)).join('\n'), 'utf8'),
            events.length,
          );
        return;
      case 'cloudwatch_logs': {
        const lines = events.map((e) => renderLine(service.format, e));
        enqueue(
          'PutRecord',
          service.name,
          cloudWatchEnvelope(service.name, service.format, events, lines),
          events.length,
        );
        return;
      }
    }
  }

  const timer = setInterval(() => {
    tick();
    if (lastTickMs >= endMs) void stop();
  }, tickMs);

  let stopping: Promise<void> | undefined;
  let resolveFinished: () => void = () => {};
  const finished = new Promise<void>((r) => {
    resolveFinished = r;
  });

  function stop(): Promise<void> {
    if (stopping !== undefined) return stopping;
    clearInterval(timer);
    tick();
    stopping = (async () => {
      await drained();
      await Promise.all([...shippers.values()].map((s) => s.close()));
      resolveFinished();
    })();
    return stopping;
  }

  function sdkStats(): { sent: number; failed: number } {
    let sentCount = 0;
    let failed = 0;
    for (const s of shippers.values()) {
      const st = s.stats();
      sentCount += st.sent;
      failed += st.failed + st.dropped;
    }
    return { sent: sentCount, failed };
  }

  return {
    startMs,
    warmupMs,
    services,
    finished,
    stop,
    produced: () => directProduced + sdkStats().sent,
    malformed: () => ({ ...malformedCounts }),
    incidents: () => incidents,
    sentAt: (eventId) => (eventId.startsWith(`dm_${runTag}_`) ? sent.get(demoSeqOf(eventId)) : undefined),
    stats: () => {
      const sdk = sdkStats();
      return {
        generated: traffic.generated,
        produced: directProduced + sdk.sent,
        failed: directFailed + sdk.failed,
        malformed: { ...malformedCounts },
        directRecords,
        pendingRecords: queue.length + inFlight,
      };
    },
  };
}
