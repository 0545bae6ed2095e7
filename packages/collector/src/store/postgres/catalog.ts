/**
 * When cached clients and stages must be read again, on PostgreSQL. Every
 * webhook call reads its stage and every beacon its client and stage: the store
 * caches them (see `sqlite/catalog-version.ts` for why) and drops the cache when
 * they may have changed:
 *
 * - this store wrote them: it calls {@link CatalogWatch.bump};
 * - anyone else did (another collector, `pruuv stages rotate-token`): triggers
 *   on `clients`, `client_origins` and `stages` send `NOTIFY pruuv_catalog`
 *   (migration 001), which a dedicated listening connection receives within
 *   milliseconds of the commit.
 *
 * While that connection is down, nothing is cached: every lookup reads the
 * database until it listens again.
 */
import pg from 'pg';
import type { CatalogVersion } from '../catalog-cache.js';

/** The catalog version of a PostgreSQL store, with the listener's lifecycle. */
export interface CatalogWatch extends CatalogVersion {
  /** Whether the listener is connected (caching is on). */
  readonly listening: boolean;
  close(): Promise<void>;
}

/** Starts listening; resolves once the first `LISTEN` is in place (or failed: caching stays off and it retries). */
export async function watchCatalog(connectionString: string): Promise<CatalogWatch> {
  let generation = 0;
  let listening = false;
  let closed = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    if (closed) return;
    const c = new pg.Client({ connectionString, application_name: 'pruuv-catalog', connectionTimeoutMillis: 5000 });
    const lost = (): void => {
      if (client !== c) return;
      client = undefined;
      listening = false;
      generation++;
      c.removeAllListeners();
      // A client that lost its server may still emit errors while it ends: never unhandled.
      c.on('error', () => {});
      c.end().catch(() => {});
      if (!closed) retry = setTimeout(() => void connect(), 1000).unref();
    };
    c.on('error', lost);
    c.on('end', lost);
    c.on('notification', () => {
      generation++;
    });
    client = c;
    try {
      await c.connect();
      await c.query('LISTEN pruuv_catalog');
      // Anything may have changed while we were not listening.
      generation++;
      listening = true;
    } catch {
      lost();
    }
  };
  await connect();

  return {
    get listening() {
      return listening;
    },
    current() {
      // Not listening: a new version per lookup, so nothing cached is ever served.
      return listening ? generation : ++generation;
    },
    bump() {
      generation++;
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      const c = client;
      client = undefined;
      listening = false;
      c?.removeAllListeners();
      c?.on('error', () => {});
      await c?.end().catch(() => {});
    },
  };
}
