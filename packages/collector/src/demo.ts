/**
 * `npm start`: the collector on a local SQLite file with a demo client, its `lead` and `sale`
 * stages, and the example landing page at /demo/, plus a SANDBOX of fake ad platforms in the
 * same process that the demo client's connections point at, with a send pass every 15 s.
 * Run as `node packages/collector/dist/demo.js`; importing this module runs nothing (tests
 * call {@link setupDemo} and {@link setupDemoSending}).
 *
 * A development path: it loads the fake platforms of the private `@pruuv/fakes` package (a dev
 * dependency), so it is left out of the published package (`files` in package.json) and no
 * library entry imports it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseKeyRing, type KeyRing } from '@pruuv/sender';
import { FAKE_DEFAULTS, sandboxBanner, startFakePlatforms, type FakePlatforms } from '@pruuv/fakes';
import { ConfigError, loadConfig } from './config.js';
import { curlExample, webhookUrl } from './domain/admin-input.js';
import { createConnections } from './domain/connections.js';
import { OUTBOX_PLATFORMS } from './domain/outbox.js';
import { startServer } from './http/server.js';
import { createLogger } from './logger.js';
import { seedDemoHistory } from './demo-history.js';
import { hashPassword } from './domain/passwords.js';
import { openStore } from './store/open.js';
import type { Client, Stage, Store } from './store/types.js';

/** How often the demo runs a send pass (`pruuv serve` runs daily at 03:00 UTC). */
export const DEMO_SEND_EVERY_MS = 15_000;

/** File, next to the demo database, holding the demo's generated encryption key. */
export const DEMO_KEY_FILE = 'demo-encryption.key';

/** Name of the demo client; {@link setupDemo} finds it by this name on later starts. */
export const DEMO_CLIENT_NAME = 'Pruuv demo';

/** The demo's stages, in funnel order. */
export const DEMO_STAGES = [
  { key: 'lead', name: 'Lead' },
  { key: 'sale', name: 'Sale' },
] as const;

/** Key of a demo stage. */
export type DemoStageKey = (typeof DEMO_STAGES)[number]['key'];

/** What {@link setupDemo} returns. */
export interface DemoSetup {
  client: Client;
  /** Whether this call created the client (first start on this database). */
  created: boolean;
  /** Each demo stage with a freshly rotated, working webhook token and its URL. */
  stages: Record<DemoStageKey, { stage: Stage; token: string; webhook_url: string }>;
}

/**
 * The page origins of a local collector: its own origin plus the `localhost`/`127.0.0.1`
 * twin, because browsers treat them as different origins and newcomers type either.
 */
export function demoOrigins(baseUrl: string): string[] {
  const url = new URL(baseUrl);
  const origins = new Set([url.origin]);
  const twin = url.hostname === 'localhost' ? '127.0.0.1' : url.hostname === '127.0.0.1' ? 'localhost' : undefined;
  if (twin !== undefined) {
    const other = new URL(url.origin);
    other.hostname = twin;
    origins.add(other.origin);
  }
  return [...origins];
}

/**
 * Creates the demo client and its stages once, and on every later call reuses them. Tokens
 * are stored only as hashes, so they cannot be shown again: the demo (only the demo)
 * rotates both stage tokens on each start and returns the new ones. The client's origins
 * are reset to `baseUrl`'s, so a restart on another port keeps the pixel working.
 */
export async function setupDemo(store: Store, baseUrl: string): Promise<DemoSetup> {
  const origins = demoOrigins(baseUrl);
  const existing = (await store.clients.list()).find((c) => c.name === DEMO_CLIENT_NAME);
  const client =
    existing === undefined
      ? await store.clients.create({ name: DEMO_CLIENT_NAME, origins })
      : ((await store.clients.setOrigins(existing.id, origins)) ?? existing);

  const stages = {} as DemoSetup['stages'];
  for (const { key, name } of DEMO_STAGES) {
    const found = await store.stages.byKey(client.id, key);
    let stage: Stage;
    let token: string;
    if (found === undefined) {
      ({ stage, token } = await store.stages.create({ client_id: client.id, key, name }));
    } else {
      stage = found;
      const rotated = await store.stages.rotateToken(found.id);
      if (rotated === undefined) throw new Error(`Demo stage ${found.id} vanished while rotating its token`);
      token = rotated;
    }
    stages[key] = { stage, token, webhook_url: webhookUrl(baseUrl, stage.id) };
  }
  return { client, created: existing === undefined, stages };
}

/** The demo's dashboard account. */
export const DEMO_ADMIN_EMAIL = 'demo@pruuv.example';

/**
 * The demo's dashboard admin, with a new random password at every start (only its hash is
 * stored, so it cannot be shown again; DEMO ONLY, like the rotated webhook tokens). Created
 * on the first start.
 */
