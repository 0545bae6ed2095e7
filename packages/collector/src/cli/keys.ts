import type { Config } from '../config.js';
import { createConnections, type RotateResult } from '../domain/connections.js';
import type { Store } from '../store/types.js';
import { requireKeyRing } from '../send/secrets.js';
import { emit, type CliOutput } from './output.js';

/**
 * `pruuv keys rotate`: re-encrypts every stored secret with the FIRST key of
 * `PRUUV_ENCRYPTION_KEY`, in one transaction. Rotation: put a new key first and keep the old
 * ones after it (comma-separated), run this, then drop the old keys. Re-running is harmless.
 * JSON: `{ connections, reencrypted, current_key_id }`.
 */
export async function keysRotate(store: Store, config: Config, output: CliOutput): Promise<RotateResult> {
  const ring = requireKeyRing(config.send.keyRing, 'rotate the stored credentials');
  const result = await createConnections(store).rotate(ring);
  emit(output, result, () =>
    [
      `Re-encrypted ${result.reencrypted} of ${result.connections} connection secret(s) with key ${result.current_key_id}.`,
      result.connections > 0
        ? 'Every stored secret now opens with the first key alone: the other keys can be removed from PRUUV_ENCRYPTION_KEY.'
        : 'No credentials are stored.',
    ].join('\n'),
  );
  return result;
}
