/**
 * The send runtime's storage port ({@link SendStore} of `@pruuv/sender`) over the
 * collector's {@link Store}: outbox leases and commits, events as the sender takes
 * them (with their stage's overrides), connections with their secrets still
 * encrypted (the runtime opens them), OAuth refresh leases, the run ledger and Google diagnostics.
 */
import type { LoadedEvent, SendStore, StageOverrides } from '@pruuv/sender';
import { toConversionEvent, toStageOverrides } from '../domain/conversion-event.js';
import type { Store } from '../store/types.js';
import type { SendConfig } from './send-config.js';

/**
 * Creates the port. `defaults` are connection fields the operator set for every connection of a
 * platform (Microsoft's developer token and Azure app, `SendConfig.connectionDefaults`): a
 * connection's own settings and secrets win over them.
 */
export function createSendStore(store: Store, defaults: NonNullable<SendConfig['connectionDefaults']> = {}): SendStore {
  return {
    claim: (input) => store.outbox.claim(input),
    renew: (input) => store.outbox.renew(input),
    release: (input) => store.outbox.release(input),
    freeze: (input) => store.outbox.freeze(input),
    held: () => store.outbox.held(),
    nextFollowUp: () => store.outbox.nextFollowUp(),
    async commit({ diagnostics, ...input }) {
      await store.outbox.commit(diagnostics !== undefined ? { ...input, googleRequests: diagnostics } : input);
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
    // Refresh leases across workers and what each refresh gave (store.oauth): recorded only on
    // connections made with Connect (a pasted one has no grant row to update).
    oauth: {
      acquireRefresh: (key, holder, nowMs, untilMs) => store.oauth.acquireRefresh(key, holder, nowMs, untilMs),
      releaseRefresh: (key, holder) => store.oauth.releaseRefresh(key, holder),
      refreshed: (connectionId, at, accessExpiresAt) => store.oauth.refreshed(connectionId, at, accessExpiresAt),
      replaceSecrets: (connectionId, secrets, at) => store.oauth.replaceSecrets(connectionId, secrets, at),
    },
    async connection(clientId, platform) {
      const record = await store.connections.get(clientId, platform);
      if (record === undefined) return undefined;
      const settings = { ...defaults[record.platform], ...record.settings };
      return { id: record.id, client_id: record.client_id, platform: record.platform, status: record.status, settings, secrets: record.secrets };
    },
    ciphertexts: () => store.connections.ciphertexts(),
    runs: store.runs,
    diagnostics: {
      due: (now, limit) => store.googleRequests.due(now, limit),
      record: (check) => store.googleRequests.record(check),
      nextDue: () => store.googleRequests.nextDue(),
    },
  };
}
