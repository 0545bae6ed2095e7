/**
 * PostgreSQL storage of ad-account connections, one per (client, platform). The
 * secrets arrive and leave as one ciphertext (`domain/connections.ts` encrypts
 * and decrypts): nothing here ever holds a token in clear.
 */
import type { Platform } from '@pruuv/sender';
import type { ConnectionRecord, ConnectionStore } from '../types.js';
import type { StorePool } from './pool.js';

interface Row {
  id: string;
  client_id: string;
  platform: Platform;
  settings: Record<string, string | boolean>;
  secrets: string | null;
  secret_names: string[];
  status: string;
  status_reason: string | null;
  paused_at: Date | null;
  last_used_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

function toRecord(row: Row): ConnectionRecord {
  const r: ConnectionRecord = {
    id: row.id,
    client_id: row.client_id,
    platform: row.platform,
    status: row.status === 'paused' ? 'paused' : 'active',
    settings: row.settings,
    secrets: row.secrets,
    secret_names: row.secret_names,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
  if (row.status_reason !== null) r.status_reason = row.status_reason;
  if (row.paused_at !== null) r.paused_at = row.paused_at.toISOString();
  if (row.last_used_at !== null) r.last_used_at = row.last_used_at.toISOString();
  return r;
}

/** Creates the connections part of the store. */
export function createConnections(db: StorePool): ConnectionStore {
  return {
    async get(clientId, platform) {
      const { rows } = await db.query<Row>('SELECT * FROM connections WHERE client_id = $1 AND platform = $2', [clientId, platform]);
      return rows[0] && toRecord(rows[0]);
    },
    async list(filter = {}) {
      const { rows } =
        filter.client_id !== undefined
          ? await db.query<Row>('SELECT * FROM connections WHERE client_id = $1 ORDER BY platform', [filter.client_id])
          : await db.query<Row>('SELECT * FROM connections ORDER BY client_id, platform');
      return rows.map(toRecord);
    },
    async save(input, at) {
      const { rows } = await db.query<Row>(
        `INSERT INTO connections (id, client_id, platform, settings, secrets, secret_names, status, status_reason, paused_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'active', NULL, NULL, $7, $7)
         ON CONFLICT (client_id, platform) DO UPDATE SET settings = excluded.settings, secrets = excluded.secrets,
           secret_names = excluded.secret_names, status = 'active', status_reason = NULL, paused_at = NULL,
           updated_at = excluded.updated_at
         RETURNING *`,
        [input.id, input.client_id, input.platform, JSON.stringify(input.settings), input.secrets, JSON.stringify(input.secret_names), at],
      );
      return toRecord(rows[0]!);
    },
    async pause(id, reason, at) {
      await db.query(`UPDATE connections SET status = 'paused', status_reason = $1, paused_at = $2, updated_at = $2 WHERE id = $3`, [reason, at, id]);
    },
    async remove(clientId, platform) {
      const { rowCount } = await db.query('DELETE FROM connections WHERE client_id = $1 AND platform = $2', [clientId, platform]);
      return rowCount === 1;
    },
    async ciphertexts() {
      const { rows } = await db.query<{ id: string; secrets: string }>('SELECT id, secrets FROM connections WHERE secrets IS NOT NULL ORDER BY id');
      return rows;
    },
    reencryptAll(reencrypt, at) {
      return db.transaction(async (q) => {
        const { rows } = await q.query<{ id: string; secrets: string }>(
          'SELECT id, secrets FROM connections WHERE secrets IS NOT NULL ORDER BY id FOR UPDATE',
        );
        let changed = 0;
        for (const row of rows) {
          const next = reencrypt(row.secrets);
          if (next === row.secrets) continue;
          await q.query('UPDATE connections SET secrets = $1, updated_at = $2 WHERE id = $3', [next, at, row.id]);
          changed += 1;
        }
        return { connections: rows.length, reencrypted: changed };
      });
    },
  };
}
