/**
 * The demo fleet's traffic: a pure, seeded generator of request log events. Given the same seed, the
 * same services and incidents and the same sequence of `generate(fromMs, toMs)` calls, it returns
 * exactly the same events — the clock is an argument, never read.
 */
import type { LevelName } from '../../processors/schema.ts';
import type { DemoIncident, DemoService } from './fleetPlan.ts';
import { DemoRandom } from './random.ts';

/** One request log event of the fleet, before it is rendered in its service's format. */
export interface DemoEvent {
  /** Unique id, `dm_<run>_<n>` (see {@link DEMO_ID_PATTERN}); every format carries it verbatim. */
  readonly id: string;
  /** Sequence number within the run (0, 1, 2, …); the id's last part in base 36. */
  readonly seq: number;
  readonly service: string;
  /** Event time (epoch ms, integer). */
  readonly timeMs: number;
  readonly level: LevelName;
  readonly message: string;
  readonly method: string;
  readonly route: string;
  readonly status: number;
  /** Request duration, ms, rounded to 0.001 ms (exact in every format, including ECS nanoseconds). */
  readonly durationMs: number;
  /** 32 hex characters (W3C trace id). */
  readonly traceId: string;
}

/**
 * Matches a demo event id anywhere in a raw line, whatever its format (JSON value, logfmt value,
 * plain text, OTLP attribute). Ids never occur in anything but the demo's own well-formed events.
 */
export const DEMO_ID_PATTERN = /\bdm_[0-9a-z]+_[0-9a-z]+\b/;

/**
 * The demo id in a raw archived line or message, if any.
 *
 * @example
 * demoIdOf('{"level":30,"demo_id":"dm_k2x9_1f","msg":"GET /cart 200"}'); // 'dm_k2x9_1f'
 * demoIdOf('hello'); // undefined
 */
export function demoIdOf(raw: string): string | undefined {
  const m = DEMO_ID_PATTERN.exec(raw);
  return m === null ? undefined : m[0];
}

/** Sequence number of a demo id (`NaN` if it is not one). */
export function demoSeqOf(id: string): number {
  const last = id.lastIndexOf('_');
  if (!id.startsWith('dm_') || last <= 3) return Number.NaN;
  return Number.parseInt(id.slice(last + 1), 36);
}

/** Options of {@link DemoTraffic}. */
export interface DemoTrafficOptions {
  readonly seed: number;
  /** Run tag inside every id (base 36 characters). */
  readonly runTag: string;
  readonly services: readonly DemoService[];
  readonly incidents: readonly DemoIncident[];
  /** Mean events per second of the whole fleet, before daily variation and incidents. */
  readonly eventsPerSecond: number;
  /** Start of the run (epoch ms): phase 0 of the daily cycle. */
  readonly startMs: number;
  /** Length of one compressed "day" (ms). */
  readonly dayMs: number;
  /** Relative amplitude of the daily cycle (0.2 = ±20 %). */
  readonly dayAmplitude: number;
}

const ERROR_MESSAGES = [
  'upstream request timeout',
  'connection refused by db-primary:5432',
  'circuit breaker open',
  'unhandled exception in handler',
] as const;
const ERROR_STATUSES = [500, 502, 503, 504] as const;
const CLIENT_STATUSES = [400, 401, 404, 409, 429] as const;
/**
 * How bad each incident is. Sized so the default detector, early in its life (a few dozen windows of
 * history, prior tail model), scores the incident above the default alert threshold — see
 * docs/demo.md for the measurement — while still looking like the incident it is named after.
 */
export const IncidentShape = {
  /** Error probability during an error spike (baseline ≈ 1 %). */
  errorSpikeRate: 0.3,
  /** Latency multiplier of a latency regression. */
  latencyFactor: 5,
  /** Traffic multiplier of a traffic drop: a near outage (a broken upstream, a bad deploy of a caller). */
  trafficDropFactor: 0.03,
  /** Latency multiplier a slow degradation reaches, and the error probability it adds. */
  degradationLatencyFactor: 6,
  degradationErrorRate: 0.25,
  /** Share of the incident over which a slow degradation creeps up before it plateaus. */
  degradationRampShare: 0.3,
} as const;

/** Share of requests answered with a 4xx (warnings, not errors). */
const CLIENT_ERROR_RATE = 0.03;

/**
 * Seeded request traffic for the fleet. Rates follow a compressed daily cycle (a main wave and a
 * smaller second harmonic, like a day with a morning and an evening peak) with Poisson noise;
 * incidents change error probability, latency or rate of their service while they last.
 *
 * @example
 * const traffic = new DemoTraffic({ seed: 1, runTag: 'a', services: demoServices(6), incidents: [],
 *   eventsPerSecond: 400, startMs: 0, dayMs: 90_000, dayAmplitude: 0.15 });
 * const events = traffic.generate(0, 100); // ≈ 40 events with times in [0, 100)
 */
