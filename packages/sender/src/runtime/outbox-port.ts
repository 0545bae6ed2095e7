/**
 * The pass's storage ({@link OutboxStore}, what `runSendPass` takes) over the
 * runtime's {@link SendStore}: connections are opened with the key ring here
 * (the store never sees a secret in clear), and the request id of a delivered
 * batch that its platform reports on later (an adapter's `deliveryChecks`:
 * Google Data Manager) is handed to the store with the batch's commit.
 */
import type { KeyRing } from '../crypto.js';
import type { OutboxStore } from '../outbox-store.js';
import { platformAdapter } from '../platforms/index.js';
import { openConnection } from './credentials.js';
import type { DiagnosticsWrite, SendStore } from './store.js';

/** Creates the port. `keyRing` opens the stored secrets; `undefined` when no key is configured. */
export function createOutboxPort(store: SendStore, keyRing: KeyRing | undefined): OutboxStore {
  // The connections whose deliveries are checked later, with their platform's spec, learnt when
  // the pass opens each connection.
  const tracked = new Map<string, NonNullable<ReturnType<typeof platformAdapter>['deliveryChecks']>>();
  return {
    claim: (input) => store.claim(input),
    renew: (input) => store.renew(input),
    release: (input) => store.release(input),
    freeze: (input) => store.freeze(input),
    held: () => store.held(),
    events: (ids) => store.events(ids),
    async connection(clientId, platform) {
      const record = await store.connection(clientId, platform);
      if (record === undefined) return undefined;
      const opened = openConnection(record, keyRing);
      const checks = platformAdapter(opened.platform).deliveryChecks;
      if (checks?.tracks(opened.connection)) tracked.set(opened.id, checks);
      return opened;
    },
    async commit(input) {
      // One write per delivered request, counting its events (a batch is one request, or a few after a split).
      const requests = new Map<string, DiagnosticsWrite>();
      for (const r of input.records) {
        if (r.status !== 'sent' || r.dry_run || r.request_id === undefined) continue;
        const checks = r.connection_id === undefined ? undefined : tracked.get(r.connection_id);
        if (checks === undefined || r.connection_id === undefined) continue;
        const known = requests.get(r.request_id);
        if (known !== undefined) known.events += 1;
        else {
          requests.set(r.request_id, {
            request_id: r.request_id,
            connection_id: r.connection_id,
            client_id: r.client_id,
            sent_at: r.attempted_at,
            next_check_at: checks.firstCheck(new Date(r.attempted_at), input.now).toISOString(),
            events: 1,
          });
        }
      }
      await store.commit(requests.size > 0 ? { ...input, diagnostics: [...requests.values()] } : input);
    },
  };
}
