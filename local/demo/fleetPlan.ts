/**
 * The demo fleet's cast and script: which services exist, what log format and transport each one
 * uses, how much traffic it gets, and when which incident strikes which service. Pure data and pure
 * functions of the seed — no clock, no I/O — so the schedule is testable on its own.
 */
import { Metric, type MetricName } from '../../processors/schema.ts';
import { DEFAULT_ALERT_RULE } from '../../processors/transforms/detect/alertRules.ts';
import { DemoRandom } from './random.ts';

/** Log formats the demo services write (how one line looks). */
export const DemoFormat = {
  /** pino JSON: numeric `level`, epoch-ms `time`, `msg`, pino-http `req`/`res`/`responseTime`. */
  pino: 'pino',
  /** Elastic Common Schema JSON: `@timestamp`, `log.level`, `http.response.status_code`, `event.duration` (ns). */
  ecs: 'ecs',
  /** logfmt: `ts=… level=… msg="…" status=… duration_ms=…`. */
  logfmt: 'logfmt',
  /** Plain text: `2026-01-15T10:00:00.000Z ERROR …` (status and duration stay in the message). */
  text: 'text',
  /** OpenTelemetry OTLP/JSON logs export (`resourceLogs` → `scopeLogs` → `logRecords`). */
  otel: 'otel',
} as const;
export type DemoFormatName = (typeof DemoFormat)[keyof typeof DemoFormat];

/** How the lines reach the logs stream. */
export const DemoTransport = {
  /** The tidewatch SDK (`createShipper`): shard-aware KPL aggregates via PutRecords. */
  sdk: 'sdk',
  /** PutRecords of plain records holding several newline-separated lines (Fluent Bit, Vector style). */
  putRecords: 'put_records',
  /** PutRecord of one record per batch of lines (an OTLP export is one record). */
  putRecord: 'put_record',
  /** CloudWatch Logs subscription filter: gzip JSON envelopes with `logEvents`, one PutRecord each. */
  cloudWatchLogs: 'cloudwatch_logs',
} as const;
export type DemoTransportName = (typeof DemoTransport)[keyof typeof DemoTransport];

/** Incidents the fleet can inject. */
export const DemoIncidentKind = {
  /** Error rate jumps from ~1 % to 30 %. */
  errorSpike: 'error_spike',
  /** Every request takes 5× longer. */
  latencyRegression: 'latency_regression',
  /** Traffic falls to 3 % of normal (a broken upstream, a bad deploy of a caller). */
  trafficDrop: 'traffic_drop',
  /** Latency creeps up to 6× and errors by 25 points over the first 30 % of the incident, then stay there (a leak, a filling disk). */
  slowDegradation: 'slow_degradation',
} as const;
export type DemoIncidentKindName = (typeof DemoIncidentKind)[keyof typeof DemoIncidentKind];

/** The metrics an incident of each kind is expected to move (what an alert should name). */
export const IncidentMetrics: Readonly<Record<DemoIncidentKindName, readonly MetricName[]>> = {
  error_spike: [Metric.errorRate],
  latency_regression: [Metric.latencyP99],
  traffic_drop: [Metric.eventRate],
  slow_degradation: [Metric.latencyP99, Metric.errorRate],
};

/** One service of the fleet. */
export interface DemoService {
  readonly name: string;
  readonly format: DemoFormatName;
  readonly transport: DemoTransportName;
  /** Share of the fleet's traffic (weights are normalized over the fleet). */
  readonly weight: number;
  /** Routes with their median latency (ms). */
  readonly routes: readonly { readonly path: string; readonly method: string; readonly medianMs: number }[];
  /** Baseline probability that a request fails (status 5xx, level error). */
  readonly errorRate: number;
  /** Whether the format carries status and duration fields (plain text does not). */
  readonly structured: boolean;
}

/** An injected incident; times are epoch milliseconds, `[startMs, endMs)`. */
export interface DemoIncident {
  readonly service: string;
  readonly kind: DemoIncidentKindName;
  readonly startMs: number;
  readonly endMs: number;
  /** Metrics this incident should move (`IncidentMetrics[kind]`). */
  readonly metrics: readonly MetricName[];
}

