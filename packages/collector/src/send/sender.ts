/**
 * The collector's sender: `@pruuv/sender`'s runtime over the collector's
 * {@link Store}, configured from `SendConfig` (the `PRUUV_*` variables). `pruuv
 * send`, `pruuv serve`, `pruuv worker` and the `npm start` demo run passes
 * through it.
 */
import { createSender as createRuntimeSender, CredentialsError, type Sender, type SenderOptions as RuntimeSenderOptions } from '@pruuv/sender';
import type { Logger } from 'pino';
import type { Store } from '../store/types.js';
import { EncryptionKeyError, KEY_HELP } from './secrets.js';
import type { SendConfig } from './send-config.js';
import { createSendStore } from './send-store.js';

export type { Sender };

/** Options of {@link createSender}: the store and the configuration, and the runtime's seams. */
export interface SenderOptions extends Omit<RuntimeSenderOptions, 'store' | 'keyRing' | 'urls' | 'versions' | 'logger'> {
  store: Store;
  config: SendConfig;
  /** Defaults to nothing logged. */
  logger?: Logger;
}

/**
 * Creates the sender. Refuses (rejects with {@link EncryptionKeyError}, saying what to set) when
 * credentials are stored and `PRUUV_ENCRYPTION_KEY` cannot open them.
 */
export async function createSender(options: SenderOptions): Promise<Sender> {
  const { store, config, logger, ...seams } = options;
  try {
    return await createRuntimeSender({
      ...seams,
      store: createSendStore(store, config.connectionDefaults ?? {}),
      keyRing: config.keyRing,
      urls: config.urls,
      versions: config.versions,
      ...(config.leaseMs !== undefined && seams.leaseMs === undefined ? { leaseMs: config.leaseMs } : {}),
      ...(logger ? { logger } : {}),
    });
  } catch (error) {
    if (!(error instanceof CredentialsError)) throw error;
    throw new EncryptionKeyError(
      error.kind === 'no_key'
        ? `${error.count} connection(s) have stored credentials but PRUUV_ENCRYPTION_KEY is not set, so they cannot be decrypted. Set it to the key they were stored with. ${KEY_HELP}`
        : `Stored credentials were encrypted with key(s) ${error.keyIds.join(', ')}, which PRUUV_ENCRYPTION_KEY does not contain. Add the old key after the current one (comma-separated), then run \`pruuv keys rotate\`.`,
      { cause: error },
    );
  }
}
