/**
 * Microsoft's frozen fields end to end, on SQLite and PostgreSQL: a conversion
 * whose first attempt got a 5612 is retried after the connection's goal and
 * enhanced-conversions switch changed, and the retry sends the first attempt's
 * exact bytes (microsoft-ads.md §5: Microsoft keys duplicates on the click, the
 * goal name, the time and the hashes, so a changed field could count twice).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_VERSIONS, parseKeyRing, type KeyRing } from '@pruuv/sender';
import { FAKE_DEFAULTS, startFakePlatforms, type FakePlatforms } from '@pruuv/fakes';
import { newTestDatabase } from '@pruuv/testkit/database';
import type { TestDatabase } from '@pruuv/testkit/postgres';
import { afterEach, describe, expect, it } from 'vitest';
import { createConnections, type Connections } from '../src/domain/connections.js';
import { hashIdentity } from '../src/domain/identity.js';
import { DEFAULT_SEND_CRON, type SendConfig } from '../src/send/send-config.js';
import { createSender } from '../src/send/sender.js';
import { openPostgresStore } from '../src/store/postgres/index.js';
import { openDb } from '../src/store/sqlite/db.js';
import { createSqliteStore } from '../src/store/sqlite/index.js';
import type { Store } from '../src/store/types.js';
import { FAKE_FIELDS, FAKE_MICROSOFT_APP, newKey } from './send-helpers.js';
import { testClock, type TestClock } from './helpers/harness.js';

const HOUR = 3_600_000;
const d = FAKE_DEFAULTS.microsoft;
const OTHER_GOAL = 'Signed contracts';

interface Engine {
  name: string;
  open(now: () => Date): Promise<{ store: Store; close(): Promise<void> }>;
}

const engines: Engine[] = [
  {
    name: 'SQLite',
    async open(now) {
      const dir = mkdtempSync(join(tmpdir(), 'pruuv-frozen-'));
      const db = openDb(join(dir, 'send.db'));
      return {
        store: createSqliteStore(db, { now, perHour: 1_000_000 }),
        async close() {
          db.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'PostgreSQL',
    async open(now) {
      const database: TestDatabase = await newTestDatabase('pruuv_frozen');
      const store = await openPostgresStore(database.url, { now });
      return {
        store,
        async close() {
          await store.close();
          await database.drop();
        },
      };
    },
  },
];

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/** The fake Microsoft with a second offline goal, without enhanced conversions. */
async function fakes(clock: TestClock): Promise<FakePlatforms> {
  const f = await startFakePlatforms({
    now: clock.now,
    microsoft: {
      customerId: d.customerId,
      accounts: [{ id: d.accountId, name: 'Contoso', number: d.accountNumber }],
      goals: [
        { id: d.goalId, name: d.goalName, accountId: d.accountId, enhanced: true },
        { id: '33000002', name: OTHER_GOAL, accountId: d.accountId, enhanced: false },
      ],
      clientId: d.clientId,
      clientSecret: d.clientSecret,
      redirectUris: [],
      refreshTokens: [d.refreshToken],
      developerToken: d.developerToken,
    },
  });
  cleanup.push(() => f.close());
  return f;
}

