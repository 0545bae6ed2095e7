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
 * The pragma is read at most once per turn of the event loop (a few µs each,
 * under write load tens: it reads the WAL's shared index), so the requests handled
 * in one turn share one check, and a token rotated by another process stops
 * working from the next turn on.
 */
import type { CatalogVersion } from '../catalog-cache.js';
import type { Db } from './db.js';

export type { CatalogVersion };

/** Creates the catalog version of `db`. */
export function createCatalogVersion(db: Db): CatalogVersion {
  const dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
  let lastDataVersion = dataVersion.get();
  let generation = 0;
  let checkedThisTurn = false;
  const nextTurn = (): void => {
    checkedThisTurn = false;
  };
  return {
    current() {
      if (!checkedThisTurn) {
        checkedThisTurn = true;
        setImmediate(nextTurn).unref();
        const seen = dataVersion.get();
        if (seen !== lastDataVersion) {
          lastDataVersion = seen;
          generation++;
        }
      }
      return generation;
    },
    bump() {
      generation++;
    },
  };
}

