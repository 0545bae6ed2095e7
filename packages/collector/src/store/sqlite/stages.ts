/** SQLite storage of funnel stages and their webhook tokens (hashes only). */
import { InvalidInputError } from '../../errors.js';
import { checkStageInput, cleanEventNames } from '../../domain/origins.js';
import { hashToken, newStageId, newWebhookToken, tokenMatches, UNKNOWN_TOKEN_HASH } from '../../domain/tokens.js';
import type { Stage, StageStore } from '../types.js';
import { createCatalogCache, type CatalogVersion } from '../catalog-cache.js';
import type { Db } from './db.js';

interface StageRow {
  id: string;
  client_id: string;
  key: string;
  name: string;
  token_hash: string;
  event_names: string;
  created_at: string;
}

function toStage(row: StageRow): Stage {
  const { token_hash: _hash, event_names, ...rest } = row;
  return { ...rest, event_names: JSON.parse(event_names) as Stage['event_names'] };
}

/** A stage as cached: the stage and the hash its webhook token is checked against. */
interface CachedStage {
  stage: Stage;
  tokenHash: string;
}

/**
 * Creates the stages part of the store. Stages read by id or key are cached until
 * `catalog` changes (see catalog-version.ts): a rotated token fails at the next request.
 */
export function createStages(db: Db, now: () => Date, catalog: CatalogVersion): StageStore {
  const insert = db.prepare(
    'INSERT INTO stages (id, client_id, key, name, token_hash, event_names, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const byId = db.prepare<[string], StageRow>('SELECT * FROM stages WHERE id = ?');
  const byKey = db.prepare<[string, string], StageRow>('SELECT * FROM stages WHERE client_id = ? AND key = ?');
  const all = db.prepare<[], StageRow>('SELECT * FROM stages ORDER BY created_at, rowid');
  const ofClient = db.prepare<[string], StageRow>('SELECT * FROM stages WHERE client_id = ? ORDER BY created_at, rowid');
  const clientExists = db.prepare<[string], { one: number }>('SELECT 1 AS one FROM clients WHERE id = ?');
  const setHash = db.prepare('UPDATE stages SET token_hash = ? WHERE id = ?');
  const setNames = db.prepare('UPDATE stages SET event_names = ? WHERE id = ?');
  const cachedById = createCatalogCache<CachedStage>(catalog);
  const cachedByKey = createCatalogCache<Stage>(catalog);
  const load = (id: string): CachedStage | undefined =>
    cachedById.get(id, () => {
      const row = byId.get(id);
      return row && { stage: toStage(row), tokenHash: row.token_hash };
    });

  return {
    async create(input) {
      const { key, name } = checkStageInput(input);
      if (!clientExists.get(input.client_id)) {
        throw new InvalidInputError(`Unknown client "${input.client_id}": create it first (pruuv clients add)`);
      }
      if (byKey.get(input.client_id, key)) {
        throw new InvalidInputError(`Stage "${key}" already exists for client ${input.client_id}: pick another key`);
      }
      const id = newStageId();
      const token = newWebhookToken();
      insert.run(id, input.client_id, key, name, hashToken(token), '{}', now().toISOString());
      catalog.bump();
      return { stage: toStage(byId.get(id)!), token };
    },
    async get(id) {
      return load(id)?.stage;
    },
    async byKey(clientId, key) {
      // Client ids and stage keys never hold a space (`cli_` + base62, STAGE_KEY).
      return cachedByKey.get(`${clientId} ${key}`, () => {
        const row = byKey.get(clientId, key);
        return row && toStage(row);
      });
    },
    async list(clientId) {
      return (clientId === undefined ? all.all() : ofClient.all(clientId)).map(toStage);
    },
    async rotateToken(id) {
      const token = newWebhookToken();
      const changed = setHash.run(hashToken(token), id).changes === 1;
      catalog.bump();
      return changed ? token : undefined;
    },
    async verifyToken(id, token) {
      const found = load(id);
      // Unknown stage: still hash and compare once so the answer time does not tell which ids exist.
      const matches = tokenMatches(token, found?.tokenHash ?? UNKNOWN_TOKEN_HASH);
      return found !== undefined && matches;
    },
    async setEventNames(id, names) {
      setNames.run(JSON.stringify(cleanEventNames(names)), id);
      catalog.bump();
    },
  };
}
