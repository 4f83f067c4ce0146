/**
 * Detector and window state checkpoints in DynamoDB: opaque blobs keyed by (kind, key), each with a
 * caller-chosen monotonic `version` (e.g. the watermark or the last sequence number folded in).
 *
 * Conditional writes keep two invocations from overwriting newer state: a put succeeds only if the
 * item is absent, stored with a lower version, or stored with the same version and the same bytes
 * (an idempotent retry). Otherwise the outcome is `conflict` with the stored version — a clear
 * result, not an exception — and the caller reloads (DynamoDB developer guide, "Condition
 * expressions" / optimistic locking with a version number).
 *
 * Table layout (`StateTable` in schema.ts): hash key `pk` = `<kind>#<key>` (S), attributes `kind`,
 * `key`, `version` (N), `data` (B), `updatedAtMs` (N), optional TTL `expiresAt` (N, epoch s).
 * Limits: item ≤ 400 KB; BatchGetItem ≤ 100 keys; BatchWriteItem ≤ 25 items and no condition
 * expressions — so conditional batches are parallel conditional `PutItem`s.
 */
import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { StateTable } from '../schema.ts';
import { Backoff, type BackoffOptions, errorName, isRetryableError } from './backoff.ts';
import { StateStoreError } from './errors.ts';

/** Identity of one state blob. */
export interface StateRef {
  /** What the state is (`detector`, `window`, `alerts`). */
  kind: string;
  /** Whose state (series key, shard id). */
  key: string;
}

/** A stored state blob. */
export interface StateItem extends StateRef {
  version: number;
  data: Uint8Array;
  updatedAtMs: number;
}

/** A state blob to store. */
export interface StatePut extends StateRef {
  /** Monotonic per (kind, key); a put with a lower version than stored is a conflict. */
  version: number;
  data: Uint8Array;
  /** Delete the item this many seconds after the write (DynamoDB TTL). */
  ttlSeconds?: number;
}

/** Outcome of one put. */
export type StatePutOutcome =
  | { readonly kind: 'ok' }
  | { readonly kind: 'conflict'; readonly currentVersion: number }
  | { readonly kind: 'retry'; readonly reason: string }
  | { readonly kind: 'reject'; readonly code: 'oversized'; readonly detail: string };

/** Options of {@link DynamoDbStateStore}. */
export interface DynamoDbStateStoreOptions {
  /** A `DynamoDBClient`; prefer `maxAttempts: 1` so the store's budgeted backoff is the only retry loop. */
  client: DynamoDBClient;
  /** Default `Names.stateTable` is the caller's to pass; required here to avoid writing the wrong table. */
  tableName: string;
  /** Parallel conditional PutItem calls in `putMany`. Default 8. */
  concurrency?: number;
  /** Budget when a call passes none. Default 10,000 ms. */
  defaultBudgetMs?: number;
  backoff?: Omit<BackoffOptions, 'budgetMs' | 'deadlineMs'>;
  /** Clock for `updatedAtMs` and TTL. Default `Date.now`. */
  now?: () => number;
}

/** DynamoDB item size limit (400 KB, names and values included). */
export const MAX_STATE_ITEM_BYTES = 400 * 1024;
/** BatchGetItem: at most 100 keys per call. */
export const MAX_BATCH_GET_KEYS = 100;
/** BatchWriteItem: at most 25 put/delete requests per call. */
export const MAX_BATCH_WRITE_ITEMS = 25;

const OK: StatePutOutcome = Object.freeze({ kind: 'ok' });
const PK = StateTable.partitionKey;
const TTL = StateTable.ttlAttribute;

function pkOf(ref: StateRef): string {
  return `${ref.kind}#${ref.key}`;
}

function fromItem(item: Record<string, AttributeValue>): StateItem | undefined {
  const kind = item.kind?.S;
  const key = item.key?.S;
  const version = item.version?.N;
  const data = item.data?.B;
  if (kind === undefined || key === undefined || version === undefined || data === undefined)
    return undefined;
  return { kind, key, version: Number(version), data, updatedAtMs: Number(item.updatedAtMs?.N ?? 0) };
}

