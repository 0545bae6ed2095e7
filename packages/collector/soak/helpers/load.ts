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

/**
 * What a `pruuv serve` under this load is started with: the load stands for many visitors'
 * browsers but comes from one address (127.0.0.1), so the pixel's per-address and per-site
 * limits are raised out of its way (the forged-beacon tests check the limits themselves).
 */
export const LOAD_ENV: Readonly<Record<string, string>> = {
  PRUUV_PIXEL_BURST: '100000',
  PRUUV_PIXEL_PER_MINUTE: '1000000',
  PRUUV_PIXEL_SITE_PER_HOUR: '100000000',
};

/** The headers a browser's `fetch` to the collector carries, so the load's beacons are not held. */
const BROWSER_HEADERS = {
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/147.0.0.0 Safari/537.36',
  'sec-fetch-site': 'cross-site',
  'sec-fetch-mode': 'cors',
  'sec-fetch-dest': 'empty',
};

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
            headers: { origin: LOAD_ORIGIN, 'content-type': 'text/plain', ...BROWSER_HEADERS },
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
