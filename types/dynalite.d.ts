declare module 'dynalite' {
  import type { Server } from 'node:http';

  interface DynaliteOptions {
    /** Milliseconds a table stays CREATING (and DELETING, UPDATING) before it is ACTIVE. */
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    /** A LevelDB directory; without one, the data lives in memory. */
    path?: string;
  }

  /** An HTTP server speaking DynamoDB's JSON protocol. */
  export default function dynalite(options?: DynaliteOptions): Server;
}