export async function setupDemoAdmin(store: Store, now: Date = new Date()): Promise<{ email: string; password: string }> {
  const password = randomBytes(12).toString('base64url');
  const hash = await hashPassword(password);
  const existing = await store.users.byEmail(DEMO_ADMIN_EMAIL);
  if (existing === undefined) await store.users.create({ email: DEMO_ADMIN_EMAIL, role: 'admin', password_hash: hash }, now);
  else await store.users.setPassword(existing.id, hash, now);
  return { email: DEMO_ADMIN_EMAIL, password };
}

/** The demo's key ring and where it came from. */
export interface DemoKey {
  ring: KeyRing;
  /** The key file when the demo generated or reused its own key; `undefined` when `PRUUV_ENCRYPTION_KEY` is set. */
  file?: string;
  /** Whether this start generated the key. */
  generated: boolean;
}

/**
 * The demo's encryption key: `PRUUV_ENCRYPTION_KEY` when set, else a key generated once into
 * {@link DEMO_KEY_FILE} next to the database (mode 0600) and reused. DEMO ONLY: a real
 * deployment keeps its key outside the data folder, in `PRUUV_ENCRYPTION_KEY`.
 */
export function demoKey(configured: KeyRing | undefined, dbFile: string): DemoKey {
  if (configured !== undefined) return { ring: configured, generated: false };
  const file = join(dirname(resolve(dbFile)), DEMO_KEY_FILE);
  if (existsSync(file)) return { ring: parseKeyRing(readFileSync(file, 'utf8').trim()), file, generated: false };
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  return { ring: parseKeyRing(readFileSync(file, 'utf8').trim()), file, generated: true };
}

/**
 * Points the demo client's Meta, Google (Data Manager), TikTok and Microsoft connections at the fake
 * platforms' seeded accounts. Re-created at every start, so a key change cannot strand them.
 */
export async function setupDemoSending(store: Store, client: Client, ring: KeyRing): Promise<void> {
  for (const platform of OUTBOX_PLATFORMS) await store.connections.remove(client.id, platform);
  const connections = createConnections(store);
  const d = FAKE_DEFAULTS;
  await connections.set({ client_id: client.id, platform: 'meta', fields: { pixel_id: d.meta.pixelId, access_token: d.meta.token } }, ring);
  await connections.set(
    {
      client_id: client.id,
      platform: 'google',
      fields: {
        api: 'data-manager',
        customer_id: d.google.customerId,
        conversion_action_id: d.google.conversionActionId,
        client_id: d.google.clientId,
        client_secret: d.google.clientSecret,
        refresh_token: d.google.refreshToken,
      },
    },
    ring,
  );
  await connections.set({ client_id: client.id, platform: 'tiktok', fields: { pixel_code: d.tiktok.pixelCode, access_token: d.tiktok.token } }, ring);
  // The demo has no PRUUV_MICROSOFT_*: the fake's developer token and Azure app go into the connection.
  await connections.set(
    {
      client_id: client.id,
      platform: 'microsoft',
      fields: {
        customer_id: d.microsoft.customerId,
        account_id: d.microsoft.accountId,
        goal_name: d.microsoft.goalName,
        enhanced_conversions: true,
        refresh_token: d.microsoft.refreshToken,
        developer_token: d.microsoft.developerToken,
        client_id: d.microsoft.clientId,
        client_secret: d.microsoft.clientSecret,
      },
    },
    ring,
  );
}

/** The banner lines about conversion sending in the sandbox, clearly labelled SANDBOX. */
export function sendingBanner(fakes: Pick<FakePlatforms, 'urls'>, key: DemoKey): string {
  return [
    sandboxBanner(fakes),
    '',
    `  The demo client's Meta, Google, TikTok and Microsoft connections point at these fakes, and a send pass`,
    `  runs every ${DEMO_SEND_EVERY_MS / 1000} s (demo only: \`pruuv serve\` sends daily at 03:00 UTC, PRUUV_SEND_CRON).`,
    key.file !== undefined
      ? `  Encryption key: ${key.generated ? 'generated' : 'reused'} for the demo in ${key.file} (DEMO ONLY: a real deployment sets PRUUV_ENCRYPTION_KEY, e.g. from \`openssl rand -base64 32\`).`
      : '  Encryption key: PRUUV_ENCRYPTION_KEY.',
  ].join('\n');
}

/** Where the example landing page lives, from `src/` or `dist/` alike. */
export const DEMO_DIR = fileURLToPath(new URL('../../../examples/landing-page/', import.meta.url));

/** The database path as the banner shows it: relative to where `npm start` ran when below it, else absolute. */
export function shownPath(file: string): string {
  const fromCwd = relative(process.cwd(), resolve(file));
  return fromCwd !== '' && !fromCwd.startsWith('..') && !isAbsolute(fromCwd) ? fromCwd : resolve(file);
}

