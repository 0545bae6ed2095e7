/**
 * Ad-account connections, one per (client, platform): validation, encryption
 * and the views people see. Non-secret settings are stored as they are; access
 * tokens, refresh tokens, client secrets and developer tokens are stored as ONE
 * AES-256-GCM ciphertext (the sender's `crypto.ts`), made and opened only here:
 * the store never holds them in clear, and views list only the NAMES of the
 * secrets that are set.
 */
import { randomBytes } from 'node:crypto';
import {
  connectionSchema,
  decryptSecret,
  encryptSecret,
  openConnection,
  platformAdapter,
  PLATFORM_IDS,
  reencrypt,
  type ConnectionField,
  type KeyRing,
  type Platform,
  type StoredConnection,
} from '@pruuv/sender';
import { requireKeyRing } from '../send/secrets.js';
import type { ConnectionRecord, Store } from '../store/types.js';
import { OperationError } from './operations.js';

/** The platforms a connection can be for: the sender's registry. */
export const CONNECTION_PLATFORMS: readonly Platform[] = PLATFORM_IDS;

/** The fields of a platform's connection, in the order `connections list` prints them (the adapter's). */
export function connectionFields(platform: Platform): readonly ConnectionField[] {
  return platformAdapter(platform).connection.fields;
}

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
  /** When a send pass last used the credentials; absent: never. */
  last_used_at?: string;
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

/** The connection operations of the CLI, the admin API and the send runtime. */
export interface Connections {
  /**
   * Validates and stores (creates or updates) a connection; an update also un-pauses it. Needs the key ring for secrets.
   * `describe` names a field in error messages. Defaults to its CLI flag (`--pixel-id`).
   */
  set(input: ConnectionInput, ring: KeyRing | undefined, options?: { describe?: (field: string) => string }): Promise<ConnectionView>;
  list(filter?: { client_id?: string }): Promise<ConnectionView[]>;
  get(clientId: string, platform: Platform): Promise<ConnectionView | undefined>;
  /** The connection with its secrets decrypted, for a send. Throws when the secrets cannot be opened. */
  load(clientId: string, platform: Platform, ring: KeyRing | undefined): Promise<StoredConnection | undefined>;
  /** Re-encrypts every stored secret with the ring's current key, in one transaction. */
  rotate(ring: KeyRing): Promise<RotateResult>;
}

function invalid(message: string): OperationError {
  return new OperationError('invalid', message);
}

/** A connection as shown to people. */
export function viewOf(record: ConnectionRecord): ConnectionView {
  const v: ConnectionView = {
    id: record.id,
    client_id: record.client_id,
    platform: record.platform,
    status: record.status,
    settings: record.settings,
    secrets: record.secret_names,
    created_at: record.created_at,
    updated_at: record.updated_at,
  };
  if (record.status_reason !== undefined) v.status_reason = record.status_reason;
  if (record.paused_at !== undefined) v.paused_at = record.paused_at;
  if (record.last_used_at !== undefined) v.last_used_at = record.last_used_at;
  return v;
}

/** The key ring, or an error saying that reading this connection's credentials needs it. */
function keyFor(record: ConnectionRecord, ring: KeyRing | undefined): KeyRing {
  return requireKeyRing(ring, `read the credentials of the ${record.platform} connection of client ${record.client_id}`);
}

/** The secret fields of a stored connection, decrypted. */
function decrypt(record: ConnectionRecord, ring: KeyRing | undefined): Record<string, string> {
  if (record.secrets === null) return {};
  return JSON.parse(decryptSecret(record.secrets, keyFor(record, ring))) as Record<string, string>;
}

