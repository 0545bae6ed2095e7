/**
 * Refreshing OAuth access tokens in a send runtime of many processes: one
 * refresh of a credential at a time across every worker (a lease in the
 * store, {@link SendStore.oauth}), what each refresh gave recorded on the
 * connections that hold the credential, and a rotated refresh token written
 * back to them, encrypted, before it is used.
 */
import { decryptSecret, encryptSecret, type KeyRing } from '../crypto.js';
import { credentialKey, type RefreshedToken, type RefreshLock } from '../oauth.js';
import type { StoredConnection } from '../outbox-store.js';
import type { SendLogger, SendStore } from './store.js';

/** How long a refresh may hold a credential's lease: longer than one token request with its timeout. */
export const REFRESH_LEASE_MS = 60_000;
/** How often a process waiting for another's refresh looks again. */
export const REFRESH_POLL_MS = 100;

/** The lease of {@link SendStore.oauth} as the token cache's {@link RefreshLock}. */
export function storeRefreshLock(
  oauth: NonNullable<SendStore['oauth']>,
  holder: string,
  options: { now: () => Date; sleep?: (ms: number) => Promise<void>; leaseMs?: number },
): RefreshLock {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const leaseMs = options.leaseMs ?? REFRESH_LEASE_MS;
  return {
    async run(key, refresh) {
      // Wait at most one lease: a holder that died leaves a lease that runs out.
      const deadline = options.now().getTime() + leaseMs + REFRESH_POLL_MS;
      for (;;) {
        const t = options.now().getTime();
        if (await oauth.acquireRefresh(key, holder, t, t + leaseMs)) break;
        if (t > deadline) break;
        await sleep(REFRESH_POLL_MS);
      }
      try {
        return await refresh();
      } finally {
        await oauth.releaseRefresh(key, holder);
      }
    },
  };
}

/** The connections opened by this process, by the key of the credential they hold (Google's OAuth client and refresh token). */
export class CredentialIndex {
  readonly #byKey = new Map<string, Set<StoredConnection>>();

  /** Remembers an opened connection that holds a refresh token. */
  add(opened: StoredConnection): void {
    const c = opened.connection as unknown as Record<string, unknown>;
    if (typeof c['client_id'] !== 'string' || typeof c['refresh_token'] !== 'string') return;
    const key = credentialKey({ client_id: c['client_id'], client_secret: '', refresh_token: c['refresh_token'] });
    const set = this.#byKey.get(key) ?? new Set<StoredConnection>();
    for (const known of set) if (known.id === opened.id) set.delete(known);
    set.add(opened);
    this.#byKey.set(key, set);
  }

  of(key: string): StoredConnection[] {
    return [...(this.#byKey.get(key) ?? [])];
  }
}

/**
 * What to do after a refresh: record it on every connection holding the credential, and when
 * the platform rotated the refresh token, write the new one into each connection's ciphertext.
 */
export function onTokenRefreshed(
  store: SendStore,
  index: CredentialIndex,
  ring: KeyRing | undefined,
  now: () => Date,
  logger?: SendLogger,
): (token: RefreshedToken) => Promise<void> {
  return async (token) => {
    const oauth = store.oauth;
    if (oauth === undefined) return;
    for (const opened of index.of(token.key)) {
      if (token.refreshToken !== undefined && ring !== undefined) {
        const record = await store.connection(opened.client_id, opened.platform);
        if (record?.id === opened.id && record.secrets !== null) {
          const secrets = JSON.parse(decryptSecret(record.secrets, ring)) as Record<string, string>;
          secrets['refresh_token'] = token.refreshToken;
          await oauth.replaceSecrets(opened.id, encryptSecret(JSON.stringify(secrets), ring), now());
          logger?.info({ connection_id: opened.id, platform: opened.platform }, 'oauth: rotated refresh token stored');
        }
      }
      await oauth.refreshed(opened.id, now(), token.expiresAt);
    }
  };
}
