/**
 * Event-source runner benchmark: records per second delivered to a no-op handler from kinesalite
 * (in memory, 2 shards), against the obvious alternative — a bare GetRecords loop over the same
 * shards that builds no Lambda events. The gap is the runner's own cost (event building, payload
 * sizing, checkpoints); both sides share kinesalite's cost, which dominates.
 *
 * Run alone: `npx tsx bench/eventSourceRunner.bench.ts` (add `--quick` for a smoke run). Prints JSON.
 */
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { startEventSourceRunner } from '../local/eventSourceRunner.ts';
import { startKinesalite } from '../local/kinesalite.ts';
import { createKinesisClient } from '../local/kinesisClient.ts';

export interface BenchCase {
  mbPerSec?: number;
  recordsPerSec?: number;
  eventsPerSec?: number;
  peakRssMb?: number;
  nsPerOp?: number;
  [k: string]: unknown;
}

const RECORD_BYTES = 200;

/** Seeded 200-byte JSON-ish log lines, spread over partition keys. */
function makeRecords(n: number, seed: number): { PartitionKey: string; Data: Uint8Array }[] {
  let s = seed >>> 0;
  const u = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  return Array.from({ length: n }, (_, i) => {
    const line = `{"time":${1_700_000_000_000 + i},"service":"svc-${Math.floor(u() * 20)}","latency_ms":${Math.floor(u() * 900)},"msg":"`;
    return {
      PartitionKey: `pk-${Math.floor(u() * 1000)}`,
      Data: Buffer.from(line.padEnd(RECORD_BYTES - 2, 'x') + '"}'),
    };
  });
}

async function fill(client: KinesisClient, streamName: string, n: number): Promise<void> {
  const recs = makeRecords(n, 7);
  for (let i = 0; i < recs.length; i += 500) {
    await client.send(new PutRecordsCommand({ StreamName: streamName, Records: recs.slice(i, i + 500) }));
  }
}

async function rawRead(client: KinesisClient, streamName: string, shardIds: string[]): Promise<number> {
  let total = 0;
  await Promise.all(
    shardIds.map(async (ShardId) => {
      let it = (
        await client.send(
          new GetShardIteratorCommand({ StreamName: streamName, ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
        )
      ).ShardIterator;
      for (;;) {
        const out = await client.send(new GetRecordsCommand({ ShardIterator: it as string, Limit: 500 }));
        const n = out.Records?.length ?? 0;
        total += n;
        if (n === 0) return;
        it = out.NextShardIterator;
      }
    }),
  );
  return total;
}

function median(xs: number[]): number {
  const v = [...xs].sort((a, b) => a - b);
  return v[Math.floor(v.length / 2)] as number;
}

/**
 * Runs the benchmark (median of several runs).
 *
 * @example
 * const cases = await run({ quick: true });
 */
export async function run(opts: { quick: boolean }): Promise<Record<string, BenchCase>> {
  // 6,000 records per run: filling kinesalite dominates; sized for the full-suite budget (~4 min).
  const n = opts.quick ? 2_000 : 6_000;
  const runs = opts.quick ? 1 : 3;
  const kinesis = await startKinesalite({ port: 0 });
  const client = createKinesisClient(kinesis.url);
  const runnerRates: number[] = [];
  const rawRates: number[] = [];
  try {
    for (let r = 0; r < runs; r++) {
      const streamName = `bench-${r}`;
      await kinesis.ensureStream({ name: streamName, shardCount: 2 });
      await fill(client, streamName, n);

      let t0 = process.hrtime.bigint();
      const got = await rawRead(client, streamName, ['shardId-000000000000', 'shardId-000000000001']);
      rawRates.push(got / (Number(process.hrtime.bigint() - t0) / 1e9));

      let delivered = 0;
      t0 = process.hrtime.bigint();
      const runner = await startEventSourceRunner({
        client,
        streamName,
        batchSize: 500,
        pollIntervalMs: 50,
        handler: async (event) => {
          delivered += event.Records.length;
        },
      });
      await runner.drain();
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      await runner.stop();
      if (delivered !== n || got !== n)
        throw new Error(`expected ${n} records, runner ${delivered}, raw ${got}`);
      runnerRates.push(n / seconds);
    }
  } finally {
    client.destroy();
    await kinesis.close();
  }
  const mb = (rate: number): number => (rate * RECORD_BYTES) / 1e6;
  return {
    event_source_runner_2_shards: {
      recordsPerSec: Math.round(median(runnerRates)),
      mbPerSec: Number(mb(median(runnerRates)).toFixed(2)),
      records: n,
      runs,
    },
    raw_get_records_2_shards: {
      recordsPerSec: Math.round(median(rawRates)),
      mbPerSec: Number(mb(median(rawRates)).toFixed(2)),
      records: n,
      runs,
    },
    peak: { peakRssMb: Math.round(process.memoryUsage().rss / 1_048_576) },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await run({ quick: process.argv.includes('--quick') });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
