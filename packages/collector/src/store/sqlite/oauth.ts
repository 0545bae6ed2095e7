/**
 * SQLite storage of "Connect with OAuth": pending authorizations and grants
 * (by the hash of their key, payload encrypted by `domain/oauth.ts`), what a
 * connection knows of its grant, and the refresh leases. No token in clear.
 */
import type { Platform } from '@pruuv/sender';
import type { OAuthGrantFacts, OAuthGrantListing, OAuthPending, OAuthStore } from '../types.js';
import type { Db } from './db.js';

interface GrantRow {
  connection_id: string;
  granted_at: string;
  access_expires_at: string | null;
  refresh_expires_at: string | null;
  user_action_by: string | null;
  refreshed_at: string | null;
  scopes: string;
}

function factsOf(row: GrantRow): OAuthGrantFacts {
  const f: OAuthGrantFacts = { connection_id: row.connection_id, granted_at: row.granted_at, scopes: JSON.parse(row.scopes) as string[] };
  if (row.access_expires_at !== null) f.access_expires_at = row.access_expires_at;
  if (row.refresh_expires_at !== null) f.refresh_expires_at = row.refresh_expires_at;
  if (row.user_action_by !== null) f.user_action_by = row.user_action_by;
  if (row.refreshed_at !== null) f.refreshed_at = row.refreshed_at;
  return f;
}

/** Creates the OAuth part of the store. */
export function createOAuth(db: Db): OAuthStore {
  const insert = db.prepare(
    `INSERT INTO oauth_pending (key_hash, kind, user_id, session_hash, client_id, platform, payload, created_at, expires_at)
     VALUES (@key_hash, @kind, @user_id, @session_hash, @client_id, @platform, @payload, @created_at, @expires_at)`,
  );
  const take = db.prepare<[string, string], OAuthPending>('DELETE FROM oauth_pending WHERE key_hash = ? AND kind = ? RETURNING *');
  const get = db.prepare<[string, string], OAuthPending>('SELECT * FROM oauth_pending WHERE key_hash = ? AND kind = ?');
  const sweep = db.prepare('DELETE FROM oauth_pending WHERE expires_at <= ?');
  const saveGrant = db.prepare(
    `INSERT INTO oauth_grants (connection_id, granted_at, access_expires_at, refresh_expires_at, user_action_by, refreshed_at, scopes)
     VALUES (@connection_id, @granted_at, @access_expires_at, @refresh_expires_at, @user_action_by, @refreshed_at, @scopes)
     ON CONFLICT (connection_id) DO UPDATE SET granted_at = excluded.granted_at, access_expires_at = excluded.access_expires_at,
       refresh_expires_at = excluded.refresh_expires_at, user_action_by = excluded.user_action_by,
       refreshed_at = excluded.refreshed_at, scopes = excluded.scopes`,
  );
  const grant = db.prepare<[string], GrantRow>('SELECT * FROM oauth_grants WHERE connection_id = ?');
  const grants = db.prepare<[], GrantRow & { client_id: string; platform: Platform }>(
    'SELECT g.*, c.client_id, c.platform FROM oauth_grants g JOIN connections c ON c.id = g.connection_id ORDER BY c.client_id, c.platform',
  );
  const grantsOf = db.prepare<[string], GrantRow & { client_id: string; platform: Platform }>(
    'SELECT g.*, c.client_id, c.platform FROM oauth_grants g JOIN connections c ON c.id = g.connection_id WHERE c.client_id = ? ORDER BY c.platform',
  );
  const refreshed = db.prepare(
    'UPDATE oauth_grants SET refreshed_at = ?, access_expires_at = ?, refresh_expires_at = COALESCE(?, refresh_expires_at) WHERE connection_id = ?',
  );
  const removeGrant = db.prepare('DELETE FROM oauth_grants WHERE connection_id = ?');
  const replaceSecrets = db.prepare('UPDATE connections SET secrets = ?, updated_at = ? WHERE id = ?');
  // Taken when absent, when run out, or already ours; never from a holder whose lease runs.
  const acquire = db.prepare(
    `INSERT INTO oauth_refresh_leases (lease_key, holder, until_ms) VALUES (@id, @holder, @until)
     ON CONFLICT (lease_key) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms
     WHERE oauth_refresh_leases.until_ms <= @now OR oauth_refresh_leases.holder = excluded.holder`,
  );
  const release = db.prepare('DELETE FROM oauth_refresh_leases WHERE lease_key = ? AND holder = ?');

  return {
    async putPending(input) {
      insert.run(input);
    },
    async takePending(keyHash, kind) {
      return take.get(keyHash, kind);
    },
    async getPending(keyHash, kind) {
      return get.get(keyHash, kind);
    },
    async sweepPending(now) {
      return sweep.run(now.toISOString()).changes;
    },
    async saveGrant(f) {
      saveGrant.run({
        connection_id: f.connection_id,
        granted_at: f.granted_at,
        access_expires_at: f.access_expires_at ?? null,
        refresh_expires_at: f.refresh_expires_at ?? null,
        user_action_by: f.user_action_by ?? null,
        refreshed_at: f.refreshed_at ?? null,
        scopes: JSON.stringify(f.scopes),
      });
    },
    async grant(connectionId) {
      const row = grant.get(connectionId);
      return row && factsOf(row);
    },
    async grants(filter = {}) {
      const rows = filter.client_id !== undefined ? grantsOf.all(filter.client_id) : grants.all();
      return rows.map((r): OAuthGrantListing => ({ ...factsOf(r), client_id: r.client_id, platform: r.platform }));
    },
    async refreshed(connectionId, at, accessExpiresAt, refreshExpiresAt) {
      refreshed.run(at.toISOString(), accessExpiresAt?.toISOString() ?? null, refreshExpiresAt?.toISOString() ?? null, connectionId);
    },
    async removeGrant(connectionId) {
      removeGrant.run(connectionId);
    },
    async replaceSecrets(connectionId, secrets, at) {
      replaceSecrets.run(secrets, at.toISOString(), connectionId);
    },
    async acquireRefresh(key, holder, nowMs, untilMs) {
      return acquire.run({ id: key, holder, until: untilMs, now: nowMs }).changes === 1;
    },
    async releaseRefresh(key, holder) {
      release.run(key, holder);
    },
  };
}
