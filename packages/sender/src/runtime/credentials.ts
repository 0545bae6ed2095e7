/**
 * Opening stored credentials for a send, and the start-up check that refuses to
 * run a sender whose key ring cannot open what is stored (a misconfigured
 * worker fails at start, not at 03:00).
 */
import { ciphertextKeyId, decryptSecret, type KeyRing } from '../crypto.js';
import { SenderError } from '../errors.js';
import type { StoredConnection } from '../outbox-store.js';
import type { Connection } from '../types.js';
import type { EncryptedConnection, SendStore } from './store.js';

/**
 * The stored credentials cannot be opened: no key ring (`no_key`) or one that
 * lacks a key they were encrypted with (`missing_keys`). `count` connections hold
 * secrets; `keyIds` are the missing key ids.
 */
export class CredentialsError extends SenderError {
  override name = 'CredentialsError';
  constructor(
    readonly kind: 'no_key' | 'missing_keys',
    readonly count: number,
    readonly keyIds: readonly string[],
    message: string,
  ) {
    super(message);
  }
}

/** A connection with its secrets decrypted. Throws {@link CredentialsError} without a key ring, `DecryptError` with the wrong one. */
export function openConnection(record: EncryptedConnection, ring: KeyRing | undefined): StoredConnection {
  let secrets: Record<string, string> = {};
  if (record.secrets !== null) {
    if (ring === undefined) {
      throw new CredentialsError('no_key', 1, [], `No encryption key is configured to read the credentials of the ${record.platform} connection of client ${record.client_id}.`);
    }
    secrets = JSON.parse(decryptSecret(record.secrets, ring)) as Record<string, string>;
  }
  const connection = { platform: record.platform, ...record.settings, ...secrets } as unknown as Connection;
  return { id: record.id, client_id: record.client_id, platform: record.platform, status: record.status, connection };
}

/**
 * Refuses (throws {@link CredentialsError}) when secrets are stored and `ring` is
 * missing, or lacks a key one of them was encrypted with. Returns how many
 * connections hold secrets.
 */
export async function checkStoredCredentials(store: Pick<SendStore, 'ciphertexts'>, ring: KeyRing | undefined): Promise<number> {
  const rows = await store.ciphertexts();
  if (rows.length === 0) return 0;
  if (ring === undefined) {
    throw new CredentialsError('no_key', rows.length, [], `${rows.length} connection(s) have stored credentials but no encryption key is configured, so they cannot be decrypted.`);
  }
  const missing = new Set<string>();
  for (const { secrets } of rows) {
    const id = ciphertextKeyId(secrets);
    if (id === undefined || !ring.keys.has(id)) missing.add(id ?? 'unknown');
  }
  if (missing.size > 0) {
    const ids = [...missing];
    throw new CredentialsError('missing_keys', rows.length, ids, `Stored credentials were encrypted with key(s) ${ids.join(', ')}, which the key ring does not contain.`);
  }
  return rows.length;
}