/** The text `npm start` prints: URLs, stage ids, tokens, a curl line and how to list events. */
export function demoBanner(
  setup: DemoSetup,
  options: { baseUrl: string; dbFile: string; scriptPath: string; sending?: string; admin?: { email: string; password: string } },
): string {
  const { lead, sale } = setup.stages;
  const shownDb = shownPath(options.dbFile);
  return [
    '',
    'Pruuv demo collector is running.',
    '',
    ...(options.admin !== undefined
      ? [
          `  Dashboard:          ${options.baseUrl}/dashboard`,
          `    sign in as ${options.admin.email} with the password ${options.admin.password}`,
          '    (demo only: a new password at every start; a real install adds users with `npx pruuv users add`)',
        ]
      : []),
    `  Demo landing page:  ${options.baseUrl}/demo/`,
    `  Pixel script:       ${options.baseUrl}${options.scriptPath}  (site key ${setup.client.site_key})`,
    `  Database:           ${shownDb}`,
    '',
    ...(options.sending !== undefined ? [options.sending, ''] : []),
    `  Stage "lead"  id ${lead.stage.id}`,
    `    webhook URL:   ${lead.webhook_url}`,
    `    webhook token: ${lead.token}`,
    `  Stage "sale"  id ${sale.stage.id}`,
    `    webhook URL:   ${sale.webhook_url}`,
    `    webhook token: ${sale.token}`,
    '',
    '  The demo rotates both webhook tokens at every start (tokens are stored only hashed,',
    '  so they cannot be shown again); a real deployment keeps them until',
    '  `npx pruuv stages rotate-token STAGE_ID`.',
    '',
    'Send a sale from a "CRM":',
    `  ${curlExample(sale.webhook_url, sale.token, 'demo-sale-001')}`,
    '',
    'Open the demo page, submit the form, then see the events:',
    `  npx pruuv events list --db ${shownDb}`,
    ...(options.sending !== undefined
      ? [
          '',
          'Within 15 s, watch the conversions go out to the sandbox and come back `sent`:',
          `  npx pruuv sends list --db ${shownDb}`,
          "Google's diagnostics of each batch (whether its clicks matched) follow from 30 minutes later:",
          `  npx pruuv sends google-status --db ${shownDb}`,
        ]
      : []),
    '',
    'Stop with Ctrl+C.',
    '',
  ].join('\n');
}

/** Runs the demo: setup on `PRUUV_DB` (default `./data/demo.db`), then serve on `PORT` (default 8787). */
export async function runDemo(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = loadConfig({ ...env, PRUUV_DB: env.PRUUV_DB || './data/demo.db' });
  // Local by default: the demo has no admin token and well-known demo data.
  config.host ??= '127.0.0.1';
  const baseUrl = config.publicUrl ?? `http://localhost:${config.port}`;

  // The sandbox: fake platforms in this process. The demo never sends to the real ones,
  // whatever PRUUV_*_API_URL say.
  const fakes = await startFakePlatforms({ maxRequestLog: 1000 });
  const key = demoKey(config.send.keyRing, config.dbFile);
  config.send = { ...config.send, keyRing: key.ring, urls: { ...fakes.urls } };

  let setup: DemoSetup;
  let admin: { email: string; password: string };
  try {
    const store = await openStore(config, { poolSize: config.poolSize });
    try {
      setup = await setupDemo(store, baseUrl);
      await setupDemoSending(store, setup.client, key.ring);
      admin = await setupDemoAdmin(store);
      // A week of history on the first start, so the dashboard has something to show.
      if (setup.created) {
        await seedDemoHistory(store, { client: setup.client, stages: { lead: setup.stages.lead.stage, sale: setup.stages.sale.stage }, keyRing: key.ring, urls: fakes.urls, now: new Date() });
      }
    } finally {
      await store.close();
    }
  } catch (error) {
    await fakes.close();
    throw error;
  }

  const logger = createLogger({ level: config.logLevel, ...(config.logPretty !== undefined ? { pretty: config.logPretty } : {}) });
  let running;
  try {
    running = await startServer(config, {
      logger,
      handleSignals: false,
      send: { mode: 'interval', everyMs: DEMO_SEND_EVERY_MS },
      app: { demoDir: DEMO_DIR, demoSiteKey: setup.client.site_key },
    });
  } catch (error) {
    await fakes.close();
    throw error;
  }
  const stop = (): void => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    void running.close().finally(() => fakes.close());
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.stdout.write(
    demoBanner(setup, {
      baseUrl,
      dbFile: config.dbFile,
      scriptPath: config.scriptPath,
      sending: sendingBanner(fakes, key),
      admin,
    }),
  );
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  runDemo().catch((error: unknown) => {
    const message = error instanceof ConfigError ? error.issues.join('; ') : error instanceof Error ? error.message : String(error);
    process.stderr.write(`error: ${message}\n`);
    process.exitCode = 1;
  });
}