async function setUp(engine: Engine) {
  const clock = testClock('2026-11-20T10:00:00.000Z');
  const platforms = await fakes(clock);
  const opened = await engine.open(clock.now);
  cleanup.push(() => opened.close());
  const { store } = opened;
  const ring: KeyRing = parseKeyRing(newKey());
  const connections: Connections = createConnections(store, { now: clock.now });
  const client = await store.clients.create({ name: 'Acme' });
  const lead = (await store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' })).stage;
  await connections.set({ client_id: client.id, platform: 'microsoft', fields: FAKE_FIELDS.microsoft }, ring);
  const config: SendConfig = {
    keyRing: ring,
    cron: DEFAULT_SEND_CRON,
    urls: { ...platforms.urls },
    connectionDefaults: { microsoft: FAKE_MICROSOFT_APP },
    versions: { meta: DEFAULT_VERSIONS.meta, googleAds: DEFAULT_VERSIONS.googleAds },
  };
  const pass = async () => (await createSender({ store, config, now: clock.now, random: () => 0.5, timeoutMs: 500 })).runPass({ retriesOnly: false });
  return { clock, platforms, store, ring, connections, client, lead, pass };
}

for (const engine of engines) {
  describe(`Microsoft frozen fields on ${engine.name}`, () => {
    it("retries a 5612 with the first attempt's bytes after another goal, without enhanced conversions, was picked", async () => {
      const env = await setUp(engine);
      const msclkid = randomUUID().replace(/-/g, '');
      const hashes = await hashIdentity('John.Doe+ads@Contoso.com', '+1 425 555 1234');
      const admitted = await env.store.events.admit(
        {
          id: randomUUID(),
          client_id: env.client.id,
          stage_id: env.lead.id,
          stage_key: env.lead.key,
          source: 'webhook',
          reference: 'crm-1',
          consent: 'granted',
          revenue_value: 120,
          currency: 'EUR',
          clicks: { msclkid: { value: msclkid, ts: new Date(env.clock.now().getTime() - 2 * HOUR).toISOString() } },
          utm: {},
          demographics: {},
          ...hashes,
        },
        env.clock.now(),
      );
      expect(admitted.status).toBe('stored');
      env.platforms.script('microsoftCampaign', [{ kind: 'microsoft-partial', indexes: [0], code: 5612 }]);
      expect((await env.pass()).platforms.microsoft).toMatchObject({ retrying: 1 });
      const [row] = (await env.store.outbox.forEvents([admitted.status === 'stored' ? admitted.event.id : ''])).filter((r) => r.platform === 'microsoft');
      expect(row).toMatchObject({ status: 'retrying', attempts: 1 });

      // While the retry waits, the connection moves to a goal without enhanced conversions.
      await env.connections.set(
        { client_id: env.client.id, platform: 'microsoft', fields: { ...FAKE_FIELDS.microsoft, goal_name: OTHER_GOAL, enhanced_conversions: false } },
        env.ring,
      );
      env.clock.set(row!.due_at);
      expect((await env.pass()).platforms.microsoft).toMatchObject({ sent: 1 });

      const applies = env.platforms.requests('microsoftCampaign').filter((r) => r.path.endsWith('/OfflineConversions/Apply'));
      expect(applies).toHaveLength(2);
      const [first, retry] = applies.map((r) => JSON.stringify(r.body));
      expect(retry).toBe(first);
      expect(JSON.parse(first!)).toEqual({
        OfflineConversions: [
          {
            MicrosoftClickId: msclkid,
            ConversionName: d.goalName,
            ConversionTime: '2026-11-20T10:00:00.000Z',
            ConversionValue: 120,
            ConversionCurrencyCode: 'EUR',
            HashedEmailAddress: '7272c6a41efa18b518d5789e2336282715b23c50a51cc2890643bdaa97b96840',
            HashedPhoneNumber: 'c59475d96e9f01d7d18d06cfad84dd02333207f02c0c2c5663ef2782cda0390e',
          },
        ],
      });

      // A new conversion goes to the goal the connection names now, without hashes.
      await env.store.events.admit(
        {
          id: randomUUID(),
          client_id: env.client.id,
          stage_id: env.lead.id,
          stage_key: env.lead.key,
          source: 'webhook',
          reference: 'crm-2',
          consent: 'granted',
          clicks: { msclkid: { value: randomUUID().replace(/-/g, ''), ts: new Date(env.clock.now().getTime() - 2 * HOUR).toISOString() } },
          utm: {},
          demographics: {},
          ...hashes,
        },
        env.clock.now(),
      );
      await env.pass();
      const fresh = env.platforms.requests('microsoftCampaign').filter((r) => r.path.endsWith('/OfflineConversions/Apply'))[2]?.body as {
        OfflineConversions: Array<Record<string, unknown>>;
      };
      expect(fresh.OfflineConversions[0]).toMatchObject({ ConversionName: OTHER_GOAL });
      expect(fresh.OfflineConversions[0]).not.toHaveProperty('HashedEmailAddress');
    }, 120_000);
  });
}
