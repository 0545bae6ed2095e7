/** SQLite storage of clients and their allowed page origins. */
import type { Db } from '../db.js';
import { createCatalogCache, type CatalogVersion } from './catalog-version.js';
import { InvalidInputError } from '../errors.js';
import { newClientId, newSiteKey } from '../tokens.js';
import type { Client, Store } from './types.js';

interface ClientRow {
  id: string;
  name: string;
  site_key: string;
  created_at: string;
}

/**
 * The canonical form of a page origin as browsers send it in the `Origin`
 * header: lower-case scheme and host, no default port, no path.
 * Throws {@link InvalidInputError} for anything that is not an http(s) origin.
 */
export function normalizeOrigin(input: string): string {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw new InvalidInputError(`Invalid origin "${input}": write it as scheme://host[:port], e.g. https://www.example.com`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InvalidInputError(`Invalid origin "${input}": only http:// and https:// origins can send pixel events`);
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username || url.password) {
    throw new InvalidInputError(`Invalid origin "${input}": give the origin only (scheme://host[:port]), without path, query or credentials`);
  }
  return url.origin;
}

/**
 * Creates the clients part of the store. Clients read by site key and the set of
 * allowed origins are cached until `catalog` changes (see catalog-version.ts).
 */
export function createClients(db: Db, now: () => Date, catalog: CatalogVersion): Store['clients'] {
  const insert = db.prepare('INSERT INTO clients (id, name, site_key, created_at) VALUES (?, ?, ?, ?)');
  const insertOrigin = db.prepare('INSERT OR IGNORE INTO client_origins (client_id, origin) VALUES (?, ?)');
  const deleteOrigins = db.prepare('DELETE FROM client_origins WHERE client_id = ?');
  const byId = db.prepare<[string], ClientRow>('SELECT * FROM clients WHERE id = ?');
  const bySite = db.prepare<[string], ClientRow>('SELECT * FROM clients WHERE site_key = ?');
  const all = db.prepare<[], ClientRow>('SELECT * FROM clients ORDER BY created_at, rowid');
  const originsOf = db.prepare<[string], { origin: string }>(
    'SELECT origin FROM client_origins WHERE client_id = ? ORDER BY origin',
  );
  const allOrigins = db.prepare<[], string>('SELECT DISTINCT origin FROM client_origins').pluck();
  const cachedBySite = createCatalogCache<Client>(catalog);
  // One entry: every origin any client lists (bounded by the configuration, not by callers).
  const cachedOrigins = createCatalogCache<ReadonlySet<string>>(catalog);

  const toClient = (row: ClientRow): Client => ({
    ...row,
    origins: originsOf.all(row.id).map((r) => r.origin),
  });

  const replaceOrigins = db.transaction((id: string, origins: string[]) => {
    deleteOrigins.run(id);
    for (const origin of origins) insertOrigin.run(id, origin);
    catalog.bump();
  });

  return {
    create(input) {
      const name = input.name.trim();
      if (name === '' || name.length > 200) {
        throw new InvalidInputError('Invalid client name: give 1 to 200 characters, e.g. "Acme Ltd"');
      }
      const origins = (input.origins ?? []).map(normalizeOrigin);
      const id = newClientId();
      db.transaction(() => {
        insert.run(id, name, newSiteKey(), now().toISOString());
        for (const origin of origins) insertOrigin.run(id, origin);
        catalog.bump();
      })();
      return toClient(byId.get(id)!);
    },
    get(id) {
      const row = byId.get(id);
      return row && toClient(row);
    },
    bySiteKey(siteKey) {
      return cachedBySite.get(siteKey, () => {
        const row = bySite.get(siteKey);
        return row && toClient(row);
      });
    },
    list() {
      return all.all().map(toClient);
    },
    setOrigins(id, origins) {
      const normalized = origins.map(normalizeOrigin);
      if (!byId.get(id)) return undefined;
      replaceOrigins(id, normalized);
      return toClient(byId.get(id)!);
    },
    anyAllowsOrigin(origin) {
      return cachedOrigins.get('', () => new Set(allOrigins.all()))!.has(origin);
    },
  };
}
