/** PostgreSQL storage of clients and their allowed page origins. */
import { checkClientInput, checkClientName, checkDefaultCountry, normalizeOrigin } from '../../domain/origins.js';
import { newClientId, newSiteKey } from '../../domain/tokens.js';
import { createAsyncCatalogCache, type CatalogVersion } from '../catalog-cache.js';
import type { Client, ClientStore } from '../types.js';
import type { Queryable, StorePool } from './pool.js';

interface ClientRow {
  id: string;
  name: string;
  site_key: string;
  created_at: Date;
  default_country: string | null;
  origins: string[] | null;
}

/** The client with its origins, in one statement. */
const CLIENT_SQL = `SELECT c.id, c.name, c.site_key, c.created_at, c.default_country,
  (SELECT array_agg(o.origin ORDER BY o.origin) FROM client_origins o WHERE o.client_id = c.id) AS origins
FROM clients c`;

function toClient(row: ClientRow): Client {
  const client: Client = { id: row.id, name: row.name, site_key: row.site_key, origins: row.origins ?? [], created_at: row.created_at.toISOString() };
  if (row.default_country !== null) client.default_country = row.default_country;
  return client;
}

async function insertOrigins(q: Queryable, id: string, origins: readonly string[]): Promise<void> {
  if (origins.length === 0) return;
  await q.query('INSERT INTO client_origins (client_id, origin) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING', [id, origins]);
}

/** Creates the clients part of the store; by-site-key reads and the origin set are cached until `catalog` changes. */
export function createClients(db: StorePool, now: () => Date, catalog: CatalogVersion): ClientStore {
  const bySite = createAsyncCatalogCache<Client>(catalog);
  const origins = createAsyncCatalogCache<ReadonlySet<string>>(catalog);
  const byId = async (id: string): Promise<Client | undefined> => {
    const { rows } = await db.query<ClientRow>(`${CLIENT_SQL} WHERE c.id = $1`, [id]);
    return rows[0] && toClient(rows[0]);
  };
  return {
    async create(input) {
      const { name, origins: list, default_country } = checkClientInput(input);
      const id = newClientId();
      await db.transaction(async (q) => {
        await q.query('INSERT INTO clients (id, name, site_key, default_country, created_at) VALUES ($1, $2, $3, $4, $5)', [id, name, newSiteKey(), default_country, now()]);
        await insertOrigins(q, id, list);
      });
      catalog.bump();
      return (await byId(id))!;
    },
    get: byId,
    bySiteKey(siteKey) {
      return bySite.get(siteKey, async () => {
        const { rows } = await db.query<ClientRow>(`${CLIENT_SQL} WHERE c.site_key = $1`, [siteKey]);
        return rows[0] && toClient(rows[0]);
      });
    },
    async list() {
      const { rows } = await db.query<ClientRow>(`${CLIENT_SQL} ORDER BY c.created_at, c.seq`);
      return rows.map(toClient);
    },
    async setOrigins(id, list) {
      const normalized = list.map(normalizeOrigin);
      const found = await db.transaction(async (q) => {
        const { rowCount } = await q.query('SELECT 1 FROM clients WHERE id = $1 FOR UPDATE', [id]);
        if (rowCount === 0) return false;
        await q.query('DELETE FROM client_origins WHERE client_id = $1', [id]);
        await insertOrigins(q, id, normalized);
        return true;
      });
      catalog.bump();
      return found ? byId(id) : undefined;
    },
    async setDefaultCountry(id, country) {
      const code = country === null ? null : checkDefaultCountry(country);
      const { rowCount } = await db.query('UPDATE clients SET default_country = $1 WHERE id = $2', [code, id]);
      catalog.bump();
      return rowCount === 0 ? undefined : byId(id);
    },
    async rename(id, name) {
      const clean = checkClientName(name);
      const { rowCount } = await db.query('UPDATE clients SET name = $1 WHERE id = $2', [clean, id]);
      if (rowCount === 0) return undefined;
      // Clients read by site key are cached with their name.
      catalog.bump();
      return byId(id);
    },
    async anyAllowsOrigin(origin) {
      const all = await origins.get('', async () => {
        const { rows } = await db.query<{ origin: string }>('SELECT DISTINCT origin FROM client_origins');
        return new Set(rows.map((r) => r.origin));
      });
      return all!.has(origin);
    },
  };
}