/**
 * State store on DynamoDB.
 *
 * @example
 * const store = new DynamoDbStateStore({ client: new DynamoDBClient({ maxAttempts: 1 }), tableName: Names.stateTable });
 * const prev = await store.get({ kind: 'detector', key: 'checkout' });
 * const out = await store.put({ kind: 'detector', key: 'checkout', version: watermarkMs, data });
 * if (out.kind === 'conflict') { // someone stored newer state: reload and recompute
 * }
 */
export class DynamoDbStateStore {
  readonly tableName: string;
  private readonly client: DynamoDBClient;
  private readonly concurrency: number;
  private readonly defaultBudgetMs: number;
  private readonly backoffOptions: Omit<BackoffOptions, 'budgetMs' | 'deadlineMs'>;
  private readonly now: () => number;

  constructor(options: DynamoDbStateStoreOptions) {
    if (options.tableName === '') throw new StateStoreError('tableName must not be empty');
    this.client = options.client;
    this.tableName = options.tableName;
    this.concurrency = options.concurrency ?? 8;
    this.defaultBudgetMs = options.defaultBudgetMs ?? 10_000;
    this.backoffOptions = options.backoff ?? {};
    this.now = options.now ?? Date.now;
  }

  private backoff(budgetMs: number | undefined): Backoff {
    return new Backoff({ ...this.backoffOptions, budgetMs: budgetMs ?? this.defaultBudgetMs });
  }