/** Catalogue the default fleet is drawn from, in order; a 7th service wraps around with a suffix. */
const CATALOGUE: readonly Omit<DemoService, 'name'>[] & { names?: never } = [
  {
    format: 'pino',
    transport: 'sdk',
    weight: 1.6,
    routes: [
      { path: '/cart', method: 'GET', medianMs: 35 },
      { path: '/checkout', method: 'POST', medianMs: 120 },
      { path: '/cart/items', method: 'POST', medianMs: 45 },
    ],
    errorRate: 0.008,
    structured: true,
  },
  {
    format: 'ecs',
    transport: 'sdk',
    weight: 1.0,
    routes: [
      { path: '/payments', method: 'POST', medianMs: 180 },
      { path: '/payments/refund', method: 'POST', medianMs: 150 },
      { path: '/payments/status', method: 'GET', medianMs: 25 },
    ],
    errorRate: 0.01,
    structured: true,
  },
  {
    format: 'logfmt',
    transport: 'put_records',
    weight: 1.4,
    routes: [
      { path: '/search', method: 'GET', medianMs: 60 },
      { path: '/suggest', method: 'GET', medianMs: 15 },
    ],
    errorRate: 0.006,
    structured: true,
  },
  {
    format: 'text',
    transport: 'cloudwatch_logs',
    weight: 0.9,
    routes: [
      { path: '/stock', method: 'GET', medianMs: 20 },
      { path: '/stock/reserve', method: 'POST', medianMs: 70 },
    ],
    errorRate: 0.01,
    structured: false,
  },
  {
    format: 'otel',
    transport: 'put_record',
    weight: 1.2,
    routes: [
      { path: '/login', method: 'POST', medianMs: 90 },
      { path: '/token/refresh', method: 'POST', medianMs: 30 },
      { path: '/userinfo', method: 'GET', medianMs: 12 },
    ],
    errorRate: 0.007,
    structured: true,
  },
  {
    format: 'pino',
    transport: 'cloudwatch_logs',
    weight: 0.9,
    routes: [
      { path: '/notify/email', method: 'POST', medianMs: 110 },
      { path: '/notify/push', method: 'POST', medianMs: 40 },
    ],
    errorRate: 0.012,
    structured: true,
  },
];

const NAMES = ['checkout', 'payments', 'search', 'inventory', 'auth', 'notifications'] as const;

/**
 * The fleet: `count` services, or services with the given names, cycling through six archetypes
 * (pino over the SDK, ECS over the SDK, logfmt over PutRecords, plain text over CloudWatch Logs,
 * OTLP/JSON over PutRecord, pino over CloudWatch Logs).
 *
 * @example
 * demoServices(6).map((s) => `${s.name}:${s.format}/${s.transport}`);
 * // ['checkout:pino/sdk', 'payments:ecs/sdk', 'search:logfmt/put_records', ...]
 */
export function demoServices(services: number | readonly string[] = NAMES.length): DemoService[] {
  const names: string[] =
    typeof services === 'number'
      ? Array.from({ length: services }, (_, i) => {
          const base = NAMES[i % NAMES.length] as string;
          return i < NAMES.length ? base : `${base}-${Math.floor(i / NAMES.length) + 1}`;
        })
      : [...services];
  return names.map((name, i) => ({
    name,
    ...(CATALOGUE[i % CATALOGUE.length] as Omit<DemoService, 'name'>),
  }));
}

/** Inputs of {@link planIncidents}. */
export interface IncidentPlanOptions {
  readonly seed: number;
  readonly services: readonly DemoService[];
  readonly kinds: readonly DemoIncidentKindName[];
  /** Fleet start (epoch ms). */
  readonly startMs: number;
  readonly windowMs: number;
  /** Run length; without it incidents repeat in rounds of `roundMs`. */
  readonly durationMs?: number | undefined;
  /** Incidents start no earlier than this after the start (detector warm-up). */
  readonly warmupMs: number;
  /** Length of one round of incidents for open-ended runs. Default 5 minutes or 60 windows, the longer. */
  readonly roundMs?: number;
  /** How many rounds to plan for open-ended runs. Default 6. */
  readonly rounds?: number;
}

/** Windows an incident lasts, by kind (slow degradation needs time to creep). */
const INCIDENT_WINDOWS: Readonly<Record<DemoIncidentKindName, readonly [number, number]>> = {
  error_spike: [8, 12],
  latency_regression: [8, 12],
  traffic_drop: [8, 12],
  slow_degradation: [16, 22],
};

const PICK_ORDER: readonly DemoIncidentKindName[] = [
  'traffic_drop',
  'slow_degradation',
  'latency_regression',
  'error_spike',
];

/** Windows left after the last incident ends, so its windows close and are scored before the end. */
const TAIL_WINDOWS = 4;

/**
 * Minimum window count a run needs after the warm-up to fit every incident kind: the longest
 * incident plus the tail.
 */
