/**
 * Ad-account connections, one per (client, platform), in the `connections`
 * table. Non-secret settings are stored as JSON; access tokens, refresh tokens,
 * client secrets and developer tokens are stored as ONE AES-256-GCM ciphertext
 * (the sender's `crypto.ts`) and never leave this module except decrypted for
 * a send: views list only the NAMES of the secrets that are set.
 */
import { randomBytes } from 'node:crypto';
import {
  connectionSchema,
  decryptSecret,
  encryptSecret,
  reencrypt,
  type Connection,
  type KeyRing,
  type Platform,
  type StoredConnection,
} from '@pruuv/sender';
import type { Db } from '../db.js';
import { OperationError } from '../operations.js';
import { requireKeyRing } from './secrets.js';

/** The platforms a connection can be for. */
export const CONNECTION_PLATFORMS: readonly Platform[] = ['meta', 'google', 'tiktok'];

/** Fields stored encrypted. */
export const SECRET_FIELDS = ['access_token', 'client_secret', 'refresh_token', 'developer_token'] as const;

/** Fields each platform takes, in the order `connections list` prints them. */
export const CONNECTION_FIELDS: Readonly<Record<Platform, readonly string[]>> = {
  meta: ['pixel_id', 'access_token', 'test_event_code', 'dry_run'],
  google: [
    'api',
    'customer_id',
    'conversion_action_id',
    'login_customer_id',
    'client_id',
    'client_secret',
    'refresh_token',
    'developer_token',
    'dry_run',
  ],
  tiktok: ['pixel_code', 'access_token', 'test_event_code', 'dry_run'],
};

/** Fields without which a platform cannot send. */
const REQUIRED: Readonly<Record<Platform, readonly string[]>> = {
  meta: ['pixel_id', 'access_token'],
  google: ['customer_id', 'conversion_action_id', 'client_id', 'client_secret', 'refresh_token'],
  tiktok: ['pixel_code', 'access_token'],
};

const SECRETS: ReadonlySet<string> = new Set(SECRET_FIELDS);

/** The CLI flag of a field: `pixel_id` → `--pixel-id`. */
export function flagOf(field: string): string {
  return `--${field.replace(/_/g, '-')}`;
}

/** A field value to set; `null` removes an optional field. */
export type FieldValue = string | boolean | null;

/** Input of {@link Connections.set}. */
export interface ConnectionInput {
  client_id: string;
  platform: Platform;
  /** Fields to set, merged over the stored ones (so a token can be replaced alone). */
  fields: Readonly<Record<string, FieldValue | undefined>>;
}

/** A connection as shown to people: settings, and the names (never the values) of the stored secrets. */
export interface ConnectionView {
  id: string;
  client_id: string;
  platform: Platform;
  status: 'active' | 'paused';
  /** Why it is paused: what the platform said. */
  status_reason?: string;
  paused_at?: string;
  settings: Record<string, string | boolean>;
  /** Names of the secrets stored, e.g. `['access_token']`. */
  secrets: string[];
  created_at: string;
  updated_at: string;
}

/** What `pruuv keys rotate` did. */
export interface RotateResult {
  /** Connections with stored secrets. */
  connections: number;
  /** Of those, re-encrypted under the current key (the others already were). */
  reencrypted: number;
  current_key_id: string;
}

/** The connections store. */
export interface Connections {
  /** Validates and stores (creates or updates) a connection; an update also un-pauses it. Needs the key ring for secrets. */
  set(input: ConnectionInput, ring: KeyRing | undefined): ConnectionView;
  list(filter?: { client_id?: string }): ConnectionView[];
  get(clientId: string, platform: Platform): ConnectionView | undefined;
  /** The connection with its secrets decrypted, for a send. Throws when the secrets cannot be opened. */
  load(clientId: string, platform: Platform, ring: KeyRing | undefined): StoredConnection | undefined;
  /** Pauses a connection with the platform's reason. `at` defaults to the store's clock. */
  pause(id: string, reason: string, at?: Date): void;
  /** Re-encrypts every stored secret with the ring's current key, in one transaction. */
  rotate(ring: KeyRing): RotateResult;
}

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
  created_at: string;
  updated_at: string;
}

function invalid(message: string): OperationError {
  return new OperationError('invalid', message);
}

