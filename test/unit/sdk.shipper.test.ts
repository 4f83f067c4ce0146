import type { PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { ShipperConfigError, type ShipperError } from '../../sdk/errors.ts';
import { decodeAggregate, MAX_KINESIS_RECORD_BYTES } from '../../sdk/kpl.ts';
import { createPinoDestination } from '../../sdk/pinoDestination.ts';
import {
  createShipper,
  MAX_PUT_RECORDS_BYTES,
  MAX_PUT_RECORDS_ENTRIES,
  type ShipperOptions,
} from '../../sdk/shipper.ts';
import { FakeKinesis, ok, serviceError } from './sdkFakeKinesis.ts';

/** The user records (as UTF-8 strings) inside PutRecords entries, aggregated or not. */
function userRecords(entries: readonly PutRecordsRequestEntry[]): string[] {
  const out: string[] = [];
  for (const e of entries) {
    const d = decodeAggregate(e.Data!);
    if (d.kind === 'ok') for (const r of d.records) out.push(Buffer.from(r.data).toString('utf8'));
    else if (d.kind === 'not_aggregated') out.push(Buffer.from(e.Data!).toString('utf8'));
    else throw new Error(`bad aggregate: ${d.detail}`);
  }
  return out;
}

function entryBytes(e: PutRecordsRequestEntry): number {
  return e.Data!.byteLength + Buffer.byteLength(e.PartitionKey!, 'utf8');
}

function shipperWith(fake: FakeKinesis, options: Partial<ShipperOptions> = {}) {
  const errors: ShipperError[] = [];
  const shipper = createShipper({
    streamName: 'logs',
    client: fake.asClient(),
    lingerMs: 5,
    minBackoffMs: 1,
    maxBackoffMs: 10,
    onError: (e) => errors.push(e),
    ...options,
  });
  return { shipper, errors };
}

function expectBalanced(s: ReturnType<ReturnType<typeof createShipper>['stats']>): void {
  expect(s.sent + s.failed + s.dropped + s.buffered).toBe(s.accepted);
}

/** A promise plus its resolver, for holding PutRecords answers back. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => {
    open = r;
  });
  return { promise, open };
}

describe('createShipper options', () => {
  it('rejects invalid options synchronously with ShipperConfigError', () => {
    // Prepare
    const fake = new FakeKinesis();
    // Act / Assess
    expect(() => createShipper({ streamName: '' })).toThrow(ShipperConfigError);
    expect(() => createShipper({ streamName: 's', client: fake.asClient(), lingerMs: -1 })).toThrow(
      ShipperConfigError,
    );
    expect(() => createShipper({ streamName: 's', client: fake.asClient(), partitionKey: '' })).toThrow(
      ShipperConfigError,
    );
    expect(() =>
      createShipper({
        streamName: 's',
        client: fake.asClient(),
        maxAggregateBytes: MAX_KINESIS_RECORD_BYTES + 1,
      }),
    ).toThrow(ShipperConfigError);
    expect(() =>
      createShipper({ streamName: 's', client: fake.asClient(), whenFull: 'dropOldest' as 'block' }),
    ).toThrow(ShipperConfigError);
  });
});

describe('send()', () => {
  it('never throws, counts every unshippable event with a reason, and reports them per batch', async () => {
    // Prepare
    const fake = new FakeKinesis();
    const { shipper, errors } = shipperWith(fake, {
      partitionKey: (e) => (e as { key: string }).key,
    });
    const circular: Record<string, unknown> = { key: 'k' };
    circular.self = circular;
    const { send } = shipper; // detached: methods are bound

    // Act
    send(circular);
    send({ key: 'k', n: 10n });
    send({
      key: 'k',
      toJSON: () => {
        throw new Error('nope');
      },
    });
    send(undefined as unknown as object);
    send({ key: '' });
    send({ key: 'x'.repeat(257) });
    send({ nokey: true });
    send({ key: 'k', msg: 'ok' });
    send({ key: '🙂'.repeat(256) }); // 512 UTF-16 units but 256 characters: valid
    await shipper.close();
    send({ key: 'k', msg: 'late' });
    await new Promise((r) => setImmediate(r));

    // Assess
    const s = shipper.stats();
    expectBalanced(s);
    expect(s).toMatchObject({ accepted: 10, sent: 2, failed: 8, dropped: 0, buffered: 0 });
    expect(s.failedByReason).toEqual({ unserializable: 4, invalid_partition_key: 3, closed: 1 });
    const byReason = Object.fromEntries(errors.map((e) => [e.reason, e.events]));
    expect(byReason).toEqual({ unserializable: 4, invalid_partition_key: 3, closed: 1 });
    expect(errors.every((e) => !e.intentional)).toBe(true);
    expect(userRecords(fake.allEntries()).map((d) => JSON.parse(d).msg ?? 'emoji')).toEqual(['ok', 'emoji']);
  });

  it('serializes objects once and sends strings as they are', async () => {
    // Prepare
    const fake = new FakeKinesis();
    const { shipper } = shipperWith(fake);
    let calls = 0;
    const event = {
      toJSON() {
        calls++;
        return { a: 1 };
      },
    };

    // Act
    shipper.send(event);
    shipper.send('plain text line');
    await shipper.flush();

    // Assess
    expect(calls).toBe(1);
    expect(userRecords(fake.allEntries())).toEqual(['{"a":1}', 'plain text line']);
  });

  it('accepts an event filling a Kinesis record exactly (data + key = 1 MiB) and rejects one byte more', async () => {
    // Prepare
    const fake = new FakeKinesis();
    const { shipper, errors } = shipperWith(fake, { partitionKey: 'kk' });
    const fits = 'a'.repeat(MAX_KINESIS_RECORD_BYTES - 2);
    const tooBig = `${fits}é`; // é is 2 UTF-8 bytes

    // Act
    shipper.send(fits);
    shipper.send(tooBig);
    shipper.send('small');
    await shipper.close();

    // Assess
    const s = shipper.stats();
    expectBalanced(s);
    expect(s).toMatchObject({ accepted: 3, sent: 2, failed: 1 });
    expect(s.failedByReason).toEqual({ oversized: 1 });
    expect(errors.map((e) => e.reason)).toEqual(['oversized']);
    for (const e of fake.allEntries()) expect(entryBytes(e)).toBeLessThanOrEqual(MAX_KINESIS_RECORD_BYTES);
    expect(userRecords(fake.allEntries()).sort((a, b) => a.length - b.length)).toEqual(['small', fits]);
  });

  it('keeps every PutRecords call within 500 records and 5 MiB, every record within 1 MiB', async () => {
    // Prepare
    const fake = new FakeKinesis();
    const { shipper } = shipperWith(fake, {
      maxAggregateBytes: MAX_KINESIS_RECORD_BYTES,
      maxInFlightCalls: 1,
    });
    const big = (i: number) => `${i}:${'b'.repeat(300_000)}`;
    const tiny = createShipper({
      streamName: 'logs',
      client: fake.asClient(),
      maxAggregateBytes: 64, // nearly every event becomes its own record: forces > 500 records
      partitionKey: (e) => String(e),
      lingerMs: 5,
    });

    // Act
    for (let i = 0; i < 40; i++) shipper.send(big(i));
    for (let i = 0; i < 2_000; i++) tiny.send(`tiny event number ${i} ${'t'.repeat(i % 50)}`);
    await Promise.all([shipper.close(), tiny.close()]);

    // Assess
    expect(shipper.stats().sent).toBe(40);
    expect(tiny.stats().sent).toBe(2_000);
    for (const c of fake.calls) {
      expect(c.entries.length).toBeLessThanOrEqual(MAX_PUT_RECORDS_ENTRIES);
      expect(c.entries.reduce((n, e) => n + entryBytes(e), 0)).toBeLessThanOrEqual(MAX_PUT_RECORDS_BYTES);
      for (const e of c.entries) expect(entryBytes(e)).toBeLessThanOrEqual(MAX_KINESIS_RECORD_BYTES);
    }
    expect(fake.calls.some((c) => c.entries.length === MAX_PUT_RECORDS_ENTRIES)).toBe(true);
    expect(userRecords(fake.allEntries())).toHaveLength(2_040);
  });
});

describe('retries', () => {
  it('resends only the entries that failed, then counts them sent', async () => {
    // Prepare
    const fake = new FakeKinesis();
    const { shipper, errors } = shipperWith(fake, { partitionKey: (e) => String(e), maxAggregateBytes: 64 });
    fake.onPut = (entries, call) =>
      entries.map((_, i) =>
        call === 0 && i % 2 === 1
          ? {
              ErrorCode: i % 4 === 1 ? 'ProvisionedThroughputExceededException' : 'InternalFailure',
              ErrorMessage: 'x',
            }
          : ok(i),
      );

    // Act
    for (let i = 0; i < 10; i++) shipper.send(`event-${i}`);
    await shipper.flush();

    // Assess
    expect(fake.calls.length).toBe(2);
    const first = fake.calls[0]!.entries;
    const failedFirst = first.filter((_, i) => i % 2 === 1);
    expect(userRecords(fake.calls[1]!.entries)).toEqual(userRecords(failedFirst));
    expect(shipper.stats()).toMatchObject({ accepted: 10, sent: 10, retried: 5, failed: 0, buffered: 0 });
    expect(errors).toEqual([]);
    await shipper.close();
  });

  it('retries a whole-call failure and fails fast on a non-retryable one', async () => {
    // Prepare
    const fake = new FakeKinesis();
    const { shipper, errors } = shipperWith(fake);
    const faults = [
      serviceError('InternalFailure'),
      new Error('socket hang up'),
      serviceError('ResourceNotFoundException', 'Stream logs not found'),
    ];
    fake.onPut = (entries) => {
      const f = faults.shift();
      if (f !== undefined) throw f;
      return entries.map((_, i) => ok(i));
    };

    // Act
    shipper.send('one');
    await shipper.flush(); // two retryable failures, then success
    shipper.send('two'); // ResourceNotFound … then nothing is thrown
    await shipper.flush();

    // Assess
    const s = shipper.stats();
    expectBalanced(s);
    expect(s).toMatchObject({ accepted: 2, sent: 1, failed: 1, retried: 2 });
    expect(s.failedByReason).toEqual({ rejected: 1 });
    expect(errors).toHaveLength(1);
    expect(errors[0]!.reason).toBe('rejected');
    expect(errors[0]!.message).toContain('ResourceNotFoundException');
    expect((errors[0]!.cause as Error).name).toBe('ResourceNotFoundException');
    await shipper.close();
  });

  it('gives up after maxRetryMs, counts the events failed and reports them once', async () => {
    // Prepare
    const fake = new FakeKinesis();
    const { shipper, errors } = shipperWith(fake, { maxRetryMs: 150, minBackoffMs: 5, maxBackoffMs: 40 });
    fake.onPut = (entries) =>
      entries.map(() => ({
        ErrorCode: 'ProvisionedThroughputExceededException',
        ErrorMessage: 'Rate exceeded',
      }));

    // Act
    for (let i = 0; i < 100; i++) shipper.send({ i });
    const started = Date.now();
    await shipper.close();

    // Assess
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    const s = shipper.stats();
    expectBalanced(s);
    expect(s).toMatchObject({ accepted: 100, sent: 0, failed: 100, buffered: 0 });
    expect(s.failedByReason).toEqual({ retries_exhausted: 100 });
    expect(s.retried).toBeGreaterThan(0);
    expect(errors.map((e) => [e.reason, e.events])).toEqual([['retries_exhausted', 100]]);
    expect(errors[0]!.message).toContain('ProvisionedThroughputExceededException');
  });

  it('with maxRetryMs 0 fails at the first failure', async () => {
    // Prepare
    const fake = new FakeKinesis();
    const { shipper } = shipperWith(fake, { maxRetryMs: 0 });
    fake.onPut = (entries) => entries.map(() => ({ ErrorCode: 'InternalFailure', ErrorMessage: 'x' }));

    // Act
    shipper.send('a');
    await shipper.close();

    // Assess
    expect(fake.calls).toHaveLength(1);
    expect(shipper.stats()).toMatchObject({ failed: 1, retried: 0 });
  });
});

describe('bounded memory', () => {
  it("whenFull 'dropNewest' drops and counts what does not fit", async () => {
    // Prepare
    const fake = new FakeKinesis();
    const hold = gate();
    fake.onPut = async (entries) => {
      await hold.promise;
      return entries.map((_, i) => ok(i));
    };
    const { shipper, errors } = shipperWith(fake, { maxBufferedBytes: 1_000, whenFull: 'dropNewest' });
    const event = 'e'.repeat(99); // 99 bytes: ten fit under 1,000

    // Act
    for (let i = 0; i < 25; i++) shipper.send(event);
    const during = shipper.stats();
    hold.open();
    await shipper.close();

    // Assess
    expect(during).toMatchObject({ accepted: 25, buffered: 10, dropped: 15, bufferedBytes: 990 });
    const s = shipper.stats();
    expectBalanced(s);
    expect(s).toMatchObject({ sent: 10, dropped: 15, failed: 0 });
    expect(s.droppedByReason).toEqual({ buffer_full: 15 });
    expect(errors.map((e) => [e.reason, e.events, e.intentional])).toEqual([['buffer_full', 15, true]]);
  });

  it("whenFull 'block' keeps every event and ready() resolves once there is room", async () => {
    // Prepare
    const fake = new FakeKinesis();
    const hold = gate();
    fake.onPut = async (entries) => {
      await hold.promise;
      return entries.map((_, i) => ok(i));
    };
    const { shipper } = shipperWith(fake, { maxBufferedBytes: 1_000 });
    let readyResolved = false;
    let readyWhenEmpty = false;

    // Act
    void shipper.ready().then(() => {
      readyWhenEmpty = true;
    });
    await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 25; i++) shipper.send('e'.repeat(99));
    const ready = shipper.ready().then(() => {
      readyResolved = true;
    });
    await new Promise((r) => setTimeout(r, 30));
    const beforeRelease = readyResolved;
    hold.open();
    await ready;
    await shipper.close();

    // Assess
    expect(readyWhenEmpty).toBe(true);
    expect(beforeRelease).toBe(false);
    expect(readyResolved).toBe(true);
    expect(shipper.stats()).toMatchObject({ accepted: 25, sent: 25, dropped: 0, failed: 0 });
  });
});

describe('flush and close', () => {
  it('flush waits for events sent before it, not for events sent after it', async () => {
    // Prepare
    const fake = new FakeKinesis();
    const gates = [gate(), gate()];
    fake.onPut = async (entries, call) => {
      await gates[call]?.promise;
      return entries.map((_, i) => ok(i));
    };
    const { shipper } = shipperWith(fake, { maxInFlightCalls: 2 });
    let flushed = false;

    // Act
    shipper.send('before');
    const flush = shipper.flush().then(() => {
      flushed = true;
    });
    shipper.send('after');
    await new Promise((r) => setTimeout(r, 30)); // 'after' is in flight (call 1), held
    gates[0]!.open();
    await flush;
    const afterFlush = shipper.stats();
    gates[1]!.open();
    await shipper.close();

    // Assess
    expect(flushed).toBe(true);
    expect(afterFlush).toMatchObject({ sent: 1, buffered: 1 });
    expect(userRecords(fake.calls[0]!.entries)).toEqual(['before']);
    expect(shipper.stats()).toMatchObject({ sent: 2, buffered: 0 });
  });

  it('flush on an idle shipper resolves at once; close is idempotent and releases only its own client', async () => {
    // Prepare
    const fake = new FakeKinesis();
    const { shipper } = shipperWith(fake);

    // Act
    await shipper.flush();
    const [a, b] = [shipper.close(), shipper.close()];
    await a;

    // Assess
    expect(a).toBe(b);
    expect(fake.calls).toHaveLength(0);
    expect(fake.destroyed).toBe(false);
  });

  it('sends after lingerMs without an explicit flush', async () => {
    // Prepare
    const fake = new FakeKinesis();
    const { shipper } = shipperWith(fake, { lingerMs: 20 });

    // Act
    shipper.send('lingering');
    await new Promise((r) => setTimeout(r, 200));

    // Assess
    expect(userRecords(fake.allEntries())).toEqual(['lingering']);
    await shipper.close();
  });
});

describe('shard-aware routing', () => {
  const HALF = 1n << 127n;
  const TOP = (1n << 128n) - 1n;
  const twoShards = [
    {
      ShardId: 'shardId-a',
      HashKeyRange: { StartingHashKey: '0', EndingHashKey: String(HALF - 1n) },
      SequenceNumberRange: { StartingSequenceNumber: '1' },
    },
    {
      ShardId: 'shardId-b',
      HashKeyRange: { StartingHashKey: String(HALF), EndingHashKey: String(TOP) },
      SequenceNumberRange: { StartingSequenceNumber: '1' },
    },
  ];

  it('puts only keys of one shard into an aggregate', async () => {
    // Prepare
    const { partitionKeyHash } = await import('../../sdk/shardMap.ts');
    const fake = new FakeKinesis();
    fake.shards = twoShards;
    fake.onPut = (entries) =>
      entries.map((e, i) => ok(i, partitionKeyHash(e.PartitionKey!) < HALF ? 'shardId-a' : 'shardId-b'));
    const { shipper } = shipperWith(fake, { partitionKey: (e) => (e as { k: string }).k });

    // Act
    for (let i = 0; i < 1_000; i++) shipper.send({ k: `key-${i}` });
    await shipper.close();

    // Assess
    expect(fake.listShardsCalls).toBe(1);
    let aggregates = 0;
    for (const e of fake.allEntries()) {
      const d = decodeAggregate(e.Data!);
      if (d.kind !== 'ok') continue;
      aggregates++;
      const outer = partitionKeyHash(e.PartitionKey!) >= HALF;
      for (const r of d.records) expect(partitionKeyHash(r.partitionKey) >= HALF).toBe(outer);
    }
    expect(aggregates).toBeGreaterThanOrEqual(2);
    expect(shipper.stats().sent).toBe(1_000);
  });

  it('refreshes the shard map when Kinesis answers with another shard, and re-sends the records outside it', async () => {
    // Prepare: the shipper starts with two shards; shard b was split at 3/4 before the first put.
    const { partitionKeyHash } = await import('../../sdk/shardMap.ts');
    const fake = new FakeKinesis();
    const Q3 = HALF + (1n << 126n);
    const afterSplit = [
      twoShards[0]!,
      { ...twoShards[1]!, SequenceNumberRange: { StartingSequenceNumber: '1', EndingSequenceNumber: '9' } },
      {
        ShardId: 'shardId-c',
        HashKeyRange: { StartingHashKey: String(HALF), EndingHashKey: String(Q3 - 1n) },
        SequenceNumberRange: { StartingSequenceNumber: '10' },
      },
      {
        ShardId: 'shardId-d',
        HashKeyRange: { StartingHashKey: String(Q3), EndingHashKey: String(TOP) },
        SequenceNumberRange: { StartingSequenceNumber: '10' },
      },
    ];
    let listed = 0;
    fake.onListShards = () => (listed++ === 0 ? twoShards : afterSplit);
    const route = (key: string): string => {
      const h = partitionKeyHash(key);
      return h < HALF ? 'shardId-a' : h < Q3 ? 'shardId-c' : 'shardId-d';
    };
    fake.onPut = (entries) => entries.map((e, i) => ok(i, route(e.PartitionKey!)));
    const { shipper } = shipperWith(fake, { partitionKey: (e) => (e as { k: string }).k });

    // Act
    for (let i = 0; i < 400; i++) shipper.send({ k: `key-${i}` });
    await shipper.close();

    // Assess: every user record, as delivered, sits in the shard Kinesis put its record on.
    expect(fake.listShardsCalls).toBe(2);
    const landed = new Map<string, Set<number>>(); // shard → events read from it
    for (const e of fake.allEntries()) {
      const shard = route(e.PartitionKey!);
      for (const d of userRecords([e])) {
        const k = JSON.parse(d).k as string;
        if (route(k) === shard) {
          const set = landed.get(shard) ?? new Set();
          set.add(Number(k.slice(4)));
          landed.set(shard, set);
        }
      }
    }
    const consistent = new Set([...landed.values()].flatMap((s) => [...s]));
    expect(consistent.size).toBe(400);
    const s = shipper.stats();
    expect(s).toMatchObject({ accepted: 400, sent: 400, failed: 0, buffered: 0 });
    expect(s.retried).toBeGreaterThan(0);
  });

  it('groups by key when ListShards is denied', async () => {
    // Prepare
    const fake = new FakeKinesis();
    fake.onListShards = () => {
      throw serviceError('AccessDeniedException');
    };
    const { shipper, errors } = shipperWith(fake, { partitionKey: (e) => (e as { k: string }).k });

    // Act
    for (let i = 0; i < 300; i++) shipper.send({ k: `key-${i % 3}`, i });
    await shipper.close();

    // Assess
    for (const e of fake.allEntries()) {
      const d = decodeAggregate(e.Data!);
      if (d.kind === 'ok') for (const r of d.records) expect(r.partitionKey).toBe(e.PartitionKey);
    }
    expect(fake.allEntries().length).toBe(3);
    expect(shipper.stats().sent).toBe(300);
    expect(errors).toEqual([]);
  });

  it('without a partitionKey gives each aggregate one fresh key shared by all its records', async () => {
    // Prepare
    const fake = new FakeKinesis();
    const { shipper } = shipperWith(fake, { maxAggregateBytes: 4_096 });

    // Act
    for (let i = 0; i < 500; i++) shipper.send({ i, msg: 'spread me' });
    await shipper.close();

    // Assess
    const keys = new Set<string>();
    for (const e of fake.allEntries()) {
      keys.add(e.PartitionKey!);
      const d = decodeAggregate(e.Data!);
      if (d.kind === 'ok') for (const r of d.records) expect(r.partitionKey).toBe(e.PartitionKey);
    }
    expect(keys.size).toBe(fake.allEntries().length);
    expect(keys.size).toBeGreaterThan(1);
    expect(fake.listShardsCalls).toBe(0);
  });
});

describe('createPinoDestination (the Lambda pattern)', () => {
  it('sends each pino line without its newline and flushes through logger.flush', async () => {
    // Prepare
    const { default: pino } = await import('pino');
    const fake = new FakeKinesis();
    const { shipper } = shipperWith(fake, { lingerMs: 10_000 });
    const logger = pino({ base: { service: 'checkout' }, timestamp: false }, createPinoDestination(shipper));

    // Act
    logger.info({ route: '/pay' }, 'paid');
    logger.warn('slow');
    await new Promise<void>((resolve) => logger.flush(() => resolve()));

    // Assess
    const lines = userRecords(fake.allEntries());
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { level: 30, service: 'checkout', route: '/pay', msg: 'paid' },
      { level: 40, service: 'checkout', msg: 'slow' },
    ]);
    expect(lines.every((l) => !l.endsWith('\n'))).toBe(true);
    await shipper.close();
  });
});
