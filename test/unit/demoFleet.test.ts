/**
 * The demo fleet: seeded determinism, a sane incident schedule, and every format and transport it
 * writes decoding (with the ingest path's own `decodeKinesisBatch`) into the events it meant.
 */
import { Buffer } from 'node:buffer';
import {
  type KinesisClient,
  ListShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import {
  DEMO_ID_PATTERN,
  type DemoEvent,
  DemoIncidentKind,
  DemoTraffic,
  demoIdOf,
  demoSeqOf,
  demoServices,
  MALFORMED_CODES,
  minIncidentSpanMs,
  planIncidents,
  startDemoFleet,
} from '../../local/demo/index.ts';
import { decodeKinesisBatch } from '../../processors/sources/decodeKinesisBatch.ts';
import type { KinesisEventRecord } from '../../processors/sources/kinesisEvent.ts';
import { DEFAULT_ALERT_RULE } from '../../processors/transforms/detect/alertRules.ts';

/** Captures what the fleet writes: PutRecord and PutRecords entries, in order, as Kinesis records. */
class CapturingKinesis {
  readonly records: { partitionKey: string; data: Uint8Array; api: 'PutRecord' | 'PutRecords' }[] = [];
  putRecordCalls = 0;
  putRecordsCalls = 0;

  asClient(): KinesisClient {
    return this as unknown as KinesisClient;
  }

  async send(command: unknown): Promise<unknown> {
    if (command instanceof PutRecordCommand) {
      this.putRecordCalls++;
      const i = this.records.push({
        partitionKey: command.input.PartitionKey!,
        data: command.input.Data!,
        api: 'PutRecord',
      });
      return { SequenceNumber: String(i), ShardId: 'shardId-000000000000' };
    }
    if (command instanceof PutRecordsCommand) {
      this.putRecordsCalls++;
      const out = (command.input.Records ?? []).map((r) => {
        const i = this.records.push({ partitionKey: r.PartitionKey!, data: r.Data!, api: 'PutRecords' });
        return { SequenceNumber: String(i), ShardId: 'shardId-000000000000' };
      });
      return { Records: out, FailedRecordCount: 0 };
    }
    if (command instanceof ListShardsCommand) {
      return {
        Shards: [
          {
            ShardId: 'shardId-000000000000',
            HashKeyRange: { StartingHashKey: '0', EndingHashKey: '340282366920938463463374607431768211455' },
            SequenceNumberRange: { StartingSequenceNumber: '1' },
          },
        ],
      };
    }
    throw new Error(`unexpected command ${(command as object).constructor.name}`);
  }

  destroy(): void {}

  /** The captured records as a Lambda Kinesis batch. */
  asEventRecords(): KinesisEventRecord[] {
    return this.records.map((r, i) => ({
      kinesis: {
        data: Buffer.from(r.data).toString('base64'),
        partitionKey: r.partitionKey,
        sequenceNumber: String(i + 1),
        approximateArrivalTimestamp: Date.now() / 1000,
      },
    }));
  }
}

const T0 = Date.UTC(2026, 0, 15, 10, 0, 0);

function trafficFor(
  seed: number,
  incidents = planIncidents({
    seed,
    services: demoServices(6),
    kinds: Object.values(DemoIncidentKind),
    startMs: T0,
    windowMs: 1000,
    durationMs: 90_000,
    warmupMs: 40_000,
  }),
): DemoTraffic {
  return new DemoTraffic({
    seed,
    runTag: 'test',
    services: demoServices(6),
    incidents,
    eventsPerSecond: 400,
    startMs: T0,
    dayMs: 90_000,
    dayAmplitude: 0.1,
  });
}

function run(traffic: DemoTraffic, ticks: number, tickMs = 200): DemoEvent[] {
  const out: DemoEvent[] = [];
  for (let i = 0; i < ticks; i++) out.push(...traffic.generate(T0 + i * tickMs, T0 + (i + 1) * tickMs));
  return out;
}

describe('DemoTraffic', () => {
  it('generates the same events for the same seed and ticks, different ones for another seed', () => {
    // Prepare
    const a = trafficFor(7);
    const b = trafficFor(7);
    const c = trafficFor(8);
    // Act
    const ea = run(a, 50);
    const eb = run(b, 50);
    const ec = run(c, 50);
    // Assess
    expect(ea.length).toBeGreaterThan(3000);
    expect(eb).toEqual(ea);
    expect(ec).not.toEqual(ea);
  });

  it('gives every event a unique id carrying its sequence number, inside the tick it was asked for', () => {
    // Prepare
    const traffic = trafficFor(3);
    // Act
    const events = run(traffic, 25);
    // Assess
    const ids = new Set(events.map((e) => e.id));
    expect(ids.size).toBe(events.length);
    for (const e of events) {
      expect(e.id).toMatch(DEMO_ID_PATTERN);
      expect(demoSeqOf(e.id)).toBe(e.seq);
      expect(e.timeMs).toBeGreaterThanOrEqual(T0);
      expect(e.timeMs).toBeLessThan(T0 + 25 * 200);
    }
    expect(traffic.generated).toBe(events.length);
  });

  it('keeps the fleet rate near the configured one and splits it over every service', () => {
    // Prepare
    const traffic = trafficFor(11, []);
    // Act: 20 s of traffic
    const events = run(traffic, 100);
    // Assess: 400/s ± a generous margin for the daily cycle and Poisson noise
    expect(events.length / 20).toBeGreaterThan(300);
    expect(events.length / 20).toBeLessThan(500);
    const services = new Set(events.map((e) => e.service));
    expect([...services].sort()).toEqual(
      demoServices(6)
        .map((s) => s.name)
        .sort(),
    );
  });

  it('applies incidents to their service only while they last', () => {
    // Prepare: one error spike and one traffic drop, each 10 s
    const incidents = [
      { service: 'checkout', kind: 'error_spike', startMs: T0 + 10_000, endMs: T0 + 20_000, metrics: [] },
      { service: 'search', kind: 'traffic_drop', startMs: T0 + 10_000, endMs: T0 + 20_000, metrics: [] },
    ] as const;
    const traffic = trafficFor(5, [...incidents]);
    // Act
    const events = run(traffic, 150);
    // Assess
    const inside = (e: DemoEvent) => e.timeMs >= T0 + 10_000 && e.timeMs < T0 + 20_000;
    const errRate = (xs: DemoEvent[]) => xs.filter((e) => e.level === 'error').length / xs.length;
    const checkout = events.filter((e) => e.service === 'checkout');
    expect(errRate(checkout.filter(inside))).toBeGreaterThan(0.2);
    expect(errRate(checkout.filter((e) => !inside(e)))).toBeLessThan(0.03);
    const search = events.filter((e) => e.service === 'search');
    const during = search.filter(inside).length / 10;
    const before = search.filter((e) => e.timeMs < T0 + 10_000).length / 10;
    expect(during).toBeLessThan(before * 0.15);
    const payments = events.filter((e) => e.service === 'payments');
    expect(errRate(payments.filter(inside))).toBeLessThan(0.05);
  });
});

describe('planIncidents', () => {
  it('schedules every kind once, after the warm-up, window-aligned, ending before the run does', () => {
    for (let seed = 1; seed <= 50; seed++) {
      // Prepare
      const services = demoServices(6);
      // Act
      const incidents = planIncidents({
        seed,
        services,
        kinds: Object.values(DemoIncidentKind),
        startMs: T0,
        windowMs: 1000,
        durationMs: 90_000,
        warmupMs: 40_000,
      });
      // Assess
      expect(incidents.map((i) => i.kind).sort()).toEqual(Object.values(DemoIncidentKind).sort());
      expect(new Set(incidents.map((i) => i.service)).size).toBe(4);
      for (const inc of incidents) {
        expect(inc.startMs).toBeGreaterThanOrEqual(T0 + 40_000);
        expect(inc.endMs).toBeLessThanOrEqual(T0 + 90_000 - 4_000);
        expect(inc.endMs - inc.startMs).toBeGreaterThanOrEqual(5_000);
        expect(inc.startMs % 1000).toBe(0);
        expect(inc.metrics.length).toBeGreaterThan(0);
        const service = services.find((s) => s.name === inc.service)!;
        if (inc.kind === 'latency_regression' || inc.kind === 'slow_degradation') {
          expect(service.structured).toBe(true);
        }
        if (inc.kind === 'traffic_drop') expect(service.weight).toBeGreaterThanOrEqual(1.2);
      }
      expect(incidents.map((i) => i.startMs)).toEqual(
        [...incidents.map((i) => i.startMs)].sort((a, b) => a - b),
      );
    }
  });

  it('is deterministic for a seed and fits the longest incident into the minimum span', () => {
    // Prepare
    const o = {
      seed: 9,
      services: demoServices(6),
      kinds: Object.values(DemoIncidentKind),
      startMs: T0,
      windowMs: 2000,
      durationMs: 80_000 + minIncidentSpanMs(2000),
      warmupMs: 80_000,
    };
    // Act
    const a = planIncidents(o);
    const b = planIncidents(o);
    // Assess
    expect(a).toEqual(b);
    expect(a).toHaveLength(4);
  });

  it('never hits a service·metric again within the alert cooldown in an open-ended run', () => {
    for (let seed = 1; seed <= 20; seed++) {
      // Act
      const incidents = planIncidents({
        seed,
        services: demoServices(6),
        kinds: Object.values(DemoIncidentKind),
        startMs: T0,
        windowMs: 1000,
        warmupMs: 40_000,
      });
      // Assess
      expect(incidents.length).toBeGreaterThanOrEqual(12);
      const last = new Map<string, number>();
      for (const inc of incidents) {
        for (const m of inc.metrics) {
          const key = `${inc.service}/${m}`;
          const prev = last.get(key);
          if (prev !== undefined) expect(inc.startMs - prev).toBeGreaterThan(DEFAULT_ALERT_RULE.cooldownMs);
          last.set(key, inc.startMs);
        }
      }
    }
  });

  it('plans rounds for an open-ended run and nothing when the run is too short', () => {
    // Act
    const open = planIncidents({
      seed: 2,
      services: demoServices(6),
      kinds: ['error_spike'],
      startMs: T0,
      windowMs: 10_000,
      warmupMs: 400_000,
      rounds: 3,
    });
    const none = planIncidents({
      seed: 2,
      services: demoServices(6),
      kinds: ['error_spike'],
      startMs: T0,
      windowMs: 1000,
      durationMs: 45_000,
      warmupMs: 40_000,
    });
    // Assess
    expect(open).toHaveLength(3);
    expect(open[1]!.startMs - T0).toBeGreaterThanOrEqual(400_000 + 600_000);
    expect(none).toEqual([]);
  });
});

describe('startDemoFleet', () => {
  it('writes every format and transport so that decodeKinesisBatch yields exactly the produced events', async () => {
    // Prepare
    const kinesis = new CapturingKinesis();
    const seen = new Map<string, DemoEvent>();
    // Act
    const fleet = startDemoFleet({
      kinesisClient: kinesis.asClient(),
      streamName: 'tidewatch-logs',
      seed: 42,
      windowMs: 1000,
      durationMs: 1_200,
      tickMs: 100,
      malformedEveryMs: 200,
      onEvent: (e) => seen.set(e.id, e),
      onWarning: (m) => {
        throw new Error(m);
      },
    });
    await fleet.finished;
    const batch = decodeKinesisBatch(kinesis.asEventRecords());
    // Assess: counts
    expect(fleet.produced()).toBe(seen.size);
    expect(fleet.produced()).toBeGreaterThan(200);
    expect(batch.eventCount).toBe(fleet.produced());
    const rejects: Record<string, number> = {};
    for (const c of batch.rejectCode) rejects[c] = (rejects[c] ?? 0) + 1;
    expect(rejects).toEqual(fleet.malformed());
    for (const code of MALFORMED_CODES) expect(fleet.malformed()[code]).toBeGreaterThanOrEqual(1);
    expect(fleet.stats()).toMatchObject({
      generated: seen.size,
      produced: seen.size,
      failed: 0,
      pendingRecords: 0,
    });
    // Assess: every transport was used (KPL aggregates from the SDK, PutRecords, PutRecord)
    expect(batch.stats.aggregatedRecords).toBeGreaterThan(0);
    expect(kinesis.records.some((r) => r.api === 'PutRecord')).toBe(true);
    expect(kinesis.putRecordsCalls).toBeGreaterThan(0);
    // Assess: each decoded event is the event the fleet meant
    const decodedIds = new Set<string>();
    const structured = new Map(fleet.services.map((s) => [s.name, s.structured]));
    const formats = new Map(fleet.services.map((s) => [s.name, s.format]));
    for (let i = 0; i < batch.eventCount; i++) {
      const id = demoIdOf(batch.eventRaw[i]!);
      expect(id).toBeDefined();
      const want = seen.get(id!)!;
      decodedIds.add(id!);
      const got = batch.events[i]!;
      expect(got.service).toBe(want.service);
      if (formats.get(want.service) === 'otel') {
        // OTLP times are 19-digit nanosecond strings; toEpochMs parses them through a float64 (spacing
        // 256 ns at 1.8e18), so a time can come out 1 ms early. Reported to the decode owner.
        expect(Math.abs(got.timeMs - want.timeMs)).toBeLessThanOrEqual(1);
      } else expect(got.timeMs).toBe(want.timeMs);
      expect(got.level).toBe(want.level);
      expect(fleet.sentAt(id!)).toBeGreaterThanOrEqual(want.timeMs);
      if (structured.get(want.service) === true) {
        expect(got.status).toBe(want.status);
        expect(got.durationMs).toBeCloseTo(want.durationMs, 6);
        expect(got.route).toBe(want.route);
        expect(got.traceId).toBe(want.traceId);
        expect(got.message).toBe(want.message);
      } else {
        expect(got.message).toContain(want.message);
      }
    }
    expect(decodedIds.size).toBe(seen.size);
  });

  it('stops early on stop(), flushes, and is idempotent', async () => {
    // Prepare
    const kinesis = new CapturingKinesis();
    const fleet = startDemoFleet({
      kinesisClient: kinesis.asClient(),
      streamName: 'tidewatch-logs',
      seed: 1,
      windowMs: 1000,
      tickMs: 50,
      malformedEveryMs: false,
    });
    await new Promise((r) => setTimeout(r, 300));
    // Act
    await Promise.all([fleet.stop(), fleet.stop()]);
    const produced = fleet.produced();
    await new Promise((r) => setTimeout(r, 150));
    // Assess
    await fleet.finished;
    expect(produced).toBeGreaterThan(0);
    expect(fleet.produced()).toBe(produced);
    expect(decodeKinesisBatch(kinesis.asEventRecords()).eventCount).toBe(produced);
    expect(fleet.malformed()).toEqual({});
    // Open-ended run: six rounds of incidents, one every 5 minutes after the warm-up.
    expect(fleet.incidents().length).toBeGreaterThanOrEqual(12);
    expect(fleet.sentAt('dm_other_1')).toBeUndefined();
  });
});
