/**
 * The preview of the next send pass for the dashboard: the rows a pass run now would claim
 * (`outbox.due`, read without leasing), their events as the sender loads them, and what the
 * sender's own pre-flight (`previewPass`) says of each: sent, validated only, skipped or dead,
 * and why. No request is made and no secret is decrypted: eligibility reads a connection's
 * settings and that each secret is present, so each stored secret stands in as a placeholder.
 */
import type { Connection, HeldConnection, Platform } from '@pruuv/sender';
import { previewPass, type PreviewItem } from '@pruuv/sender/platforms';
import { createSendStore } from '../send/send-store.js';
import type { ConnectionRecord, Store } from '../store/types.js';

/** Rows a preview reads at most. */
export const PREVIEW_ROWS = 500;

/** What a pass run now would do. */
export interface PassPreview {
  /** ISO 8601: the instant the preview stands for. */
  at: string;
  /** One per due row, in claim order, at most {@link PREVIEW_ROWS}. */
  items: PreviewItem[];
  /** More rows are due than the preview read. */
  more: boolean;
  /** Paused connections in scope and the rows each holds back (no pass takes them until fixed). */
  held: HeldConnection[];
}

/** A stored connection as eligibility sees it: its settings, and a placeholder for each stored secret. */
export function connectionStandIn(record: ConnectionRecord): Connection {
  const secrets = Object.fromEntries(record.secret_names.map((name) => [name, '(stored)']));
  return { platform: record.platform, ...record.settings, ...secrets } as unknown as Connection;
}

/** Previews a pass at `now`, of one client's rows when `clientId` is given. */
export async function previewNextPass(store: Store, now: Date, clientId: string | undefined): Promise<PassPreview> {
  const due = await store.outbox.due({ now, limit: PREVIEW_ROWS + 1, ...(clientId !== undefined ? { client_id: clientId } : {}) });
  const claims = due.slice(0, PREVIEW_ROWS);
  const events = await createSendStore(store).events([...new Set(claims.map((c) => c.event_id))]);
  const connections = new Map<string, Connection | undefined>();
  for (const c of claims) {
    const key = `${c.client_id}\u0000${c.platform}`;
    if (!connections.has(key)) {
      const record = await store.connections.get(c.client_id, c.platform);
      connections.set(key, record && connectionStandIn(record));
    }
  }
  const items = previewPass({ claims, events, connection: (client: string, platform: Platform) => connections.get(`${client}\u0000${platform}`), now });
  const held = (await store.outbox.held()).filter((h) => clientId === undefined || h.client_id === clientId);
  return { at: now.toISOString(), items, more: due.length > PREVIEW_ROWS, held };
}
