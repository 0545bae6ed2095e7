/**
 * `npm start`: the collector on a local SQLite file with a demo client, its `lead` and `sale`
 * stages, and the example landing page at /demo/. Run as `node packages/collector/dist/demo.js`;
 * importing this module runs nothing (tests call {@link setupDemo}).
 */
import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { curlExample, webhookUrl } from './admin-input.js';
import { ConfigError, loadConfig } from './config.js';
import { openDb } from './db.js';
import { createLogger } from './logger.js';
import { startServer } from './server.js';
import { createStore } from './store/index.js';
import type { Client, Stage, Store } from './store/types.js';

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
export function setupDemo(store: Store, baseUrl: string): DemoSetup {
  const origins = demoOrigins(baseUrl);
  const existing = store.clients.list().find((c) => c.name === DEMO_CLIENT_NAME);
  const client = existing === undefined ? store.clients.create({ name: DEMO_CLIENT_NAME, origins }) : (store.clients.setOrigins(existing.id, origins) ?? existing);

  const stages = {} as DemoSetup['stages'];
  for (const { key, name } of DEMO_STAGES) {
    const found = store.stages.byKey(client.id, key);
    let stage: Stage;
    let token: string;
    if (found === undefined) {
      ({ stage, token } = store.stages.create({ client_id: client.id, key, name }));
    } else {
      stage = found;
      const rotated = store.stages.rotateToken(found.id);
      if (rotated === undefined) throw new Error(`Demo stage ${found.id} vanished while rotating its token`);
      token = rotated;
    }
    stages[key] = { stage, token, webhook_url: webhookUrl(baseUrl, stage.id) };
  }
  return { client, created: existing === undefined, stages };
}

/** Where the example landing page lives, from `src/` or `dist/` alike. */
export const DEMO_DIR = fileURLToPath(new URL('../../../examples/landing-page/', import.meta.url));

/** The text `npm start` prints: URLs, stage ids, tokens, a curl line and how to list events. */
export function demoBanner(setup: DemoSetup, options: { baseUrl: string; dbFile: string; scriptPath: string }): string {
  const { lead, sale } = setup.stages;
  // Relative to where `npm start` ran when the file is below it, absolute otherwise.
  const fromCwd = relative(process.cwd(), resolve(options.dbFile));
  const shownDb = fromCwd !== '' && !fromCwd.startsWith('..') && !isAbsolute(fromCwd) ? fromCwd : resolve(options.dbFile);
  return [
    '',
    'Pruuv demo collector is running.',
    '',
    `  Demo landing page:  ${options.baseUrl}/demo/`,
    `  Pixel script:       ${options.baseUrl}${options.scriptPath}  (site key ${setup.client.site_key})`,
    `  Database:           ${shownDb}`,
    '',
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

  const db = openDb(config.dbFile);
  const store = createStore(db);
  let setup: DemoSetup;
  try {
    setup = setupDemo(store, baseUrl);
  } finally {
    store.close();
    if (db.open) db.close();
  }

  const logger = createLogger({ level: config.logLevel, ...(config.logPretty !== undefined ? { pretty: config.logPretty } : {}) });
  await startServer(config, { logger, app: { demoDir: DEMO_DIR, demoSiteKey: setup.client.site_key } });
  process.stdout.write(demoBanner(setup, { baseUrl, dbFile: config.dbFile, scriptPath: config.scriptPath }));
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
