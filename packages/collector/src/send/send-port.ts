/**
 * The sender's storage port ({@link OutboxStore} of `@pruuv/sender`) over the
 * collector's {@link Store}: leases and commits go to `store.outbox`, events come
 * from `store.events` with their stage's overrides, connections are read from
 * `store.connections` and opened with the key ring here (the store never sees a
 * secret in clear). A delivered Data Manager batch's request id is handed to the
 * store with the batch's commit, to be checked later (`google-status.ts`).
 */
import { nextStatusCheck, type KeyRing, type LoadedEvent, type OutboxStore, type StageOverrides } from '@pruuv/sender';
import { openConnection } from '../domain/connections.js';
import { toConversionEvent, toStageOverrides } from '../domain/conversion-event.js';
import type { GoogleRequestWrite, Store } from '../store/types.js';

/** Creates the port. `keyRing` opens the stored secrets; `undefined` when no key is configured. */
export function createSendPort(store: Store, keyRing: KeyRing | undefined): OutboxStore {
  // Which Google connections upload through Data Manager (only those have diagnostics to check),
  // learnt when the pass opens each connection.
  const dataManager = new Set<string>();
  return {
    claim: (input) => store.outbox.claim(input),
    renew: (input) => store.outbox.renew(input),
    release: (input) => store.outbox.release(input),
    held: () => store.outbox.held(),
    async connection(clientId, platform) {
      const record = await store.connections.get(clientId, platform);
      if (record === undefined) return undefined;
      const opened = openConnection(record, keyRing);
      if (opened.connection.platform === 'google' && opened.connection.api === 'data-manager') dataManager.add(opened.id);
      return opened;
    },
    async events(ids) {
      const stored = await store.events.getMany(ids);
      const out = new Map<string, LoadedEvent>();
      const overrides = new Map<string, StageOverrides | undefined>();
      for (const event of stored.values()) {
        if (!overrides.has(event.stage_id)) {
          const stage = await store.stages.get(event.stage_id);
          overrides.set(event.stage_id, stage && toStageOverrides(stage.event_names));
        }
        const loaded: LoadedEvent = { event: toConversionEvent(event) };
        const o = overrides.get(event.stage_id);
        if (o !== undefined) loaded.overrides = o;
        out.set(event.id, loaded);
      }
      return out;
    },
    async commit(input) {
      const googleRequests: GoogleRequestWrite[] = [];
      for (const r of input.records) {
        if (r.platform !== 'google' || r.status !== 'sent' || r.dry_run || r.request_id === undefined) continue;
        if (r.connection_id === undefined || !dataManager.has(r.connection_id)) continue;
        googleRequests.push({
          request_id: r.request_id,
          connection_id: r.connection_id,
          client_id: r.client_id,
          sent_at: r.attempted_at,
          next_check_at: nextStatusCheck(new Date(r.attempted_at), 0, input.now)!.toISOString(),
        });
      }
      await store.outbox.commit(googleRequests.length > 0 ? { ...input, googleRequests } : input);
    },
  };
}
