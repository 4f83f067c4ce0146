/**
 * Shared setup for the event-source runner integration tests: kinesalite on port 0, unique
 * streams, a recording handler, and polling helpers with generous time limits (2-core machine).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeStreamSummaryCommand,
  type KinesisClient,
  PutRecordCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import type { KinesaliteServer } from '../../local/kinesalite.ts';
import type { KinesisStreamEvent, KinesisStreamHandler } from '../../local/lambdaTypes.ts';

let streamCounter = 0;

/** A stream name unique within this test process. */
export function uniqueStreamName(prefix: string): string {
  streamCounter++;
  return `${prefix}-${process.pid}-${streamCounter}`;
}

export async function makeTempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'tidewatch-esr-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function createStream(
  kinesis: KinesaliteServer,
  shardCount: number,
  prefix = 'esr',
): Promise<string> {
  const name = uniqueStreamName(prefix);
  await kinesis.ensureStream({ name, shardCount });
  return name;
}

export async function streamArnOf(client: KinesisClient, streamName: string): Promise<string> {
  const out = await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
  return out.StreamDescriptionSummary?.StreamARN as string;
}

export interface PutResult {
  partitionKey: string;
  data: string;
  sequenceNumber: string;
  shardId: string;
}

/** Puts records in order (one PutRecords call per ≤ 500), returning where each landed. */
export async function putAll(
  client: KinesisClient,
  streamName: string,
  records: readonly { partitionKey: string; data: string }[],
): Promise<PutResult[]> {
  const results: PutResult[] = [];
  for (let i = 0; i < records.length; i += 500) {
    const chunk = records.slice(i, i + 500);
    const out = await client.send(
      new PutRecordsCommand({
        StreamName: streamName,
        Records: chunk.map((r) => ({ PartitionKey: r.partitionKey, Data: Buffer.from(r.data) })),
      }),
    );
    if ((out.FailedRecordCount ?? 0) > 0)
      throw new Error(`PutRecords failed for ${out.FailedRecordCount} records`);
    (out.Records ?? []).forEach((r, j) => {
      const src = chunk[j] as { partitionKey: string; data: string };
      results.push({ ...src, sequenceNumber: r.SequenceNumber as string, shardId: r.ShardId as string });
    });
  }
  return results;
}

/** Puts one record (for records too large to group). */
export async function putOne(
  client: KinesisClient,
  streamName: string,
  partitionKey: string,
  data: Uint8Array,
): Promise<{ sequenceNumber: string; shardId: string }> {
  const out = await client.send(
    new PutRecordCommand({ StreamName: streamName, PartitionKey: partitionKey, Data: data }),
  );
  return { sequenceNumber: out.SequenceNumber as string, shardId: out.ShardId as string };
}

/** One invocation as the handler saw it. */
export interface Invocation {
  shardId: string;
  sequenceNumbers: string[];
  data: string[];
  event: KinesisStreamEvent;
}

/**
 * A handler that records every invocation, then defers to `decide` (default: success). Also checks
 * that a shard never has two batches in flight at once.
 */
export function recordingHandler(
  decide: (inv: Invocation, n: number) => ReturnType<KinesisStreamHandler> = async () => undefined,
): { handler: KinesisStreamHandler; invocations: Invocation[]; overlaps: string[] } {
  const invocations: Invocation[] = [];
  const overlaps: string[] = [];
  const inFlight = new Set<string>();
  const handler: KinesisStreamHandler = async (event) => {
    const first = event.Records[0];
    const shardId = first === undefined ? '' : (first.eventID.split(':')[0] as string);
    if (inFlight.has(shardId)) overlaps.push(shardId);
    inFlight.add(shardId);
    try {
      const inv: Invocation = {
        shardId,
        sequenceNumbers: event.Records.map((r) => r.kinesis.sequenceNumber),
        data: event.Records.map((r) => Buffer.from(r.kinesis.data, 'base64').toString('utf8')),
        event,
      };
      invocations.push(inv);
      // Yield so that concurrent shards genuinely interleave.
      await new Promise((r) => setImmediate(r));
      return await decide(inv, invocations.length);
    } finally {
      inFlight.delete(shardId);
    }
  };
  return { handler, invocations, overlaps };
}

/** Polls `condition` every 20 ms until it holds or `timeoutMs` passes (then throws `what`). */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Rejects if `promise` does not settle in `timeoutMs` (keeps a stuck drain from hanging a test). */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms: ${what}`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Logger that keeps warnings for assertions instead of printing them. */
export function memoryLogger(): {
  logger: { warn: (m: string, d?: Record<string, unknown>) => void };
  lines: string[];
} {
  const lines: string[] = [];
  return { logger: { warn: (m, d) => lines.push(`${m} ${JSON.stringify(d ?? {})}`) }, lines };
}

/** Compares Kinesis sequence numbers (decimal strings up to 128 digits). */
export function seqLess(a: string, b: string): boolean {
  return BigInt(a) < BigInt(b);
}
