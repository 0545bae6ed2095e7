/**
 * Shared set-up of the send tests: a real SQLite file in a temp dir, a client
 * with connections to the strict fake platforms (real HTTP on 127.0.0.1), an
 * injected clock shared by the collector, the sender and the fakes.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_VERSIONS, parseKeyRing, type KeyRing, type PassReport, type Platform } from '@pruuv/sender';
import { startFakePlatforms, FAKE_DEFAULTS, type FakePlatforms, type FakePlatformsOptions } from '@pruuv/fakes';
import { openDb, type Db } from '../src/store/sqlite/db.js';
import { createConnections, type Connections, type FieldValue } from '../src/domain/connections.js';
import { DEFAULT_SEND_CRON, type SendConfig } from '../src/send/send-config.js';
import { createSender, type Sender, type SenderOptions } from '../src/send/sender.js';
import { AUDIT_CLIENT_SQL, AUDIT_EVENT_SQL, AUDIT_PASS_SQL, AUDIT_REQUEST_SQL, AUDIT_STAGE_SQL, readAuditText } from '../src/store/audit-row.js';
import { createSqliteStore, type SqliteStore } from '../src/store/sqlite/index.js';
import type { Client, NewEvent, Stage, StoredEvent } from '../src/store/types.js';
import { testClock, type TestClock } from './helpers/harness.js';

/** A fresh base64 32-byte key. */
export function newKey(): string {
  return randomBytes(32).toString('base64');
}

/** The connection fields of each platform that reach the fakes' seeded accounts. */
export const FAKE_FIELDS: Record<Platform, Record<string, FieldValue>> = {
  meta: { pixel_id: FAKE_DEFAULTS.meta.pixelId, access_token: FAKE_DEFAULTS.meta.token },
  google: {
    api: 'data-manager',
    customer_id: FAKE_DEFAULTS.google.customerId,
    conversion_action_id: FAKE_DEFAULTS.google.conversionActionId,
    client_id: FAKE_DEFAULTS.google.clientId,
    client_secret: FAKE_DEFAULTS.google.clientSecret,
    refresh_token: FAKE_DEFAULTS.google.refreshToken,
  },
  tiktok: { pixel_code: FAKE_DEFAULTS.tiktok.pixelCode, access_token: FAKE_DEFAULTS.tiktok.token },
  microsoft: {
    customer_id: FAKE_DEFAULTS.microsoft.customerId,
    account_id: FAKE_DEFAULTS.microsoft.accountId,
    goal_name: FAKE_DEFAULTS.microsoft.goalName,
    enhanced_conversions: true,
    refresh_token: FAKE_DEFAULTS.microsoft.refreshToken,
  },
};

/** The operator's Microsoft app, as `PRUUV_MICROSOFT_*` would set it for the fake. */
export const FAKE_MICROSOFT_APP = {
  developer_token: FAKE_DEFAULTS.microsoft.developerToken,
  client_id: FAKE_DEFAULTS.microsoft.clientId,
  client_secret: FAKE_DEFAULTS.microsoft.clientSecret,
} as const;

/** Everything a send test needs. */
export interface SendEnv {
  dir: string;
  dbFile: string;
  db: Db;
  store: SqliteStore;
  clock: TestClock;
  fakes: FakePlatforms;
  key: string;
  ring: KeyRing;
  connections: Connections;
  client: Client;
  lead: Stage;
  config: SendConfig;
  /** Admits one event (all three click ids unless overridden) at the clock's time. */
  addEvent(overrides?: Partial<NewEvent>): StoredEvent;
  /** Runs one pass with a fresh sender (defaults: no jitter, 500 ms timeout). */
  pass(options?: Partial<SenderOptions> & { retriesOnly?: boolean }): Promise<PassReport>;
  sender(options?: Partial<SenderOptions>): Promise<Sender>;
  close(): Promise<void>;
}

/** Options of {@link sendEnv}. */
export interface SendEnvOptions {
  /** Platforms to connect. Defaults to all three. */
  connect?: Platform[];
  /** Field overrides per platform. */
  fields?: Partial<Record<Platform, Record<string, FieldValue>>>;
  fakes?: FakePlatformsOptions;
  /** Defaults to `2026-11-20T10:00:00.000Z`. */
  start?: string;
}

let seq = 0;

