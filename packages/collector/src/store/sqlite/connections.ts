/**
 * SQLite storage of ad-account connections, one per (client, platform). The
 * secrets arrive and leave as one ciphertext (`domain/connections.ts` encrypts
 * and decrypts): nothing here ever holds a token in clear.
 */
import type { Platform } from '@pruuv/sender';
import type { ConnectionRecord, ConnectionStore } from '../types.js';
import type { Db } from './db.js';

interface Row {
  id: string;
  client_id: string;
  platform: Platform;
  settings: string;
  secrets: string | null;
  secret_names: string;
  status: string;
  status_reason: string | null;
  paused_at: string | null;
  last_used_at: string | null;
  created_at: string;
  updated_at: string;
}

function toRecord(row: Row): ConnectionRecord {
  const r: ConnectionRecord = {
    id: row.id,
    client_id: row.client_id,
    platform: row.platform,
    status: row.status === 'paused' ? 'paused' : 'active',
    settings: JSON.parse(row.settings) as Record<string, string | boolean>,
    secrets: row.secrets,
    secret_names: JSON.parse(row.secret_names) as string[],
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
  if (row.status_reason !== null) r.status_reason = row.status_reason;
  if (row.paused_at !== null) r.paused_at = row.paused_at;
  if (row.last_used_at !== null) r.last_used_at = row.last_used_at;
  return r;
}

/** Creates the connections part of the store. */
export function createConnections(db: Db): ConnectionStore {
  const byKey = db.prepare<[string, string], Row>('SELECT * FROM connections WHERE client_id = ? AND platform = ?');
  const all = db.prepare<[], Row>('SELECT * FROM connections ORDER BY client_id, platform');
  const ofClient = db.prepare<[string], Row>('SELECT * FROM connections WHERE client_id = ? ORDER BY platform');
  const upsert = db.prepare(
    `INSERT INTO connections (id, client_id, platform, settings, secrets, secret_names, status, status_reason, paused_at, created_at, updated_at)
     VALUES (@id, @client_id, @platform, @settings, @secrets, @secret_names, 'active', NULL, NULL, @now, @now)
     ON CONFLICT (client_id, platform) DO UPDATE SET settings = excluded.settings, secrets = excluded.secrets,
       secret_names = excluded.secret_names,
       status = 'active', status_reason = NULL, paused_at = NULL, updated_at = excluded.updated_at`,
  );
  const pauseStmt = db.prepare(
    `UPDATE connections SET status = 'paused', status_reason = ?, paused_at = ?, updated_at = ? WHERE id = ?`,
  );
  const removeStmt = db.prepare('DELETE FROM connections WHERE client_id = ? AND platform = ?');
  const withSecrets = db.prepare<[], { id: string; secrets: string }>('SELECT id, secrets FROM connections WHERE secrets IS NOT NULL');
  const setSecrets = db.prepare('UPDATE connections SET secrets = ?, updated_at = ? WHERE id = ?');

  return {
    async get(clientId, platform) {
      const row = byKey.get(clientId, platform);
      return row && toRecord(row);
    },
    async list(filter = {}) {
      return (filter.client_id !== undefined ? ofClient.all(filter.client_id) : all.all()).map(toRecord);
    },
    async save(input, at) {
      upsert.run({
        id: input.id,
        client_id: input.client_id,
        platform: input.platform,
        settings: JSON.stringify(input.settings),
        secrets: input.secrets,
        secret_names: JSON.stringify(input.secret_names),
        now: at.toISOString(),
      });
      return toRecord(byKey.get(input.client_id, input.platform)!);
    },
    async pause(id, reason, at) {
      const when = at.toISOString();
      pauseStmt.run(reason, when, when, id);
    },
    async remove(clientId, platform) {
      return removeStmt.run(clientId, platform).changes === 1;
    },
    async ciphertexts() {
      return withSecrets.all();
    },
    async reencryptAll(reencrypt, at) {
      return db
        .transaction(() => {
          const rows = withSecrets.all();
          let changed = 0;
          for (const row of rows) {
            const next = reencrypt(row.secrets);
            if (next !== row.secrets) {
              setSecrets.run(next, at.toISOString(), row.id);
              changed += 1;
            }
          }
          return { connections: rows.length, reencrypted: changed };
        })
        .immediate();
    },
  };
}