/** The fields of `input` merged over `existing` (decrypted), validated: settings and secrets apart. */
function merge(
  input: ConnectionInput,
  existing: ConnectionRecord | undefined,
  ring: KeyRing | undefined,
  describe: (field: string) => string,
): { settings: Record<string, string | boolean>; secrets: Record<string, string> } {
  const platform = input.platform;
  const fields = connectionFields(platform);
  const allowed = fields.map((f) => f.name);
  const given = Object.entries(input.fields).filter((entry): entry is [string, FieldValue] => entry[1] !== undefined);
  const foreign = given.filter(([field]) => !allowed.includes(field)).map(([field]) => describe(field));
  if (foreign.length > 0) {
    throw invalid(`${foreign.join(', ')} ${foreign.length > 1 ? 'do' : 'does'} not apply to ${platform}; it takes ${allowed.map(describe).join(', ')}.`);
  }
  const merged: Record<string, string | boolean> = {};
  if (existing !== undefined) {
    Object.assign(merged, existing.settings);
    // Secrets are stored as one ciphertext: re-encrypting it needs the current ones.
    Object.assign(merged, decrypt(existing, ring));
  }
  for (const [field, value] of given) {
    if (value === null || value === '') delete merged[field];
    else merged[field] = typeof value === 'string' ? value.trim() : value;
  }
  for (const f of fields) if (f.default !== undefined && merged[f.name] === undefined) merged[f.name] = f.default;
  const missing = fields.filter((f) => f.required && merged[f.name] === undefined).map((f) => f.name);
  if (missing.length > 0) {
    throw invalid(`A ${platform} connection needs ${missing.map(describe).join(', ')}.`);
  }
  const parsed = connectionSchema.safeParse({ platform, ...merged });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = String(issue?.path[0] ?? '');
    throw invalid(`${field !== '' ? `${describe(field)}: ` : ''}${issue?.message ?? 'invalid connection'}.`);
  }
  const clean = parsed.data as unknown as Record<string, string | boolean | undefined>;
  const settings: Record<string, string | boolean> = {};
  const secrets: Record<string, string> = {};
  for (const f of fields) {
    const value = clean[f.name];
    if (value === undefined) continue;
    if (f.kind === 'secret') secrets[f.name] = String(value);
    else settings[f.name] = value;
  }
  return { settings, secrets };
}

/** Creates the connection operations over `store`. */
export function createConnections(store: Store, options: { now?: () => Date } = {}): Connections {
  const now = options.now ?? (() => new Date());
  return {
    async set(input, ring, options = {}) {
      if (!CONNECTION_PLATFORMS.includes(input.platform)) {
        throw invalid(`Unknown platform '${String(input.platform)}': use ${CONNECTION_PLATFORMS.join(', ')}.`);
      }
      if ((await store.clients.get(input.client_id)) === undefined) {
        throw new OperationError('not_found', `Unknown client '${input.client_id}'`, { entity: 'client' });
      }
      const existing = await store.connections.get(input.client_id, input.platform);
      const { settings, secrets } = merge(input, existing, ring, options.describe ?? flagOf);
      const secretNames = Object.keys(secrets);
      const ciphertext =
        secretNames.length > 0 ? encryptSecret(JSON.stringify(secrets), requireKeyRing(ring, 'store access tokens and client secrets')) : null;
      const saved = await store.connections.save(
        {
          id: existing?.id ?? `con_${randomBytes(12).toString('base64url')}`,
          client_id: input.client_id,
          platform: input.platform,
          settings,
          secrets: ciphertext,
          secret_names: secretNames,
        },
        now(),
      );
      return viewOf(saved);
    },
    async list(filter = {}) {
      return (await store.connections.list(filter)).map(viewOf);
    },
    async get(clientId, platform) {
      const record = await store.connections.get(clientId, platform);
      return record && viewOf(record);
    },
    async load(clientId, platform, ring) {
      const record = await store.connections.get(clientId, platform);
      // The send runtime's own opening, so `pruuv` and a pass read credentials alike.
      return record && openConnection(record, record.secrets === null ? ring : keyFor(record, ring));
    },
    async rotate(ring) {
      const result = await store.connections.reencryptAll((ciphertext) => reencrypt(ciphertext, ring), now());
      return { ...result, current_key_id: ring.currentId };
    },
  };
}