export function minIncidentSpanMs(windowMs: number): number {
  return (INCIDENT_WINDOWS.slow_degradation[1] + TAIL_WINDOWS) * windowMs;
}

/**
 * Seeded incident schedule. Each kind strikes a different service where one is available (kinds that
 * need latency go to services whose logs carry durations); within a round, times are random after the
 * warm-up and incidents end `TAIL_WINDOWS` windows before the run does. Incidents of different
 * services may overlap in time: each series is scored on its own.
 *
 * When a bounded run is too short for an incident's full length, the incident is shortened (down to
 * 5 windows) rather than dropped; when even that does not fit, it is left out.
 *
 * @example
 * planIncidents({ seed: 7, services: demoServices(6), kinds: ['error_spike', 'traffic_drop'],
 *   startMs: Date.now(), windowMs: 1000, durationMs: 90_000, warmupMs: 40_000 });
 */
export function planIncidents(o: IncidentPlanOptions): DemoIncident[] {
  const rng = new DemoRandom(o.seed ^ 0x5eed1c1d);
  const out: DemoIncident[] = [];
  const byWeight = o.services.map((s) => s.weight).sort((a, b) => b - a);
  const rounds = o.durationMs === undefined ? (o.rounds ?? 6) : 1;
  const roundMs = o.roundMs ?? Math.max(5 * 60_000, 60 * o.windowMs);
  // The alert rules hold a series·metric quiet for `cooldownMs` after an alert: a later round must
  // not hit the same service on the same metric within it, or its incident could not be alerted.
  const cooldownMs = DEFAULT_ALERT_RULE.cooldownMs;
  const lastHitMs = new Map<string, number>();
  const lastHit = (service: string, kind: DemoIncidentKindName) =>
    Math.max(
      ...IncidentMetrics[kind].map((m) => lastHitMs.get(`${service}\u0000${m}`) ?? Number.NEGATIVE_INFINITY),
    );
  for (let round = 0; round < rounds; round++) {
    const roundStart = o.startMs + o.warmupMs + round * roundMs;
    const roundEnd =
      o.durationMs === undefined
        ? roundStart + roundMs - TAIL_WINDOWS * o.windowMs
        : o.startMs + o.durationMs - TAIL_WINDOWS * o.windowMs;
    const used = new Set<string>();
    // Most constrained kinds pick their service first (traffic drops need a busy service, latency
    // incidents a format with durations), so every kind finds a service of its own where possible.
    const kinds = [...o.kinds].sort((a, b) => PICK_ORDER.indexOf(a) - PICK_ORDER.indexOf(b));
    for (const kind of kinds) {
      const needsStructure = kind === 'latency_regression' || kind === 'slow_degradation';
      // A traffic drop shows against Poisson noise (±1/√n of a window's count): only the busier half
      // of the fleet has windows full enough for a drop to stand out early in the detector's life.
      const minWeight = kind === 'traffic_drop' ? (byWeight[Math.ceil(byWeight.length / 2) - 1] ?? 0) : 0;
      const fits = (s: DemoService) => (!needsStructure || s.structured) && s.weight >= minWeight;
      // Only services this kind's metrics are rested on; none rested → the kind sits this round out.
      const pool = o.services.filter(
        (s) => fits(s) && !used.has(s.name) && roundStart - lastHit(s.name, kind) > cooldownMs,
      );
      if (pool.length === 0) continue;
      const service = rng.pick(pool);
      used.add(service.name);
      const [lo, hi] = INCIDENT_WINDOWS[kind];
      const wanted = (lo + rng.int(hi - lo + 1)) * o.windowMs;
      const room = roundEnd - roundStart;
      const lengthMs = Math.min(wanted, room);
      if (lengthMs < 5 * o.windowMs) continue;
      // Align to window starts: an incident then owns whole windows, which keeps the expected answer crisp.
      const slack = Math.floor((room - lengthMs) / o.windowMs);
      const startMs =
        Math.ceil(roundStart / o.windowMs) * o.windowMs + rng.int(Math.max(1, slack)) * o.windowMs;
      const endMs = Math.min(startMs + lengthMs, Math.floor(roundEnd / o.windowMs) * o.windowMs);
      if (endMs - startMs < 5 * o.windowMs) continue;
      out.push({ service: service.name, kind, startMs, endMs, metrics: IncidentMetrics[kind] });
      for (const m of IncidentMetrics[kind]) lastHitMs.set(`${service.name}\u0000${m}`, startMs);
    }
  }
  return out.sort((a, b) => a.startMs - b.startMs);
}