export class DemoTraffic {
  private readonly rng: DemoRandom;
  private readonly o: DemoTrafficOptions;
  private readonly shares: number[];
  private seq = 0;

  constructor(options: DemoTrafficOptions) {
    this.o = options;
    this.rng = new DemoRandom(options.seed);
    const total = options.services.reduce((s, x) => s + x.weight, 0);
    this.shares = options.services.map((s) => (total > 0 ? s.weight / total : 0));
  }

  /** Events generated so far (the next event's `seq`). */
  get generated(): number {
    return this.seq;
  }

  /** Fleet-wide rate multiplier of the daily cycle at `timeMs` (mean 1). */
  dailyFactor(timeMs: number): number {
    const phase = (2 * Math.PI * (timeMs - this.o.startMs)) / this.o.dayMs;
    const a = this.o.dayAmplitude;
    return 1 + a * (0.8 * Math.sin(phase - Math.PI / 2) + 0.2 * Math.sin(2 * phase));
  }

  /** Expected events per second of `service` at `timeMs`, incidents included. */
  rateOf(serviceIndex: number, timeMs: number): number {
    const service = this.o.services[serviceIndex];
    if (service === undefined) return 0;
    let rate = this.o.eventsPerSecond * (this.shares[serviceIndex] ?? 0) * this.dailyFactor(timeMs);
    const inc = this.incidentAt(service.name, timeMs);
    if (inc?.kind === 'traffic_drop') rate *= IncidentShape.trafficDropFactor;
    return rate;
  }

  private incidentAt(service: string, timeMs: number): DemoIncident | undefined {
    const incidents = this.o.incidents;
    for (let i = 0; i < incidents.length; i++) {
      const inc = incidents[i]!;
      if (inc.service === service && timeMs >= inc.startMs && timeMs < inc.endMs) return inc;
    }
    return undefined;
  }

  /**
   * Events with times in `[fromMs, toMs)`, sorted by time within each service (services follow each
   * other in fleet order). Counts are Poisson with the rate at the middle of the interval.
   */
  generate(fromMs: number, toMs: number): DemoEvent[] {
    const out: DemoEvent[] = [];
    const spanMs = toMs - fromMs;
    if (!(spanMs > 0)) return out;
    const mid = fromMs + spanMs / 2;
    const rng = this.rng;
    const services = this.o.services;
    for (let s = 0; s < services.length; s++) {
      const service = services[s]!;
      const n = rng.poisson((this.rateOf(s, mid) * spanMs) / 1000);
      if (n === 0) continue;
      const times: number[] = [];
      for (let i = 0; i < n; i++) times.push(Math.min(toMs - 1, Math.floor(fromMs + rng.uniform() * spanMs)));
      times.sort((a, b) => a - b);
      for (let i = 0; i < n; i++) out.push(this.event(service, times[i]!));
    }
    return out;
  }

  private event(service: DemoService, timeMs: number): DemoEvent {
    const rng = this.rng;
    const inc = this.incidentAt(service.name, timeMs);
    let errorRate = service.errorRate;
    let latencyFactor = 1;
    if (inc !== undefined) {
      const shape = IncidentShape;
      if (inc.kind === 'error_spike') errorRate = shape.errorSpikeRate;
      else if (inc.kind === 'latency_regression') latencyFactor = shape.latencyFactor;
      else if (inc.kind === 'slow_degradation') {
        // Creeps up over the first part of the incident, then stays bad (the disk is full now).
        const p = Math.min(
          1,
          (timeMs - inc.startMs) / ((inc.endMs - inc.startMs) * shape.degradationRampShare),
        );
        latencyFactor = 1 + (shape.degradationLatencyFactor - 1) * p;
        errorRate += shape.degradationErrorRate * p;
      }
    }
    const route = rng.pick(service.routes);
    const durationMs = Math.round(rng.logNormal(route.medianMs * latencyFactor, 0.45) * 1000) / 1000;
    let status = 200;
    let level: LevelName = 'info';
    let message: string;
    if (rng.chance(errorRate)) {
      status = rng.pick(ERROR_STATUSES);
      level = 'error';
      message = `${route.method} ${route.path} failed: ${rng.pick(ERROR_MESSAGES)}`;
    } else if (rng.chance(CLIENT_ERROR_RATE)) {
      status = rng.pick(CLIENT_STATUSES);
      level = 'warn';
      message = `${route.method} ${route.path} rejected`;
    } else {
      if (route.method === 'POST' && rng.chance(0.1)) status = 201;
      message = `${route.method} ${route.path} completed`;
    }
    const seq = this.seq++;
    return {
      id: `dm_${this.o.runTag}_${seq.toString(36)}`,
      seq,
      service: service.name,
      timeMs,
      level,
      message,
      method: route.method,
      route: route.path,
      status,
      durationMs,
      traceId: rng.hex(32),
    };
  }
}
