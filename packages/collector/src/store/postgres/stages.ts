/** PostgreSQL storage of funnel stages and their webhook tokens (hashes only). */
import { InvalidInputError } from '../../errors.js';
import { checkStageInput, cleanEventNames } from '../../domain/origins.js';
import { hashToken, newStageId, newWebhookToken, tokenMatches, UNKNOWN_TOKEN_HASH } from '../../domain/tokens.js';
import { createAsyncCatalogCache, type CatalogVersion } from '../catalog-cache.js';
import type { Stage, StageStore } from '../types.js';
import type { StorePool } from './pool.js';

interface StageRow {
  id: string;
  client_id: string;
  key: string;
  name: string;
  token_hash: string;
  event_names: Stage['event_names'];
  created_at: Date;
}

function toStage(row: StageRow): Stage {
  return { id: row.id, client_id: row.client_id, key: row.key, name: row.name, event_names: row.event_names, created_at: row.created_at.toISOString() };
}

const COLUMNS = 'id, client_id, key, name, token_hash, event_names, created_at';

/** A stage as cached: the stage and the hash its webhook token is checked against. */
interface CachedStage {
  stage: Stage;
  tokenHash: string;
}

/** Creates the stages part of the store; reads by id or key are cached until `catalog` changes. */
export function createStages(db: StorePool, now: () => Date, catalog: CatalogVersion): StageStore {
  const byIdCache = createAsyncCatalogCache<CachedStage>(catalog);
  const byKeyCache = createAsyncCatalogCache<Stage>(catalog);
  const load = (id: string): Promise<CachedStage | undefined> =>
    byIdCache.get(id, async () => {
      const { rows } = await db.query<StageRow>(`SELECT ${COLUMNS} FROM stages WHERE id = $1`, [id]);
      return rows[0] && { stage: toStage(rows[0]), tokenHash: rows[0].token_hash };
    });
  return {
    async create(input) {
      const { key, name } = checkStageInput(input);
      const id = newStageId();
      const token = newWebhookToken();
      try {
        const { rows } = await db.query<StageRow>(
          `INSERT INTO stages (id, client_id, key, name, token_hash, event_names, created_at)
           VALUES ($1, $2, $3, $4, $5, '{}', $6) RETURNING ${COLUMNS}`,
          [id, input.client_id, key, name, hashToken(token), now()],
        );
        catalog.bump();
        return { stage: toStage(rows[0]!), token };
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        // Foreign key and unique violations: the same messages as the SQLite store.
        if (code === '23503') throw new InvalidInputError(`Unknown client "${input.client_id}": create it first (pruuv clients add)`);
        if (code === '23505') throw new InvalidInputError(`Stage "${key}" already exists for client ${input.client_id}: pick another key`);
        throw error;
      }
    },
    async get(id) {
      return (await load(id))?.stage;
    },
    byKey(clientId, key) {
      return byKeyCache.get(`${clientId} ${key}`, async () => {
        const { rows } = await db.query<StageRow>(`SELECT ${COLUMNS} FROM stages WHERE client_id = $1 AND key = $2`, [clientId, key]);
        return rows[0] && toStage(rows[0]);
      });
    },
    async list(clientId) {
      const { rows } =
        clientId === undefined
          ? await db.query<StageRow>(`SELECT ${COLUMNS} FROM stages ORDER BY created_at, seq`)
          : await db.query<StageRow>(`SELECT ${COLUMNS} FROM stages WHERE client_id = $1 ORDER BY created_at, seq`, [clientId]);
      return rows.map(toStage);
    },
    async rotateToken(id) {
      const token = newWebhookToken();
      const { rowCount } = await db.query('UPDATE stages SET token_hash = $1 WHERE id = $2', [hashToken(token), id]);
      catalog.bump();
      return rowCount === 1 ? token : undefined;
    },
    async verifyToken(id, token) {
      const found = await load(id);
      // Unknown stage: still hash and compare once so the answer time does not tell which ids exist.
      const matches = tokenMatches(token, found?.tokenHash ?? UNKNOWN_TOKEN_HASH);
      return found !== undefined && matches;
    },
    async setEventNames(id, names) {
      await db.query('UPDATE stages SET event_names = $1 WHERE id = $2', [JSON.stringify(cleanEventNames(names)), id]);
      catalog.bump();
    },
  };
}
