/**
 * When cached clients and stages must be read again. Every webhook call reads its
 * stage (and its token hash) and every beacon its client, origins and stage: four
 * to five queries per request on the hot paths (bench/ingest.mjs), for rows that
 * change a few times a year. The store caches them and drops the cache whenever
 * they may have changed:
 *
 * - this store wrote them (create, rotate-token, set-origins…): it calls {@link CatalogVersion.bump};
 * - another connection committed anything (`pruuv stages rotate-token` in another
 *   process, a second collector on the same file): SQLite's `PRAGMA data_version`
 *   changes ("different if changes were committed to the database by any other
 *   connection in the interim", sqlite.org/pragma.html#pragma_data_version).
 *
 * Checking costs one pragma per lookup (a few µs, no table read), and a rotated
 * token stops working at the next request, whichever process rotated it.
 */
import type { Db } from '../db.js';

/** The version of the clients and stages a cache holds. */
export interface CatalogVersion {
  /** A number that changes whenever clients or stages may have changed since the last call. */
  current(): number;
  /** Records that this store changed clients or stages. */
  bump(): void;
}

/** Creates the catalog version of `db`. */
export function createCatalogVersion(db: Db): CatalogVersion {
  const dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
  let lastDataVersion = dataVersion.get();
  let generation = 0;
  return {
    current() {
      const seen = dataVersion.get();
      if (seen !== lastDataVersion) {
        lastDataVersion = seen;
        generation++;
      }
      return generation;
    },
    bump() {
      generation++;
    },
  };
}

/** A map whose entries are dropped when the catalog version changes. */
export interface CatalogCache<V> {
  /** The cached value of `key`, else `load()`'s, cached when defined. */
  get(key: string, load: () => V | undefined): V | undefined;
}

/**
 * Creates a {@link CatalogCache}. Only found rows are cached (never misses, which a
 * caller controls), so its size is bounded by the rows that exist.
 */
export function createCatalogCache<V>(catalog: CatalogVersion): CatalogCache<V> {
  const entries = new Map<string, V>();
  let version = -1;
  return {
    get(key, load) {
      const current = catalog.current();
      if (current !== version) {
        entries.clear();
        version = current;
      }
      const hit = entries.get(key);
      if (hit !== undefined) return hit;
      const value = load();
      if (value !== undefined) entries.set(key, value);
      return value;
    },
  };
}
