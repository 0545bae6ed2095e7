/**
 * Load for the soak suite's server tests: a client with many stages (a stage
 * takes 1,000 events an hour, so the load is spread over them), and one
 * request of the mix, a webhook event or a pixel beacon in turn.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '../../src/store/types.js';
import { beacon } from '../../test/helpers/payloads.js';
import type { SoakDatabase } from './database.js';

/** The page origin the load's client allows. */
export const LOAD_ORIGIN = 'https://www.shop.example';

export interface LoadStage {
  id: string;
  key: string;
  token: string;
}

/** Creates a client allowing {@link LOAD_ORIGIN} with stages `s0`…, then closes the store. */
export async function seedStages(db: SoakDatabase, count: number): Promise<{ client: Client; stages: LoadStage[] }> {
  const store = await db.open();
  try {
    const client = await store.clients.create({ name: 'Load', origins: [LOAD_ORIGIN] });
    const stages: LoadStage[] = [];
    for (let i = 0; i < count; i++) {
      const { stage, token } = await store.stages.create({ client_id: client.id, key: `s${i}`, name: `Stage ${i}` });
      stages.push({ id: stage.id, key: stage.key, token });
    }
    return { client, stages };
  } finally {
    await store.close();
  }
}

export interface LoadAnswer {
  /** 0 when no whole answer arrived (the server died under the request). */
  status: number;
  eventId?: string;
  duplicate?: boolean;
}

/** Request `i` of the mix: even ones a webhook event, odd ones a pixel beacon, on stage `i % stages`, with a unique reference. */
export async function loadRequest(url: string, seeded: { client: Client; stages: LoadStage[] }, i: number, label: string): Promise<LoadAnswer> {
  const stage = seeded.stages[i % seeded.stages.length]!;
  try {
    const res =
      i % 2 === 0
        ? await fetch(`${url}/api/webhooks/funnel/${stage.id}`, {
            method: 'POST',
            headers: { authorization: `Bearer ${stage.token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ reference: `${label}-${i}`, gclid: `Cj0-${label}-${i}`, email: `visitor${i}@example.com`, revenue_value: 10, currency: 'GBP' }),
          })
        : await fetch(`${url}/e`, {
            method: 'POST',
            headers: { origin: LOAD_ORIGIN, 'content-type': 'text/plain' },
            body: JSON.stringify(
              beacon(seeded.client.site_key, { stage: stage.key, event_id: randomUUID(), reference: `${label}-${i}`, clicks: { gclid: { value: `Cj0-p${i}`, ts: new Date().toISOString() } } }),
            ),
          });
    const body = (await res.json()) as { event_id?: string; duplicate?: boolean };
    return { status: res.status, ...(body.event_id ? { eventId: body.event_id } : {}), ...(body.duplicate ? { duplicate: true } : {}) };
  } catch {
    return { status: 0 };
  }
}
