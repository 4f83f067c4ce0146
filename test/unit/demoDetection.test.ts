/**
 * The demo's promise, checked offline: what the fleet writes (every format and transport, as bytes on
 * the stream), run through the pipeline's own processors (`LogReplay`: ingest decoding, stage one, the
 * partial codec, stage two, the default detector and alert rules), raises an alert for every injected
 * incident and at most one false alarm. Guards the incident sizes against detector changes: if this
 * fails, `tidewatch start --demo` stops catching its own incidents.
 */
import { Buffer } from 'node:buffer';
import {
  type KinesisClient,
  ListShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { LogReplay, type ReplayItem } from '../../cli/replay.ts';
import { type DemoIncident, startDemoFleet } from '../../local/demo/index.ts';
import type { KinesisEventRecord } from '../../processors/sources/kinesisEvent.ts';

class CapturingKinesis {
  readonly records: KinesisEventRecord[] = [];
  asClient(): KinesisClient {
    return this as unknown as KinesisClient;
  }
  private add(partitionKey: string, data: Uint8Array): string {
    const seq = String(this.records.length + 1);
    this.records.push({
      kinesis: {
        data: Buffer.from(data).toString('base64'),
        partitionKey,
        sequenceNumber: seq,
        approximateArrivalTimestamp: 0,
      },
    });
    return seq;
  }
  async send(command: unknown): Promise<unknown> {
    if (command instanceof PutRecordCommand) {
      return {
        SequenceNumber: this.add(command.input.PartitionKey!, command.input.Data!),
        ShardId: 'shardId-0',
      };
    }
    if (command instanceof PutRecordsCommand) {
      const out = (command.input.Records ?? []).map((r) => ({
        SequenceNumber: this.add(r.PartitionKey!, r.Data!),
        ShardId: 'shardId-0',
      }));
      return { Records: out, FailedRecordCount: 0 };
    }
    if (command instanceof ListShardsCommand) {
      return {
        Shards: [
          {
            ShardId: 'shardId-0',
            HashKeyRange: { StartingHashKey: '0', EndingHashKey: '340282366920938463463374607431768211455' },
            SequenceNumberRange: { StartingSequenceNumber: '1' },
          },
        ],
      };
    }
    throw new Error('unexpected command');
  }
  destroy(): void {}
}

const WINDOW_MS = 1000;
const DURATION_MS = 90_000;
const SIM_TICK_MS = 200;

/** Runs a 90 s demo on a simulated clock (200 ms per tick, ticks every 2 ms) and captures its records. */
async function captureDemo(seed: number): Promise<{
  records: KinesisEventRecord[];
  incidents: readonly DemoIncident[];
  startMs: number;
  produced: number;
}> {
  const kinesis = new CapturingKinesis();
  // An hour ago, so no event is "in the future" for the replay's clock.
  let simulated = Math.floor((Date.now() - 3_600_000) / 1000) * 1000 + 123;
  const fleet = startDemoFleet({
    kinesisClient: kinesis.asClient(),
    streamName: 'tidewatch-logs',
    seed,
    windowMs: WINDOW_MS,
    durationMs: DURATION_MS,
    tickMs: 2,
    now: () => {
      const t = simulated;
      simulated += SIM_TICK_MS;
      return t;
    },
  });
  await fleet.finished;
  return {
    records: kinesis.records,
    incidents: fleet.incidents(),
    startMs: fleet.startMs,
    produced: fleet.produced(),
  };
}

/** `"1-16"` or `"4,7,9"` → seeds; undefined when unset. */
function seedsFromEnv(raw: string | undefined): number[] | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const range = /^(\d+)-(\d+)$/.exec(raw.trim());
  if (range !== null) {
    const out: number[] = [];
    for (let s = Number(range[1]); s <= Number(range[2]); s++) out.push(s);
    return out;
  }
  return raw.split(',').map((x) => Number(x.trim()));
}

function replayAll(records: readonly KinesisEventRecord[]): ReplayItem[] {
  // The simulated clock runs 100× faster than the SDK shipper's real-time linger, so its aggregates
  // arrive up to ~10 simulated seconds behind the direct records: allow the default 30 s lateness.
  const replay = new LogReplay({ windowMs: WINDOW_MS, allowedLatenessMs: 30_000 });
  const items: ReplayItem[] = [];
  for (let i = 0; i < records.length; i += 20) items.push(...replay.pushRecords(records.slice(i, i + 20)));
  items.push(...replay.finish());
  return items;
}

describe('demo incidents through the pipeline processors', () => {
  // TW_DEMO_SEEDS=1-16 runs a wider sweep (docs/demo.md); the default keeps the suite quick.
  for (const seed of seedsFromEnv(process.env.TW_DEMO_SEEDS) ?? [1, 2, 3]) {
    it(`seed ${seed}: every incident raises an alert on its service, at most one false alarm`, async () => {
      // Prepare
      const { records, incidents, produced } = await captureDemo(seed);
      // Act
      const items = replayAll(records);
      // Assess
      expect(incidents).toHaveLength(4);
      const windows = items.filter((i) => i.kind === 'window');
      expect(windows.reduce((n, w) => n + w.count, 0)).toBe(produced);
      const alerts = items.flatMap((i) => (i.kind === 'alert' && i.event.kind === 'alert' ? [i.event] : []));
      const matched = new Set<DemoIncident>();
      let falseAlarms = 0;
      for (const a of alerts) {
        const inc = incidents.find(
          (x) =>
            x.service === a.service &&
            a.windowStartMs >= x.startMs - WINDOW_MS &&
            a.windowStartMs < x.endMs + 3 * WINDOW_MS,
        );
        if (inc === undefined) falseAlarms++;
        else matched.add(inc);
      }
      const missed = incidents.filter((i) => !matched.has(i)).map((i) => `${i.kind} on ${i.service}`);
      expect(missed).toEqual([]);
      expect(falseAlarms).toBeLessThanOrEqual(1);
    }, 120_000);
  }
});