/** Creates the connections store over `db`. */
export function createConnections(db: Db, options: { now?: () => Date } = {}): Connections {
  const now = options.now ?? (() => new Date());
  const byKey = db.prepare<[string, string], Row>('SELECT * FROM connections WHERE client_id = ? AND platform = ?');
  const all = db.prepare<[], Row>('SELECT * FROM connections ORDER BY client_id, platform');
  const ofClient = db.prepare<[string], Row>('SELECT * FROM connections WHERE client_id = ? ORDER BY platform');
  const clientExists = db.prepare<[string], { one: number }>('SELECT 1 AS one FROM clients WHERE id = ?');
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
  const withSecrets = db.prepare<[], { id: string; secrets: string }>('SELECT id, secrets FROM connections WHERE secrets IS NOT NULL');
  const setSecrets = db.prepare('UPDATE connections SET secrets = ?, updated_at = ? WHERE id = ?');

  const view = (row: Row): ConnectionView => {
    const v: ConnectionView = {
      id: row.id,
      client_id: row.client_id,
      platform: row.platform,
      status: row.status === 'paused' ? 'paused' : 'active',
      settings: JSON.parse(row.settings) as Record<string, string | boolean>,
      secrets: JSON.parse(row.secret_names) as string[],
      created_at: row.created_at,
      updated_at: row.updated_at,
    };
    if (row.status_reason !== null) v.status_reason = row.status_reason;
    if (row.paused_at !== null) v.paused_at = row.paused_at;
    return v;
  };

  const decrypt = (row: Row, ring: KeyRing | undefined): Record<string, string> => {
    if (row.secrets === null) return {};
    const key = requireKeyRing(ring, `read the credentials of the ${row.platform} connection of client ${row.client_id}`);
    return JSON.parse(decryptSecret(row.secrets, key)) as Record<string, string>;
  };

  return {
    set(input, ring) {
      const platform = input.platform;
      if (!CONNECTION_PLATFORMS.includes(platform)) {
        throw invalid(`Unknown platform '${String(platform)}': use meta, google or tiktok.`);
      }
      if (clientExists.get(input.client_id) === undefined) {
        throw new OperationError('not_found', `Unknown client '${input.client_id}'`, { entity: 'client' });
      }
      const allowed = CONNECTION_FIELDS[platform];
      const given = Object.entries(input.fields).filter((entry): entry is [string, FieldValue] => entry[1] !== undefined);
      const foreign = given.filter(([field]) => !allowed.includes(field)).map(([field]) => flagOf(field));
      if (foreign.length > 0) {
        throw invalid(`${foreign.join(', ')} ${foreign.length > 1 ? 'do' : 'does'} not apply to ${platform}; it takes ${allowed.map(flagOf).join(', ')}.`);
      }
      const existing = byKey.get(input.client_id, platform);
      const merged: Record<string, string | boolean> = {};
      if (existing !== undefined) {
        Object.assign(merged, view(existing).settings);
        // Secrets are stored as one ciphertext: re-encrypting it needs the current ones.
        Object.assign(merged, decrypt(existing, ring));
      }
      for (const [field, value] of given) {
        if (value === null || value === '') delete merged[field];
        else merged[field] = typeof value === 'string' ? value.trim() : value;
      }
      if (platform === 'google' && merged['api'] === undefined) merged['api'] = 'data-manager';
      const missing = REQUIRED[platform].filter((field) => merged[field] === undefined);
      if (missing.length > 0) {
        throw invalid(`A ${platform} connection needs ${missing.map(flagOf).join(', ')}.`);
      }
      const parsed = connectionSchema.safeParse({ platform, ...merged });
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const field = String(issue?.path[0] ?? '');
        throw invalid(`${field !== '' ? `${flagOf(field)}: ` : ''}${issue?.message ?? 'invalid connection'}.`);
      }
      const clean = parsed.data as unknown as Record<string, string | boolean | undefined>;
      const settings: Record<string, string | boolean> = {};
      const secrets: Record<string, string> = {};
      for (const field of allowed) {
        const value = clean[field];
        if (value === undefined) continue;
        if (SECRETS.has(field)) secrets[field] = String(value);
        else settings[field] = value;
      }
      const secretNames = Object.keys(secrets);
      const ciphertext =
        secretNames.length > 0 ? encryptSecret(JSON.stringify(secrets), requireKeyRing(ring, 'store access tokens and client secrets')) : null;
      const at = now().toISOString();
      upsert.run({
        id: existing?.id ?? `con_${randomBytes(12).toString('base64url')}`,
        client_id: input.client_id,
        platform,
        settings: JSON.stringify(settings),
        secrets: ciphertext,
        secret_names: JSON.stringify(secretNames),
        now: at,
      });
      return view(byKey.get(input.client_id, platform) as Row);
    },
    list(filter = {}) {
      const rows = filter.client_id !== undefined ? ofClient.all(filter.client_id) : all.all();
      return rows.map((row) => view(row));
    },
    get(clientId, platform) {
      const row = byKey.get(clientId, platform);
      return row && view(row);
    },
    load(clientId, platform, ring) {
      const row = byKey.get(clientId, platform);
      if (row === undefined) return undefined;
      const settings = view(row).settings;
      const connection = { platform, ...settings, ...decrypt(row, ring) } as unknown as Connection;
      return { id: row.id, client_id: row.client_id, platform, status: row.status === 'paused' ? 'paused' : 'active', connection };
    },
    pause(id, reason, at) {
      const when = (at ?? now()).toISOString();
      pauseStmt.run(reason, when, when, id);
    },
    rotate(ring) {
      const rotateAll = db.transaction((): RotateResult => {
        const rows = withSecrets.all();
        let changed = 0;
        const at = now().toISOString();
        for (const row of rows) {
          const next = reencrypt(row.secrets, ring);
          if (next !== row.secrets) {
            setSecrets.run(next, at, row.id);
            changed += 1;
          }
        }
        return { connections: rows.length, reencrypted: changed, current_key_id: ring.currentId };
      });
      return rotateAll.immediate();
    },
  };
}