/** Opens a temp database with a client, a `lead` stage and connections to fresh fakes. */
export async function sendEnv(options: SendEnvOptions = {}): Promise<SendEnv> {
  const dir = mkdtempSync(join(tmpdir(), 'pruuv-send-'));
  const dbFile = join(dir, 'send.db');
  const clock = testClock(options.start ?? '2026-11-20T10:00:00.000Z');
  const db = openDb(dbFile);
  const store = createSqliteStore(db, { now: clock.now, perHour: 10_000_000 });
  const fakes = await startFakePlatforms({ now: clock.now, ...options.fakes });
  const key = newKey();
  const ring = parseKeyRing(key);
  const connections = createConnections(store, { now: clock.now });
  const client = await store.clients.create({ name: 'Acme' });
  const lead = (await store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' })).stage;
  for (const platform of options.connect ?? (['meta', 'google', 'tiktok'] as const)) {
    await connections.set({ client_id: client.id, platform, fields: { ...FAKE_FIELDS[platform], ...options.fields?.[platform] } }, ring);
  }
  const config: SendConfig = {
    keyRing: ring,
    cron: DEFAULT_SEND_CRON,
    urls: { ...fakes.urls },
    connectionDefaults: { microsoft: FAKE_MICROSOFT_APP },
    versions: { meta: DEFAULT_VERSIONS.meta, googleAds: DEFAULT_VERSIONS.googleAds },
  };

  const addEvent = (overrides: Partial<NewEvent> = {}): StoredEvent => {
    seq += 1;
    const at = clock.now();
    const clickTs = new Date(at.getTime() - 3_600_000).toISOString();
    const event: NewEvent = {
      id: randomUUID(),
      client_id: client.id,
      stage_id: lead.id,
      stage_key: lead.key,
      source: 'webhook',
      reference: `crm-${seq}`,
      consent: 'granted',
      clicks: {
        fbclid: { value: `IwAR-fb-${seq}`, ts: clickTs },
        gclid: { value: `Cj0-gclid-${seq}`, ts: clickTs },
        ttclid: { value: `E.C.P.tt-${seq}`, ts: clickTs },
        msclkid: { value: randomUUID().replace(/-/g, ''), ts: clickTs },
      },
      utm: {},
      demographics: {},
      ...overrides,
    };
    const result = store.events.admitNow(event, at);
    if (result.status !== 'stored') throw new Error(`event not stored: ${result.status}`);
    return result.event;
  };

  const sender = (opts: Partial<SenderOptions> = {}): Promise<Sender> =>
    createSender({ store, config, now: clock.now, random: () => 0.5, timeoutMs: 500, ...opts });

  return {
    dir,
    dbFile,
    db,
    store,
    clock,
    fakes,
    key,
    ring,
    connections,
    client,
    lead,
    config,
    addEvent,
    sender,
    pass: async ({ retriesOnly, ...opts } = {}) => (await sender(opts)).runPass({ retriesOnly: retriesOnly ?? false }),
    async close() {
      await fakes.close();
      if (db.open) db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An outbox row as stored. */
export interface OutboxState {
  id: number;
  status: string;
  due_at: string;
  attempts: number;
  first_attempt_at: string | null;
  lease_owner: string | null;
  lease_until: string | null;
  last_error: string | null;
}

export function outboxRow(db: Db, eventId: string, platform: Platform): OutboxState {
  return db
    .prepare('SELECT id, status, due_at, attempts, first_attempt_at, lease_owner, lease_until, last_error FROM outbox WHERE event_id = ? AND platform = ?')
    .get(eventId, platform) as OutboxState;
}

/** Audit rows of one event on one platform, oldest first. */
export function auditRows(db: Db, eventId: string, platform: Platform): Array<Record<string, unknown>> {
  // As the store reads them: what every record would repeat is stored once (src/store/audit-row.ts).
  const rows = db
    .prepare(
      `SELECT *, ${AUDIT_CLIENT_SQL} AS client_id, ${AUDIT_STAGE_SQL} AS stage_id, ${AUDIT_EVENT_SQL} AS event_id, ${AUDIT_PASS_SQL} AS pass_id, ${AUDIT_REQUEST_SQL} AS request_id
       FROM send_attempts WHERE ${AUDIT_EVENT_SQL} = ? AND platform = ? ORDER BY id`,
    )
    .all(eventId, platform) as Array<Parameters<typeof readAuditText>[0] & Record<string, unknown>>;
  return rows.map((r) => ({ ...r, ...readAuditText(r) }));
}

/** Counted keys of a fake platform that contain the event id. */
export function receipts(fakes: FakePlatforms, platform: 'meta' | 'google' | 'tiktok', eventId: string): number[] {
  return [...fakes.counted(platform)].filter(([key]) => key.includes(eventId)).map(([, n]) => n);
}

/** How often the fake Microsoft received the conversion of a click: Microsoft keys on the click, goal and time, not on an event id. */
export function microsoftReceipts(fakes: FakePlatforms, msclkid: string): number[] {
  return [...fakes.counted('microsoft')].filter(([key]) => key.includes(`:${msclkid.toLowerCase()}:`)).map(([, n]) => n);
}
