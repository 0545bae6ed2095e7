/**
 * Scale out, with real processes: two collectors (`pruuv serve --no-worker`) and
 * two workers (`pruuv worker`) on one PostgreSQL database, the strict fake
 * platforms in this process. Webhook traffic is split across both collectors,
 * with repeats inside the dedup window sent to both at once and a stage driven
 * over its hourly limit; one collector and one worker are killed with SIGKILL
 * mid-run and restarted. Afterwards: every event that got a 200 is stored
 * exactly once, the quota was exact, every due conversion was counted exactly
 * once per platform, and each scheduled slot ran once across the workers.
 */
import { createHash, randomBytes } from 'node:crypto';
import { parseKeyRing } from '@pruuv/sender';
import { startFakePlatforms, type FakePlatforms } from '@pruuv/fakes';
import { newTestDatabase } from '@pruuv/testkit/database';
import { freePort, type TestDatabase } from '@pruuv/testkit/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnections } from '../src/domain/connections.js';
import { openPostgresStore, type PostgresStore } from '../src/store/postgres/index.js';
import { kill, startProc, stop, type Proc } from './helpers/process.js';
import { ensureBuilt } from './send-build.js';
import { FAKE_FIELDS, FAKE_MICROSOFT_APP } from './send-helpers.js';

const PLATFORMS = ['meta', 'google', 'tiktok', 'microsoft'] as const;

/** The msclkid a reference's click carries: Microsoft counts by click (no event id), so the test maps it back. */
const msclkidOf = (reference: string): string => createHash('sha256').update(reference).digest('hex').slice(0, 32);
const QUOTA = 1000;

interface Sent {
  reference: string;
  status: number;
  /** `Retry-After` of a 429 or 503. */
  retryAfter?: string;
  eventId?: string;
  duplicate?: boolean;
}

