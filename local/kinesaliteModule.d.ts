// kinesalite ships no types. This is the part of its API local/kinesalite.ts uses.
declare module 'kinesalite' {
  import type { Server } from 'node:http';

  interface KinesaliteOptions {
    /** LevelDB directory (needs `leveldown`); omitted: in memory (memdown). */
    path?: string;
    /** Milliseconds a stream stays CREATING; kinesalite default 500. */
    createStreamMs?: number;
    deleteStreamMs?: number;
    /** Milliseconds a stream stays UPDATING after SplitShard/MergeShards; default 500. */
    updateStreamMs?: number;
    /** Open shards allowed across all streams; default 10. */
    shardLimit?: number;
    ssl?: boolean;
  }

  function kinesalite(options?: KinesaliteOptions): Server;
  export = kinesalite;
}
