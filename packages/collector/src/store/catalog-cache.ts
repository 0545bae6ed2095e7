/**
 * Caches of clients and stages, whatever the engine: each engine says when
 * they may have changed (a {@link CatalogVersion}), the cache drops its entries then.
 */

/** The version of the clients and stages a cache holds. */
export interface CatalogVersion {
  /**
   * A number that changes whenever clients or stages may have changed: at once for this
   * store's own writes, from the next turn of the event loop for other connections'.
   */
  current(): number;
  /** Records that this store changed clients or stages. */
  bump(): void;
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

/** A {@link CatalogCache} whose rows load asynchronously (a database server). */
export interface AsyncCatalogCache<V> {
  /** The cached value of `key`, else `load()`'s, cached when defined and still current. */
  get(key: string, load: () => Promise<V | undefined>): Promise<V | undefined>;
}

/**
 * Creates an {@link AsyncCatalogCache}. A row loaded while the version changed
 * (a change notified during the read) is returned but not cached: it may be
 * older than the change.
 */
export function createAsyncCatalogCache<V>(catalog: CatalogVersion): AsyncCatalogCache<V> {
  const entries = new Map<string, V>();
  let version = -1;
  return {
    async get(key, load) {
      const before = catalog.current();
      if (before !== version) {
        entries.clear();
        version = before;
      }
      const hit = entries.get(key);
      if (hit !== undefined) return hit;
      const value = await load();
      if (value !== undefined && catalog.current() === before && version === before) entries.set(key, value);
      return value;
    },
  };
}