async function post(base: string, stageId: string, token: string, reference: string, clickTs: string): Promise<Sent> {
  try {
    const res = await fetch(`${base}/api/webhooks/funnel/${stageId}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        reference,
        gclid: `Cj0-${reference}`,
        fbclid: `IwAR-${reference}`,
        ttclid: `E.C.P.${reference}`,
        msclkid: msclkidOf(reference),
        click_timestamp: clickTs,
        revenue_value: 10,
        currency: 'GBP',
      }),
    });
    const body = (await res.json()) as { event_id?: string; duplicate?: boolean };
    const sent: Sent = { reference, status: res.status };
    const retryAfter = res.headers.get('retry-after');
    if (retryAfter !== null) sent.retryAfter = retryAfter;
    if (body.event_id !== undefined) sent.eventId = body.event_id;
    if (body.duplicate === true) sent.duplicate = true;
    return sent;
  } catch {
    // The collector was killed under this request: no answer, as a CRM would see it.
    return { reference, status: 0 };
  }
}

let db: TestDatabase;
let store: PostgresStore;
let fakes: FakePlatforms;
const procs: Proc[] = [];

beforeAll(async () => {
  ensureBuilt();
  db = await newTestDatabase('pruuv_scale');
  store = await openPostgresStore(db.url);
  fakes = await startFakePlatforms({ maxRequestLog: 100 });
}, 180_000);

afterAll(async () => {
  await Promise.all(procs.map(stop));
  await store?.close();
  await fakes?.close();
  await db?.drop();
}, 60_000);

describe('two collectors and two workers on one PostgreSQL database', () => {
  it('store every acknowledged event once, keep the quota exact, and deliver every conversion once', async () => {
    const key = randomBytes(32).toString('base64');
    const client = await store.clients.create({ name: 'Scale' });
    const lead = await store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' });
    const flood = await store.stages.create({ client_id: client.id, key: 'flood', name: 'Flood' });
    const connections = createConnections(store);
    for (const platform of PLATFORMS) await connections.set({ client_id: client.id, platform, fields: FAKE_FIELDS[platform] }, parseKeyRing(key));

    const env: NodeJS.ProcessEnv = {
      PATH: process.env['PATH'],
      PRUUV_DATABASE_URL: db.url,
      PRUUV_ENCRYPTION_KEY: key,
      PRUUV_HOST: '127.0.0.1',
      PRUUV_LOG_LEVEL: 'info',
      // The flood below opens 530 connections from 127.0.0.1 to each collector at once.
      PRUUV_CONNECTIONS_PER_ADDRESS: '0',
      // A slot every two seconds, so the run sees many slots shared by two workers.
      PRUUV_SEND_CRON: '*/2 * * * * *',
      PRUUV_SEND_LEASE_SECONDS: '10',
      PRUUV_META_API_URL: fakes.urls.meta,
      PRUUV_GOOGLE_ADS_API_URL: fakes.urls.googleAds,
      PRUUV_GOOGLE_DATA_MANAGER_API_URL: fakes.urls.dataManager,
      PRUUV_GOOGLE_OAUTH_TOKEN_URL: fakes.urls.oauthToken,
      PRUUV_TIKTOK_API_URL: fakes.urls.tiktok,
      PRUUV_MICROSOFT_CAMPAIGN_API_URL: fakes.urls.microsoftCampaign,
      PRUUV_MICROSOFT_OAUTH_TOKEN_URL: fakes.urls.microsoftToken,
      PRUUV_MICROSOFT_DEVELOPER_TOKEN: FAKE_MICROSOFT_APP.developer_token,
      PRUUV_MICROSOFT_CLIENT_ID: FAKE_MICROSOFT_APP.client_id,
      PRUUV_MICROSOFT_CLIENT_SECRET: FAKE_MICROSOFT_APP.client_secret,
    };
    const collector = async (name: string): Promise<{ proc: Proc; url: string }> => {
      const proc = startProc(name, ['serve', '--no-worker'], { ...env, PORT: String(await freePort()) });
      procs.push(proc);
      const line = await proc.waitFor((l) => l['msg'] === 'collector listening');
      return { proc, url: String(line['url']) };
    };
    const worker = async (name: string): Promise<Proc> => {
      const proc = startProc(name, ['worker'], env);
      procs.push(proc);
      await proc.waitFor((l) => l['msg'] === 'worker started');
      return proc;
    };

    let [a, b] = await Promise.all([collector('collector-a'), collector('collector-b')]);
    const clickTs = new Date(Date.now() - 3_600_000).toISOString();
    const sent: Sent[] = [];

    // 1. A stage driven over its hourly limit, through both collectors at once.
    const floodResults = await Promise.all(
      Array.from({ length: QUOTA + 60 }, (_, i) => post(i % 2 === 0 ? a.url : b.url, flood.stage.id, flood.token, `flood-${i}`, clickTs)),
    );
    sent.push(...floodResults);
    expect(floodResults.filter((r) => r.status === 200 && r.eventId !== undefined)).toHaveLength(QUOTA);
    // The rest are refused and say when to come back: 429 over the quota, or 503 when a
    // collector's database pool was busy under this burst (nothing stored: a CRM retries it).
    const refused = floodResults.filter((r) => r.status !== 200);
    expect(refused.map((r) => r.status).filter((s) => s !== 429 && s !== 503)).toEqual([]);
    expect(refused).toHaveLength(60);
    expect(refused.filter((r) => r.retryAfter === undefined)).toEqual([]);

    // 2. Worker 1 starts and is killed in the middle of its first pass: once it holds leased rows.
    const w1 = await worker('worker-1');
    const owner = String((await w1.waitFor((l) => l['msg'] === 'worker started'))['owner']);
    const leased = async () =>
      Number((await store.pool.query<{ n: string }>('SELECT count(*) AS n FROM outbox WHERE lease_owner = $1', [owner])).rows[0]!.n);
    const killBy = Date.now() + 20_000;
    while ((await leased()) === 0 && Date.now() < killBy) await new Promise((r) => setTimeout(r, 2));
    await kill(w1);
    expect(await leased(), 'worker 1 died holding rows').toBeGreaterThan(0);

    // 3. Worker 2 starts; lead traffic on both collectors, each reference sent to both at once
    //    one time in four (a CRM retrying through the other box inside the dedup window).
    const w2 = await worker('worker-2');
    const batch = async (from: number, to: number): Promise<void> => {
      const requests: Array<Promise<Sent>> = [];
      for (let i = from; i < to; i++) {
        const reference = `lead-${i}`;
        requests.push(post(i % 2 === 0 ? a.url : b.url, lead.stage.id, lead.token, reference, clickTs));
        if (i % 4 === 0) requests.push(post(i % 2 === 0 ? b.url : a.url, lead.stage.id, lead.token, reference, clickTs));
      }
      sent.push(...(await Promise.all(requests)));
    };
    await batch(0, 150);

    // 4. Kill collector A under load and restart it; worker 1 comes back too.
    const inFlight = batch(150, 300);
    await new Promise((r) => setTimeout(r, 30));
    await kill(a.proc);
    await inFlight;
    a = await collector('collector-a2');
    await batch(300, 450);
    const w1b = await worker('worker-1b');

    // 5. Wait until the fakes counted every conversion the stored events owe them.
    const stored = await store.pool.query<{ id: string; stage_id: string; reference: string }>('SELECT id, stage_id, reference FROM events');
    const storedIds = new Set(stored.rows.map((r) => r.id));
    const deadline = Date.now() + 90_000;
    const counted = () => Math.min(...PLATFORMS.map((p) => fakes.counted(p).size));
    while (counted() < storedIds.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));

    // Every 200 with an event id is stored, exactly once.
    const acknowledged = sent.filter((s) => s.status === 200 && s.eventId !== undefined);
    for (const s of acknowledged) expect(storedIds.has(s.eventId!), `${s.reference} acknowledged but not stored`).toBe(true);
    // One stored event per (stage, reference): no repeat inside the window became a second event.
    const keys = stored.rows.map((r) => `${r.stage_id} ${r.reference}`);
    expect(new Set(keys).size).toBe(keys.length);
    // The quota was exact across both collectors.
    expect(stored.rows.filter((r) => r.stage_id === flood.stage.id)).toHaveLength(QUOTA);
    // Repeats through the other collector were answered as duplicates, never stored twice.
    expect(sent.filter((s) => s.status === 200 && s.duplicate === true).length).toBeGreaterThan(0);

    // Every due conversion counted exactly once per platform (a resend after the worker's
    // crash may have reached a platform twice, which its dedup key absorbs).
    const byClick = new Map(stored.rows.map((r) => [msclkidOf(r.reference), r.id]));
    const eventOf = (platform: (typeof PLATFORMS)[number], key: string): string | undefined =>
      platform === 'microsoft' ? byClick.get(key.split(':')[1] ?? '') : [...storedIds].find((id) => key.includes(id));
    for (const platform of PLATFORMS) {
      const keysCounted = [...fakes.counted(platform).keys()];
      expect(keysCounted.length, platform).toBe(storedIds.size);
      expect(keysCounted.every((k) => !k.includes('#')), `${platform}: a conversion counted twice`).toBe(true);
      const ids = new Set(keysCounted.map((k) => eventOf(platform, k)));
      expect(ids.has(undefined), `${platform}: a conversion of no stored event`).toBe(false);
      expect(ids.size).toBe(storedIds.size);
    }
    const leftover = await store.pool.query<{ n: string }>("SELECT count(*) AS n FROM outbox WHERE status <> 'sent'");
    expect(Number(leftover.rows[0]!.n)).toBe(0);

    // Each scheduled slot ran once across the workers: one log line per slot, and its ledger row names that worker.
    const starts = [w1, w2, w1b].flatMap((w) =>
      w.lines.filter((l) => l['msg'] === 'scheduled send pass starting').map((l) => ({ worker: w.name, slot: String(l['slot']) })),
    );
    const slots = starts.map((s) => s.slot);
    expect(new Set(slots).size).toBe(slots.length);
    expect(slots.length).toBeGreaterThan(2);
    const runs = await store.pool.query<{ slot: Date; owner: string }>('SELECT slot, owner FROM send_runs');
    expect(runs.rows.length).toBeGreaterThanOrEqual(slots.length);
    expect(new Set(starts.map((s) => s.worker)).size).toBeGreaterThan(1);
  }, 240_000);
});
