/**
 * PostgreSQL storage of "Connect with OAuth": pending authorizations and grants
 * (by the hash of their key, payload encrypted by `domain/oauth.ts`), what a
 * connection knows of its grant, and the refresh leases. No token in clear.
 */
import type { Platform } from '@pruuv/sender';
import type { OAuthGrantFacts, OAuthGrantListing, OAuthPending, OAuthStore } from '../types.js';
import type { StorePool } from './pool.js';

interface PendingRow extends Omit<OAuthPending, 'created_at' | 'expires_at'> {
  created_at: Date;
  expires_at: Date;
}

interface GrantRow {
  connection_id: string;
  granted_at: Date;
  access_expires_at: Date | null;
  refresh_expires_at: Date | null;
  user_action_by: Date | null;
  refreshed_at: Date | null;
  scopes: string[];
}

const pendingOf = (r: PendingRow): OAuthPending => ({ ...r, platform: r.platform as Platform, created_at: r.created_at.toISOString(), expires_at: r.expires_at.toISOString() });

function factsOf(row: GrantRow): OAuthGrantFacts {
  const f: OAuthGrantFacts = { connection_id: row.connection_id, granted_at: row.granted_at.toISOString(), scopes: row.scopes };
  if (row.access_expires_at !== null) f.access_expires_at = row.access_expires_at.toISOString();
  if (row.refresh_expires_at !== null) f.refresh_expires_at = row.refresh_expires_at.toISOString();
  if (row.user_action_by !== null) f.user_action_by = row.user_action_by.toISOString();
  if (row.refreshed_at !== null) f.refreshed_at = row.refreshed_at.toISOString();
  return f;
}

/** Creates the OAuth part of the store. */
export function createOAuth(db: StorePool): OAuthStore {
  return {
    async putPending(p) {
      await db.query(
        `INSERT INTO oauth_pending (key_hash, kind, user_id, session_hash, client_id, platform, payload, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [p.key_hash, p.kind, p.user_id, p.session_hash, p.client_id, p.platform, p.payload, p.created_at, p.expires_at],
      );
    },
    async takePending(keyHash, kind) {
      const { rows } = await db.query<PendingRow>('DELETE FROM oauth_pending WHERE key_hash = $1 AND kind = $2 RETURNING *', [keyHash, kind]);
      return rows[0] && pendingOf(rows[0]);
    },
    async getPending(keyHash, kind) {
      const { rows } = await db.query<PendingRow>('SELECT * FROM oauth_pending WHERE key_hash = $1 AND kind = $2', [keyHash, kind]);
      return rows[0] && pendingOf(rows[0]);
    },
    async sweepPending(now) {
      const res = await db.query('DELETE FROM oauth_pending WHERE expires_at <= $1', [now]);
      return res.rowCount ?? 0;
    },
    async saveGrant(f) {
      await db.query(
        `INSERT INTO oauth_grants (connection_id, granted_at, access_expires_at, refresh_expires_at, user_action_by, refreshed_at, scopes)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (connection_id) DO UPDATE SET granted_at = excluded.granted_at, access_expires_at = excluded.access_expires_at,
           refresh_expires_at = excluded.refresh_expires_at, user_action_by = excluded.user_action_by,
           refreshed_at = excluded.refreshed_at, scopes = excluded.scopes`,
        [f.connection_id, f.granted_at, f.access_expires_at ?? null, f.refresh_expires_at ?? null, f.user_action_by ?? null, f.refreshed_at ?? null, JSON.stringify(f.scopes)],
      );
    },
    async grant(connectionId) {
      const { rows } = await db.query<GrantRow>('SELECT * FROM oauth_grants WHERE connection_id = $1', [connectionId]);
      return rows[0] && factsOf(rows[0]);
    },
    async grants(filter = {}) {
      const { rows } = await db.query<GrantRow & { client_id: string; platform: Platform }>(
        `SELECT g.*, c.client_id, c.platform FROM oauth_grants g JOIN connections c ON c.id = g.connection_id
         WHERE $1::text IS NULL OR c.client_id = $1 ORDER BY c.client_id, c.platform`,
        [filter.client_id ?? null],
      );
      return rows.map((r): OAuthGrantListing => ({ ...factsOf(r), client_id: r.client_id, platform: r.platform }));
    },
    async refreshed(connectionId, at, accessExpiresAt, refreshExpiresAt) {
      await db.query(
        'UPDATE oauth_grants SET refreshed_at = $1, access_expires_at = $2, refresh_expires_at = COALESCE($3, refresh_expires_at) WHERE connection_id = $4',
        [at, accessExpiresAt ?? null, refreshExpiresAt ?? null, connectionId],
      );
    },
    async removeGrant(connectionId) {
      await db.query('DELETE FROM oauth_grants WHERE connection_id = $1', [connectionId]);
    },
    async replaceSecrets(connectionId, secrets, at) {
      await db.query('UPDATE connections SET secrets = $1, updated_at = $2 WHERE id = $3', [secrets, at, connectionId]);
    },
    async acquireRefresh(key, holder, nowMs, untilMs) {
      // Taken when absent, when run out, or already ours; never from a holder whose lease runs.
      const res = await db.query(
        `INSERT INTO oauth_refresh_leases (lease_key, holder, until_ms) VALUES ($1, $2, $3)
         ON CONFLICT (lease_key) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms
         WHERE oauth_refresh_leases.until_ms <= $4 OR oauth_refresh_leases.holder = excluded.holder`,
        [key, holder, untilMs, nowMs],
      );
      return res.rowCount === 1;
    },
    async releaseRefresh(key, holder) {
      await db.query('DELETE FROM oauth_refresh_leases WHERE lease_key = $1 AND holder = $2', [key, holder]);
    },
  };
}
