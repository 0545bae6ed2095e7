/**
 * What the next send pass would do with the rows due now, decided without sending: the same
 * checks a pass makes before any request (`preflightClaims`: the event is gone, the retry window
 * is over; `preflightEvents`: consent, the connection, the platform's eligibility), in the same
 * order, on the same rows. Pure: the caller lists the due rows (without leasing them), loads
 * their events and connections. What a platform then answers to a sent event (sent, retrying,
 * failed) is the platform's: the preview says "would be sent".
 */
import type { ClaimedSend, LoadedEvent } from './outbox-store.js';
import { groupByConnection } from './pass-batches.js';
import type { Connection, Platform } from './platforms/index.js';
import type { RetryPolicy } from './retry-policy.js';
import { preflightEvents } from './send-batch.js';
import { discardable, preflightClaims } from './send-pass.js';
import type { StageOverrides } from './types.js';

/** What the pass would do with one row. */
export interface PreviewItem {
  claim: ClaimedSend;
  /**
   * `send`: eligible, would be sent. `dry_run`: eligible on a validate-only connection: built
   * (Google: validated by Google), not delivered, audited as skipped `dry_run`. `skipped` and
   * `dead`: decided before any request, with the reason and message the pass would record.
   * `removed`: the client has no connection for the platform; the row leaves the outbox unsent
   * and nothing is recorded (reason `no_connection`, a message for a person).
   */
  action: 'send' | 'dry_run' | 'skipped' | 'dead' | 'removed';
  reason?: string;
  message?: string;
}

/** Input of {@link previewPass}. */
export interface PreviewInput {
  /** The rows a claim would take now, in claim order. */
  claims: readonly ClaimedSend[];
  /** Their events, with their stages' overrides; a missing id is an event no longer stored. */
  events: ReadonlyMap<string, LoadedEvent>;
  /**
   * A client's connection to a platform, `undefined` when there is none. Eligibility reads the
   * settings and that each secret is present, never a secret's value: a stand-in will do.
   */
  connection(clientId: string, platform: Platform): Connection | undefined;
  now: Date;
  retryPolicy?: Partial<RetryPolicy>;
}

/** One item per claim, in the claims' order. */
export function previewPass(input: PreviewInput): PreviewItem[] {
  const items = new Map<number, PreviewItem>();
  // The pass removes these first, as `runSendPass` does before any other check.
  for (const group of groupByConnection(input.claims)) {
    const connected = input.connection(group.client_id, group.platform) !== undefined;
    const message = `No ${group.platform} connection for this client: removed from the outbox unsent, nothing recorded.`;
    const gone = new Set(discardable(connected, group.claims));
    for (const claim of group.claims) if (gone.has(claim.id)) items.set(claim.id, { claim, action: 'removed', reason: 'no_connection', message });
  }
  const rest = items.size === 0 ? input.claims : input.claims.filter((c) => !items.has(c.id));
  const { outcomes, toSend } = preflightClaims(rest, input.events, input.now, input.retryPolicy);
  for (const [id, outcome] of outcomes) {
    const claim = rest.find((c) => c.id === id) as ClaimedSend;
    items.set(id, { claim, action: outcome.status === 'dead' ? 'dead' : 'skipped', ...reasonOf(outcome) });
  }
  for (const group of groupByConnection(toSend)) {
    const connection = input.connection(group.client_id, group.platform);
    const loaded = group.claims.map((c) => input.events.get(c.event_id) as LoadedEvent);
    const overrides: Record<string, StageOverrides> = {};
    for (const e of loaded) if (e.overrides !== undefined) overrides[e.event.stage_id] = e.overrides;
    const { outcomes: checked, planned } = preflightEvents({ connection, events: loaded.map((e) => e.event), overrides }, group.platform, input.now);
    const eligible = new Set(planned.map((p) => p.index));
    group.claims.forEach((claim, i) => {
      if (eligible.has(i)) items.set(claim.id, { claim, action: connection?.dry_run === true ? 'dry_run' : 'send' });
      else items.set(claim.id, { claim, action: 'skipped', ...reasonOf(checked[i]) });
    });
  }
  return input.claims.map((c) => items.get(c.id) as PreviewItem);
}

function reasonOf(outcome: { reason?: string; message?: string } | undefined): { reason?: string; message?: string } {
  const out: { reason?: string; message?: string } = {};
  if (outcome?.reason !== undefined) out.reason = outcome.reason;
  if (outcome?.message !== undefined) out.message = outcome.message;
  return out;
}