  /** Runs `call`, retrying throttling/5xx/network errors; throws StateStoreError when it cannot. */
  private async withRetry<T>(what: string, backoff: Backoff, call: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await call();
      } catch (err) {
        if (isRetryableError(err) && (await backoff.wait())) continue;
        throw new StateStoreError(`${what} on table '${this.tableName}' failed: ${errorName(err)}`, {
          cause: err,
        });
      }
    }
  }

  /**
   * Reads one state blob (strongly consistent), or `undefined` if none.
   * @throws StateStoreError when DynamoDB keeps failing past the budget or the table is missing.
   */
  async get(ref: StateRef, options: { budgetMs?: number } = {}): Promise<StateItem | undefined> {
    const res = await this.withRetry('GetItem', this.backoff(options.budgetMs), () =>
      this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: { [PK]: { S: pkOf(ref) } },
          ConsistentRead: true,
        }),
      ),
    );
    return res.Item === undefined ? undefined : fromItem(res.Item);
  }

  /**
   * Reads many blobs with BatchGetItem (≤ 100 keys per call, `UnprocessedKeys` resent with backoff).
   * `result[i]` belongs to `refs[i]`.
   * @throws StateStoreError when DynamoDB keeps failing past the budget.
   */
  async getMany(
    refs: readonly StateRef[],
    options: { budgetMs?: number } = {},
  ): Promise<(StateItem | undefined)[]> {
    const backoff = this.backoff(options.budgetMs);
    const found = new Map<string, StateItem>();
    // BatchGetItem rejects duplicate keys in one request.
    const unique = [...new Set(refs.map(pkOf))];
    for (let start = 0; start < unique.length; start += MAX_BATCH_GET_KEYS) {
      let keys: Record<string, AttributeValue>[] = unique
        .slice(start, start + MAX_BATCH_GET_KEYS)
        .map((pk) => ({ [PK]: { S: pk } }));
      while (keys.length > 0) {
        const res = await this.withRetry('BatchGetItem', backoff, () =>
          this.client.send(
            new BatchGetItemCommand({
              RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } },
            }),
          ),
        );
        for (const item of res.Responses?.[this.tableName] ?? []) {
          const state = fromItem(item);
          if (state !== undefined) found.set(pkOf(state), state);
        }
        keys = res.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
        if (keys.length > 0 && !(await backoff.wait())) {
          throw new StateStoreError(
            `BatchGetItem on '${this.tableName}' left ${keys.length} keys unprocessed`,
          );
        }
      }
    }
    return refs.map((ref) => found.get(pkOf(ref)));
  }

  private toItem(put: StatePut): Record<string, AttributeValue> {
    const nowMs = this.now();
    const item: Record<string, AttributeValue> = {
      [PK]: { S: pkOf(put) },
      kind: { S: put.kind },
      key: { S: put.key },
      version: { N: String(put.version) },
      data: { B: put.data },
      updatedAtMs: { N: String(nowMs) },
    };
    if (put.ttlSeconds !== undefined) item[TTL] = { N: String(Math.floor(nowMs / 1000) + put.ttlSeconds) };
    return item;
  }

  private oversized(put: StatePut): StatePutOutcome | undefined {
    // Names + fixed attributes are well under 200 bytes besides kind/key/data.
    const size = put.data.length + Buffer.byteLength(put.kind) * 2 + Buffer.byteLength(put.key) * 2 + 200;
    if (size <= MAX_STATE_ITEM_BYTES) return undefined;
    return {
      kind: 'reject',
      code: 'oversized',
      detail: `state ${pkOf(put)} of ${put.data.length} bytes exceeds the DynamoDB item limit of 400 KB`,
    };
  }

  /**
   * Conditionally stores one blob. `ok` if stored (or the identical version was already stored),
   * `conflict` if newer or different same-version state is stored, `retry` if DynamoDB kept failing.
   */
  async put(put: StatePut, options: { budgetMs?: number } = {}): Promise<StatePutOutcome> {
    return this.putWith(put, this.backoff(options.budgetMs));
  }

  private async putWith(put: StatePut, backoff: Backoff): Promise<StatePutOutcome> {
    if (!Number.isSafeInteger(put.version) || put.version < 0) {
      throw new StateStoreError(`version must be a non-negative safe integer, got ${put.version}`);
    }
    const tooBig = this.oversized(put);
    if (tooBig !== undefined) return tooBig;
    const command = new PutItemCommand({
      TableName: this.tableName,
      Item: this.toItem(put),
      ConditionExpression: 'attribute_not_exists(#pk) OR #v < :v OR (#v = :v AND #d = :d)',
      ExpressionAttributeNames: { '#pk': PK, '#v': 'version', '#d': 'data' },
      ExpressionAttributeValues: { ':v': { N: String(put.version) }, ':d': { B: put.data } },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    for (;;) {
      try {
        await this.client.send(command);
        return OK;
      } catch (err) {
        if (errorName(err) === 'ConditionalCheckFailedException') {
          const old = (err as { Item?: Record<string, AttributeValue> }).Item;
          let current = old?.version?.N;
          if (current === undefined) {
            // Older DynamoDB-compatible servers (dynalite) do not return the old item: read it.
            try {
              current = String(
                (await this.get(put, { budgetMs: backoff.remainingMs() }))?.version ?? put.version,
              );
            } catch {
              current = String(put.version);
            }
          }
          return { kind: 'conflict', currentVersion: Number(current) };
        }
        if (isRetryableError(err) && (await backoff.wait())) continue;
        return { kind: 'retry', reason: `dynamodb:${errorName(err)}` };
      }
    }
  }

  /**
   * Stores many blobs. Conditional (default): parallel conditional PutItems, one outcome each.
   * `conditional: false`: BatchWriteItem (≤ 25 per call, `UnprocessedItems` resent with backoff) for
   * state where the last writer may win; duplicates keep the highest version.
   */
  async putMany(
    puts: readonly StatePut[],
    options: { budgetMs?: number; conditional?: boolean } = {},
  ): Promise<StatePutOutcome[]> {
    const backoffBudget = options.budgetMs ?? this.defaultBudgetMs;
    const outcomes: StatePutOutcome[] = new Array(puts.length);
    if (options.conditional === false) {
      await this.batchWrite(puts, outcomes, this.backoff(backoffBudget));
      return outcomes;
    }
    const deadlineMs = (this.backoffOptions.now ?? Date.now)() + backoffBudget;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < puts.length) {
        const i = next++;
        outcomes[i] = await this.putWith(puts[i]!, new Backoff({ ...this.backoffOptions, deadlineMs }));
      }
    };
    const workers: Promise<void>[] = [];
    for (let w = 0; w < Math.min(this.concurrency, puts.length); w++) workers.push(worker());
    await Promise.all(workers);
    return outcomes;
  }

  private async batchWrite(
    puts: readonly StatePut[],
    outcomes: StatePutOutcome[],
    backoff: Backoff,
  ): Promise<void> {
    const winner = new Map<string, number>();
    for (let i = 0; i < puts.length; i++) {
      const p = puts[i]!;
      const tooBig = this.oversized(p);
      if (tooBig !== undefined) {
        outcomes[i] = tooBig;
        continue;
      }
      const pk = pkOf(p);
      const prev = winner.get(pk);
      if (prev === undefined || puts[prev]!.version <= p.version) winner.set(pk, i);
    }
    const indices = [...winner.values()];
    const byPk = new Map<string, number>();
    for (const i of indices) byPk.set(pkOf(puts[i]!), i);
    for (let start = 0; start < indices.length; start += MAX_BATCH_WRITE_ITEMS) {
      let requests = indices
        .slice(start, start + MAX_BATCH_WRITE_ITEMS)
        .map((i) => ({ PutRequest: { Item: this.toItem(puts[i]!) } }));
      let failure = '';
      while (requests.length > 0) {
        try {
          const res = await this.client.send(
            new BatchWriteItemCommand({ RequestItems: { [this.tableName]: requests } }),
          );
          const unprocessed = res.UnprocessedItems?.[this.tableName] ?? [];
          const left = new Set(unprocessed.map((r) => r.PutRequest?.Item?.[PK]?.S));
          for (const r of requests) {
            const pk = r.PutRequest.Item[PK]?.S;
            if (pk !== undefined && !left.has(pk)) outcomes[byPk.get(pk)!] = OK;
          }
          requests = requests.filter((r) => left.has(r.PutRequest.Item[PK]?.S));
          failure = 'UnprocessedItems';
          if (requests.length > 0 && !(await backoff.wait())) break;
        } catch (err) {
          failure = errorName(err);
          if (!(isRetryableError(err) && (await backoff.wait()))) break;
        }
      }
      for (const r of requests) {
        const pk = r.PutRequest.Item[PK]?.S;
        if (pk !== undefined) outcomes[byPk.get(pk)!] = { kind: 'retry', reason: `dynamodb:${failure}` };
      }
    }
    for (let i = 0; i < puts.length; i++) {
      if (outcomes[i] === undefined) outcomes[i] = outcomes[winner.get(pkOf(puts[i]!))!]!;
    }
  }

  /**
   * Deletes a blob; with `ifVersion`, only if the stored version is not newer than it.
   * @returns `ok`, `conflict` (newer state stored) or `retry`.
   */
  async delete(
    ref: StateRef,
    options: { ifVersion?: number; budgetMs?: number } = {},
  ): Promise<StatePutOutcome> {
    const backoff = this.backoff(options.budgetMs);
    const command = new DeleteItemCommand({
      TableName: this.tableName,
      Key: { [PK]: { S: pkOf(ref) } },
      ...(options.ifVersion === undefined
        ? {}
        : {
            ConditionExpression: 'attribute_not_exists(#pk) OR #v <= :v',
            ExpressionAttributeNames: { '#pk': PK, '#v': 'version' },
            ExpressionAttributeValues: { ':v': { N: String(options.ifVersion) } },
          }),
    });
    for (;;) {
      try {
        await this.client.send(command);
        return OK;
      } catch (err) {
        if (errorName(err) === 'ConditionalCheckFailedException') {
          const current = await this.get(ref, { budgetMs: backoff.remainingMs() }).catch(() => undefined);
          return { kind: 'conflict', currentVersion: current?.version ?? -1 };
        }
        if (isRetryableError(err) && (await backoff.wait())) continue;
        return { kind: 'retry', reason: `dynamodb:${errorName(err)}` };
      }
    }
  }
}

/**
 * Creates the state table if it does not exist (on-demand billing, `StateTable` key schema) and waits
 * until it is ACTIVE. For the embedded mode and tests; on AWS, infra creates it.
 *
 * @example
 * await ensureStateTable(new DynamoDBClient({ endpoint: dynalite.url }), Names.stateTable);
 */
export async function ensureStateTable(
  client: DynamoDBClient,
  tableName: string,
  options: { timeoutMs?: number } = {},
): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: PK, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: PK, KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } catch (err) {
    if (errorName(err) !== 'ResourceInUseException') {
      throw new StateStoreError(`CreateTable '${tableName}' failed: ${errorName(err)}`, { cause: err });
    }
  }
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const res = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (res.Table?.TableStatus === 'ACTIVE') return;
    if (Date.now() > deadline)
      throw new StateStoreError(`table '${tableName}' did not become ACTIVE in time`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
