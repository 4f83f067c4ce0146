/**
 * Per-shard checkpoints of the local event-source runner, persisted as one small JSON file.
 *
 * A checkpoint is the sequence number of the last record the handler acknowledged (every earlier
 * record of the shard is acknowledged too). Writes go to a temporary file that is fsynced and then
 * renamed over the old one, so a crash (even SIGKILL mid-write) leaves either the old or the new
 * file, never a torn one. Writes are coalesced: at most one in flight, the latest state wins.
 */
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CheckpointError } from './eventSourceRunnerErrors.ts';

/** What is known about one shard. */
export interface ShardCheckpoint {
  /** Last acknowledged sequence number; the runner resumes AFTER it. */
  sequenceNumber?: string;
  /** The shard is closed (resharded) and every record of it was acknowledged or discarded. */
  finished?: boolean;
  /**
   * Set when the mapping started at LATEST and nothing is acknowledged yet: records that arrived
   * before this time (ms) are skipped on a restart, records after it are not.
   */
  sinceMs?: number;
}

/** The file's JSON document. */
export interface CheckpointDocument {
  version: 1;
  streamName: string;
  updatedAt: string;
  shards: Record<string, ShardCheckpoint>;
}

/**
 * Checkpoints of one stream, in memory and (when `file` is given) on disk.
 *
 * @example
 * const store = await CheckpointStore.open('.tidewatch/checkpoints/logs.json', 'tidewatch-logs');
 * store.set('shardId-000000000000', { sequenceNumber: '4959...' });
 * await store.flush();
 */
export class CheckpointStore {
  readonly #file: string | undefined;
  readonly #streamName: string;
  readonly #shards: Map<string, ShardCheckpoint>;
  #writing: Promise<void> | undefined;
  #dirty = false;
  #writeError: unknown;
  #writes = 0;

  private constructor(file: string | undefined, streamName: string, shards: Map<string, ShardCheckpoint>) {
    this.#file = file;
    this.#streamName = streamName;
    this.#shards = shards;
  }

  /**
   * Loads `file` if it exists (a missing file is an empty store). Without `file` the store lives in
   * memory only. Throws {@link CheckpointError} when the file is unreadable or belongs to another stream.
   */
  static async open(file: string | undefined, streamName: string): Promise<CheckpointStore> {
    const shards = new Map<string, ShardCheckpoint>();
    if (file === undefined) return new CheckpointStore(undefined, streamName, shards);
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new CheckpointError(`cannot read checkpoint file ${file}: ${(err as Error).message}`, {
          cause: err,
        });
      }
    }
    if (text !== undefined) {
      let doc: CheckpointDocument;
      try {
        doc = JSON.parse(text) as CheckpointDocument;
      } catch (err) {
        throw new CheckpointError(
          `checkpoint file ${file} is not valid JSON; restore it or delete it to start from the configured starting position`,
          { cause: err },
        );
      }
      if (doc.version !== 1 || typeof doc.shards !== 'object' || doc.shards === null) {
        throw new CheckpointError(
          `checkpoint file ${file} has an unknown layout (version ${String(doc.version)})`,
        );
      }
      if (doc.streamName !== streamName) {
        throw new CheckpointError(
          `checkpoint file ${file} belongs to stream '${doc.streamName}', not '${streamName}'; use one file per stream`,
        );
      }
      for (const [shardId, cp] of Object.entries(doc.shards)) shards.set(shardId, { ...cp });
    }
    return new CheckpointStore(file, streamName, shards);
  }

  get file(): string | undefined {
    return this.#file;
  }

  /** Number of completed file writes (for tests and stats). */
  get writes(): number {
    return this.#writes;
  }

  get(shardId: string): Readonly<ShardCheckpoint> | undefined {
    return this.#shards.get(shardId);
  }

  /** All shards with a checkpoint. */
  entries(): IterableIterator<[string, Readonly<ShardCheckpoint>]> {
    return this.#shards.entries();
  }

  /** Replaces a shard's checkpoint and schedules a write (not awaited: see {@link flush}). */
  set(shardId: string, checkpoint: ShardCheckpoint): void {
    this.#shards.set(shardId, checkpoint);
    this.#dirty = true;
    if (this.#file !== undefined && this.#writing === undefined) this.#writing = this.#drainWrites();
  }

  /** Resolves once everything set so far is on disk. Rejects with the last write error, if any. */
  async flush(): Promise<void> {
    if (this.#file === undefined) return;
    if (this.#dirty && this.#writing === undefined) this.#writing = this.#drainWrites();
    while (this.#writing !== undefined) await this.#writing;
    if (this.#writeError !== undefined) {
      const err = this.#writeError;
      this.#writeError = undefined;
      throw err;
    }
  }

  async #drainWrites(): Promise<void> {
    try {
      while (this.#dirty) {
        this.#dirty = false;
        try {
          await this.#writeOnce();
          this.#writeError = undefined;
        } catch (err) {
          this.#writeError = err;
          // Keep the state dirty so the next set() or flush() tries again.
          this.#dirty = true;
          return;
        }
      }
    } finally {
      this.#writing = undefined;
    }
  }

  async #writeOnce(): Promise<void> {
    const file = this.#file as string;
    const doc: CheckpointDocument = {
      version: 1,
      streamName: this.#streamName,
      updatedAt: new Date().toISOString(),
      shards: Object.fromEntries(this.#shards),
    };
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      await mkdir(dirname(file), { recursive: true });
      const handle = await open(tmp, 'w');
      try {
        await handle.writeFile(`${JSON.stringify(doc, null, 2)}\n`, 'utf8');
        // fsync before rename: otherwise a power loss could leave a renamed but empty file.
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, file);
      this.#writes++;
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw new CheckpointError(`cannot write checkpoint file ${file}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
}
