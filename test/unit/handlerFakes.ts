/**
 * Test doubles for the handler unit tests: an archive, a metrics-stream publisher, a state blob store
 * and a time-series sink, all in memory, with switches to make them fail.
 */

import type {
  MetricsRecord,
  PartialsPublisher,
  PublishResult,
} from '../../processors/pipeline/partialsPublisher.ts';
import type { LoadedBlob, StateBlobStore } from '../../processors/pipeline/stateBlobs.ts';
import type { StatePutOutcome, StateRef } from '../../processors/sinks/dynamoDbStateStore.ts';
import type {
  ArchiveLine,
  ArchiveReject,
  ArchiveResult,
  FirehoseArchiver,
} from '../../processors/sinks/firehoseArchiver.ts';
import type {
  SeriesWindowRecord,
  SinkOutcome,
  TimeSeriesSink,
  TimeSeriesWriteResult,
} from '../../processors/sinks/timeSeriesRecord.ts';
import type { KinesisEvent, KinesisEventRecord } from '../../processors/sources/kinesisEvent.ts';

const OK: SinkOutcome = { kind: 'ok', value: null };

function stats(items: number) {
  return {
    items,
    records: 1,
    calls: 1,
    retriedCalls: 0,
    resentRecords: 0,
    bytes: 0,
    billedBytes: 0,
    delivered: items,
    rejected: 0,
    retry: 0,
  };
}

/** Archive double: keeps lines and rejects; `failLine(text)` makes lines containing `text` retry. */
export class FakeArchiver {
  lines: string[] = [];
  rejects: ArchiveReject[] = [];
  calls = 0;
  failing: string | undefined;

  async archive(lines: readonly ArchiveLine[]): Promise<ArchiveResult> {
    this.calls++;
    const outcomes: SinkOutcome[] = [];
    for (const l of lines) {
      const text = typeof l === 'string' ? l : Buffer.from(l).toString('utf8');
      if (this.failing !== undefined && text.includes(this.failing))
        outcomes.push({ kind: 'retry', reason: 'firehose:test' });
      else {
        this.lines.push(text);
        outcomes.push(OK);
      }
    }
    return { outcomes, stats: stats(lines.length) };
  }

  /** The ingest handler's form of `archive`: lines as ranges of shared buffers. */
  async archiveSlices(
    buffers: readonly Buffer[],
    starts: ArrayLike<number>,
    ends: ArrayLike<number>,
    from: number,
    to: number,
  ): Promise<ArchiveResult> {
    const lines: Uint8Array[] = [];
    for (let i = from; i < to; i++) lines.push(buffers[i]!.subarray(starts[i], ends[i]));
    return this.archive(lines);
  }

  async archiveRejects(rejects: readonly ArchiveReject[]): Promise<ArchiveResult> {
    if (rejects.length > 0) this.calls++;
    this.rejects.push(...rejects);
    return { outcomes: rejects.map(() => OK), stats: stats(rejects.length) };
  }

  asArchiver(): FirehoseArchiver {
    return this as unknown as FirehoseArchiver;
  }
}

/** Metrics-stream double: records every published batch; `failNext` makes the next publish retry. */
export class FakePublisher {
  published: MetricsRecord[][] = [];
  failNext = 0;

  async publish(records: readonly MetricsRecord[]): Promise<PublishResult> {
    const s = { chunks: records.length, bytes: 0, calls: 1, resent: 0 };
    if (this.failNext > 0) {
      this.failNext--;
      return { kind: 'retry', reason: 'kinesis:test', stats: s };
    }
    this.published.push([...records]);
    return { kind: 'ok', stats: s };
  }

  /** Every record published so far, flattened. */
  all(): MetricsRecord[] {
    return this.published.flat();
  }

  asPublisher(): PartialsPublisher {
    return this as unknown as PartialsPublisher;
  }
}

/** State blob store double with the versioned conditional-put semantics of the real one. */
export class FakeBlobs {
  readonly items = new Map<string, LoadedBlob>();
  saves = 0;
  failSaves = 0;

  async load(ref: StateRef): Promise<LoadedBlob | undefined> {
    const item = this.items.get(`${ref.kind}#${ref.key}`);
    return item === undefined ? undefined : { version: item.version, data: item.data.slice() };
  }

  async save(ref: StateRef, version: number, data: Uint8Array): Promise<StatePutOutcome> {
    if (this.failSaves > 0) {
      this.failSaves--;
      return { kind: 'retry', reason: 'dynamodb:test' };
    }
    const key = `${ref.kind}#${ref.key}`;
    const cur = this.items.get(key);
    if (cur !== undefined && cur.version >= version) return { kind: 'conflict', currentVersion: cur.version };
    this.saves++;
    this.items.set(key, { version, data: data.slice() });
    return { kind: 'ok' };
  }

  async delete(ref: StateRef): Promise<void> {
    this.items.delete(`${ref.kind}#${ref.key}`);
  }

  asStore(): StateBlobStore {
    return this as unknown as StateBlobStore;
  }
}

/** Time-series sink double: upserts by key (highest version wins); `failNext` makes a write retry. */
export class FakeSink implements TimeSeriesSink {
  readonly name = 'fake';
  readonly rows = new Map<string, SeriesWindowRecord>();
  writes: SeriesWindowRecord[][] = [];
  failNext = 0;

  async write(records: readonly SeriesWindowRecord[]): Promise<TimeSeriesWriteResult> {
    const s = {
      records: records.length,
      written: 0,
      rejected: 0,
      retry: 0,
      superseded: 0,
      calls: 1,
      retriedCalls: 0,
    };
    if (this.failNext > 0) {
      this.failNext--;
      s.retry = records.length;
      return { outcomes: records.map(() => ({ kind: 'retry', reason: 'test' }) as SinkOutcome), stats: s };
    }
    this.writes.push([...records]);
    for (const r of records) {
      const key = `${r.table}|${r.timeMs}|${JSON.stringify(Object.entries(r.dimensions).sort())}`;
      const cur = this.rows.get(key);
      if (cur === undefined || cur.version <= r.version) this.rows.set(key, r);
    }
    s.written = records.length;
    return { outcomes: records.map(() => OK), stats: s };
  }

  /** Window rows (table `windows`) with events, as `service|start` → count. */
  windowCounts(): Map<string, number> {
    const m = new Map<string, number>();
    for (const r of this.rows.values()) {
      const count = r.measures.count ?? 0;
      if (r.table === 'windows' && count > 0) m.set(`${r.dimensions.service}|${r.timeMs}`, count);
    }
    return m;
  }
}

/**
 * A Lambda Kinesis event of `datas` on `shard`, sequence numbers `base + i` (so tests can redeliver
 * sub-ranges with the same numbers).
 */
export function kinesisEvent(
  datas: readonly (string | Uint8Array)[],
  options: { shard?: string; firstIndex?: number; base?: bigint; arrivalMs?: number } = {},
): KinesisEvent {
  const shard = options.shard ?? 'shardId-000000000000';
  const base = options.base ?? 49_600_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000n;
  const first = options.firstIndex ?? 0;
  const records: KinesisEventRecord[] = datas.map((d, i) => {
    const seq = (base + BigInt((first + i) * 10)).toString();
    return {
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: 'pk',
        sequenceNumber: seq,
        data: Buffer.from(d).toString('base64'),
        approximateArrivalTimestamp: (options.arrivalMs ?? 1_800_000_100_000) / 1000,
      },
      eventSource: 'aws:kinesis',
      eventID: `${shard}:${seq}`,
      eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/test',
    };
  });
  return { Records: records };
}
