/**
 * Fault injection shared by the local AWS endpoints, so tests and `tidewatch start` can prove the
 * sinks lose nothing when AWS misbehaves the way it does in production: throttled entries inside an
 * HTTP 200 (Firehose `FailedPutCount`), whole calls throttled or failing with 5xx, slow calls, and
 * responses lost after the call took effect (the case that makes delivery at-least-once).
 *
 * Draws come from a seeded PRNG, so a failing test replays exactly. The config can be changed at any
 * time (`injector.set(...)`, or `POST /__tidewatch/faults` on any endpoint).
 */

/** What to inject. Fractions are probabilities in [0, 1]; all default to 0. */
export interface FaultConfig {
  /**
   * Fraction of entries failed individually where the API has per-entry results (Firehose
   * PutRecordBatch: `ErrorCode: ServiceUnavailableException`, "Slow down."). Ignored by APIs without.
   */
  throttleEntryFraction?: number;
  /** Fraction of calls answered with the service's throttling error (Timestream 429 `ThrottlingException`, …). */
  throttleCallFraction?: number;
  /** Fraction of calls answered with HTTP 500 (the service's internal error). */
  failCallFraction?: number;
  /** Fraction of calls processed normally whose response is then lost (socket destroyed). */
  dropResponseFraction?: number;
  /** Added latency per call, ms. */
  latencyMs?: number;
  /** Extra random latency in [0, latencyJitterMs), ms. */
  latencyJitterMs?: number;
  /** PRNG seed. Default 1. Setting it restarts the sequence. */
  seed?: number;
}

/** Counters of injected faults, for test assertions. */
export interface FaultStats {
  calls: number;
  throttledCalls: number;
  failedCalls: number;
  droppedResponses: number;
  throttledEntries: number;
}

/** The fault to apply to a whole call. */
export type CallFault = 'none' | 'throttle' | 'error';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const FRACTIONS = [
  'throttleEntryFraction',
  'throttleCallFraction',
  'failCallFraction',
  'dropResponseFraction',
] as const;

/**
 * Validates a fault config (from code, a test, or JSON over HTTP); throws RangeError naming the bad field.
 *
 * @example
 * parseFaultConfig({ throttleCallFraction: 0.2, seed: 7 });
 */
export function parseFaultConfig(input: unknown): FaultConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new RangeError('fault config must be a JSON object');
  }
  const raw = input as Record<string, unknown>;
  const out: FaultConfig = {};
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new RangeError(`fault config '${key}' must be a finite number, got ${JSON.stringify(value)}`);
    }
    if ((FRACTIONS as readonly string[]).includes(key)) {
      if (value < 0 || value > 1)
        throw new RangeError(`fault config '${key}' must be in [0, 1], got ${value}`);
    } else if (key === 'latencyMs' || key === 'latencyJitterMs') {
      if (value < 0 || value > 60_000) throw new RangeError(`fault config '${key}' must be in [0, 60000] ms`);
    } else if (key !== 'seed') {
      throw new RangeError(
        `unknown fault config '${key}'; known: ${[...FRACTIONS, 'latencyMs', 'latencyJitterMs', 'seed'].join(', ')}`,
      );
    }
    (out as Record<string, number>)[key] = value;
  }
  return out;
}

/**
 * Seeded fault source for one endpoint.
 *
 * @example
 * const faults = new FaultInjector({ throttleCallFraction: 0.1, seed: 42 });
 * const ts = await startTimestreamEndpoint({ dataDir, faults });
 * ts.faults.set({}); // heal
 */
export class FaultInjector {
  readonly stats: FaultStats = {
    calls: 0,
    throttledCalls: 0,
    failedCalls: 0,
    droppedResponses: 0,
    throttledEntries: 0,
  };
  private current: FaultConfig = {};
  private random: () => number = mulberry32(1);

  constructor(config: FaultConfig = {}) {
    this.set(config);
  }

  /** The active config. */
  get config(): Readonly<FaultConfig> {
    return this.current;
  }

  /** Replaces the config (validated); a `seed` restarts the random sequence. */
  set(config: FaultConfig): void {
    this.current = parseFaultConfig(config);
    if (config.seed !== undefined) this.random = mulberry32(config.seed);
  }

  /** Merges `partial` into the config. */
  update(partial: FaultConfig): void {
    this.set({ ...this.current, ...partial });
  }

  /** Draws the fault for a new call and counts it. */
  callFault(): CallFault {
    this.stats.calls++;
    const throttle = this.current.throttleCallFraction ?? 0;
    const fail = this.current.failCallFraction ?? 0;
    if (throttle === 0 && fail === 0) return 'none';
    const r = this.random();
    if (r < throttle) {
      this.stats.throttledCalls++;
      return 'throttle';
    }
    if (r < throttle + fail) {
      this.stats.failedCalls++;
      return 'error';
    }
    return 'none';
  }

  /** Draws whether one entry of a batch call is throttled. */
  entryThrottled(): boolean {
    const f = this.current.throttleEntryFraction ?? 0;
    if (f === 0 || this.random() >= f) return false;
    this.stats.throttledEntries++;
    return true;
  }

  /** Draws whether this call's response is lost after processing. */
  dropResponse(): boolean {
    const f = this.current.dropResponseFraction ?? 0;
    if (f === 0 || this.random() >= f) return false;
    this.stats.droppedResponses++;
    return true;
  }

  /** Latency to add to this call, ms. */
  delayMs(): number {
    const base = this.current.latencyMs ?? 0;
    const jitter = this.current.latencyJitterMs ?? 0;
    return jitter > 0 ? base + Math.floor(this.random() * jitter) : base;
  }
}
