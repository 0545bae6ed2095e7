/** SQLite storage of funnel stages and their webhook tokens (hashes only). */
import type { Db } from '../db.js';
import { createCatalogCache, type CatalogVersion } from './catalog-version.js';
import { InvalidInputError } from '../errors.js';
import { hashToken, newStageId, newWebhookToken, tokenMatches } from '../tokens.js';
import type { Stage, Store } from './types.js';

interface StageRow {
  id: string;
  client_id: string;
  key: string;
  name: string;
  token_hash: string;
  event_names: string;
  created_at: string;
}

/** Stage keys are what the pixel sends as `stage`: short, lower-case, URL- and log-safe. */
const STAGE_KEY = /^[a-z0-9][a-z0-9_-]{0,63}$/;

const EVENT_NAME_KEYS = ['meta', 'tiktok', 'google_conversion_action_id'] as const;

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
export function createStages(db: Db, now: () => Date, catalog: CatalogVersion): Store['stages'] {
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
    create(input) {
      const key = input.key.trim();
      const name = input.name.trim();
      if (!STAGE_KEY.test(key)) {
        throw new InvalidInputError(
          `Invalid stage key "${input.key}": use 1 to 64 lower-case letters, digits, "_" or "-", e.g. "lead" or "sale"`,
        );
      }
      if (name === '' || name.length > 200) {
        throw new InvalidInputError('Invalid stage name: give 1 to 200 characters, e.g. "Lead"');
      }
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
    get(id) {
      return load(id)?.stage;
    },
    byKey(clientId, key) {
      // Client ids and stage keys never hold a space (`cli_` + base62, STAGE_KEY).
      return cachedByKey.get(`${clientId} ${key}`, () => {
        const row = byKey.get(clientId, key);
        return row && toStage(row);
      });
    },
    list(clientId) {
      return (clientId === undefined ? all.all() : ofClient.all(clientId)).map(toStage);
    },
    rotateToken(id) {
      const token = newWebhookToken();
      const changed = setHash.run(hashToken(token), id).changes === 1;
      catalog.bump();
      return changed ? token : undefined;
    },
    verifyToken(id, token) {
      const found = load(id);
      // Unknown stage: still hash once so the answer time does not tell which ids exist.
      if (!found) {
        tokenMatches(token, '0'.repeat(64));
        return false;
      }
      return tokenMatches(token, found.tokenHash);
    },
    setEventNames(id, names) {
      const clean: Stage['event_names'] = {};
      for (const k of EVENT_NAME_KEYS) {
        const value = names[k]?.trim();
        if (value) clean[k] = value;
      }
      setNames.run(JSON.stringify(clean), id);
      catalog.bump();
    },
  };
}
