/** SQLite storage of clients and their allowed page origins. */
import { checkClientInput, checkClientName, checkDefaultCountry, normalizeOrigin } from '../../domain/origins.js';
import { newClientId, newSiteKey } from '../../domain/tokens.js';
import type { Client, ClientStore } from '../types.js';
import { createCatalogCache, type CatalogVersion } from '../catalog-cache.js';
import type { Db } from './db.js';

interface ClientRow {
  id: string;
  name: string;
  site_key: string;
  default_country: string | null;
  created_at: string;
}

/** The columns of a {@link ClientRow} (not the key, which only the audit log uses). */
const COLUMNS = 'id, name, site_key, default_country, created_at';

/**
 * Creates the clients part of the store. Clients read by site key and the set of
 * allowed origins are cached until `catalog` changes (see catalog-version.ts).
 */
export function createClients(db: Db, now: () => Date, catalog: CatalogVersion): ClientStore {
  // A new client's key is the next one (clients_key, migration 032): given once, kept for good.
  const insert = db.prepare(
    'INSERT INTO clients (id, name, site_key, default_country, created_at, key) VALUES (?, ?, ?, ?, ?, (SELECT COALESCE(MAX(key), 0) + 1 FROM clients))',
  );
  const updateCountry = db.prepare('UPDATE clients SET default_country = ? WHERE id = ?');
  const insertOrigin = db.prepare('INSERT OR IGNORE INTO client_origins (client_id, origin) VALUES (?, ?)');
  const deleteOrigins = db.prepare('DELETE FROM client_origins WHERE client_id = ?');
  const setName = db.prepare('UPDATE clients SET name = ? WHERE id = ?');
  const byId = db.prepare<[string], ClientRow>(`SELECT ${COLUMNS} FROM clients WHERE id = ?`);
  const bySite = db.prepare<[string], ClientRow>(`SELECT ${COLUMNS} FROM clients WHERE site_key = ?`);
  const all = db.prepare<[], ClientRow>(`SELECT ${COLUMNS} FROM clients ORDER BY created_at, rowid`);
  const originsOf = db.prepare<[string], { origin: string }>(
    'SELECT origin FROM client_origins WHERE client_id = ? ORDER BY origin',
  );
  const allOrigins = db.prepare<[], string>('SELECT DISTINCT origin FROM client_origins').pluck();
  const cachedBySite = createCatalogCache<Client>(catalog);
  // One entry: every origin any client lists (bounded by the configuration, not by callers).
  const cachedOrigins = createCatalogCache<ReadonlySet<string>>(catalog);

  const toClient = ({ default_country, ...row }: ClientRow): Client => ({
    ...row,
    origins: originsOf.all(row.id).map((r) => r.origin),
    ...(default_country === null ? {} : { default_country }),
  });

  const replaceOrigins = db.transaction((id: string, origins: string[]) => {
    deleteOrigins.run(id);
    for (const origin of origins) insertOrigin.run(id, origin);
    catalog.bump();
  });

  return {
    async create(input) {
      const { name, origins, default_country } = checkClientInput(input);
      const id = newClientId();
      db.transaction(() => {
        insert.run(id, name, newSiteKey(), default_country, now().toISOString());
        for (const origin of origins) insertOrigin.run(id, origin);
        catalog.bump();
      })();
      return toClient(byId.get(id)!);
    },
    async get(id) {
      const row = byId.get(id);
      return row && toClient(row);
    },
    async bySiteKey(siteKey) {
      return cachedBySite.get(siteKey, () => {
        const row = bySite.get(siteKey);
        return row && toClient(row);
      });
    },
    async list() {
      return all.all().map(toClient);
    },
    async setOrigins(id, origins) {
      const normalized = origins.map(normalizeOrigin);
      if (!byId.get(id)) return undefined;
      replaceOrigins(id, normalized);
      return toClient(byId.get(id)!);
    },
    async setDefaultCountry(id, country) {
      const code = country === null ? null : checkDefaultCountry(country);
      if (updateCountry.run(code, id).changes === 0) return undefined;
      catalog.bump();
      return toClient(byId.get(id)!);
    },
    async rename(id, name) {
      const clean = checkClientName(name);
      if (setName.run(clean, id).changes === 0) return undefined;
      // Clients read by site key are cached with their name.
      catalog.bump();
      return toClient(byId.get(id)!);
    },
    async anyAllowsOrigin(origin) {
      return cachedOrigins.get('', () => new Set(allOrigins.all()))!.has(origin);
    },
  };
}
