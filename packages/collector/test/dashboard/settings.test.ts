/** The Settings page (admin): keys and the secrets under each, the schedule, what is kept, the OAuth apps. */
import { randomBytes } from 'node:crypto';
import { parseKeyRing } from '@pruuv/sender';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createConnections } from '../../src/domain/connections.js';
import { startServer } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';
import { startCollector, tempDir, type Running } from '../helpers/harness.js';
import { addUser, browser } from './helpers.js';

let dir: ReturnType<typeof tempDir> | undefined;
let run: Running | undefined;
afterEach(async () => {
  await run?.close();
  dir?.cleanup();
});

describe('Settings page', () => {
  it('names the keys, counts the secrets under each, warns of an old key and of a missing one, and shows the next pass', async () => {
    const oldKey = randomBytes(32).toString('base64');
    const newKey = randomBytes(32).toString('base64');
    const lostKey = randomBytes(32).toString('base64');
    const oldRing = parseKeyRing(oldKey);
    const ring = parseKeyRing(`${newKey},${oldKey}`);
    dir = tempDir();
    run = await startCollector({
      dbFile: `${dir.dir}/pruuv.db`,
      app: {
        dashboard: { settings: { cron: '0 3 * * *', keyRing: ring, retentionDays: 400 } },
        publicUrl: 'https://collector.agency.example',
        oauth: { platforms: { microsoft: { app: { clientId: 'azure-app-1234', clientSecret: 'azure-secret-value' }, urls: {} } } },
      },
    });
    const client = await run.store.clients.create({ name: 'Acme' });
    const connections = createConnections(run.store);
    await connections.set({ client_id: client.id, platform: 'meta', fields: { pixel_id: '123', access_token: 'EAAB-secret-token' } }, oldRing);
    await connections.set({ client_id: client.id, platform: 'tiktok', fields: { pixel_code: 'C1', access_token: 'tt-secret' } }, ring);
    await connections.set({ client_id: client.id, platform: 'google', fields: { api: 'data-manager', customer_id: '1234567890', conversion_action_id: '9', client_id: 'c', client_secret: 's', refresh_token: 'r' } }, parseKeyRing(lostKey));
    await addUser(run.store, 'ada@agency.example', 'admin');
    const b = browser(run.url);
    await b.signIn('ada@agency.example');
    const res = await b.get('/dashboard/settings');
    expect(res.status).toBe(200);
    const html = (await res.text()).replace(/<!-- -->/g, '');
    expect(html).toContain(`<code>${ring.currentId}</code> <span class="badge ok">encrypts new secrets</span>`);
    expect(html).toContain(`<code>${oldRing.currentId}</code> <span class="badge muted">decrypts only</span>`);
    expect(html).toMatch(/Connections with secrets<\/dt><dd>3/);
    expect(html).toContain(`1 secret under key ${parseKeyRing(lostKey).currentId}, which is not configured`);
    expect(html).toContain('Some secrets are still under an older key');
    expect(html).toContain('<code>0 3 * * *</code>');
    expect(html).toContain('2026-03-03 03:00 UTC');
    expect(html).not.toContain('EAAB-secret-token');
    expect(html).not.toContain(newKey);
    // What is kept: the retention of this process, not a default.
    expect(html).toMatch(/Events, their sends and audit records<\/dt><dd>\s*400 days \(<code>PRUUV_RETENTION_DAYS<\/code>\)/);
    // The OAuth apps: the configured one with its client id (never its secret), the others with what to set; each redirect URI under the public URL.
    const row = (platform: string): string => html.match(new RegExp(`<tr id="oauth-app-${platform}">([\\s\\S]*?)</tr>`))?.[1] ?? '';
    expect(row('microsoft')).toContain('configured</span> client id <code>azure-app-1234</code>');
    expect(row('microsoft')).toContain('<code>https://collector.agency.example/oauth/microsoft/callback</code>');
    expect(row('google')).toContain('not configured');
    expect(row('google')).toContain('<code>PRUUV_GOOGLE_OAUTH_CLIENT_ID</code>');
    expect(row('meta')).toContain('<code>https://collector.agency.example/oauth/meta/callback</code>');
    expect(html).not.toContain('azure-secret-value');
    expect(html).not.toContain('PRUUV_PUBLIC_URL</code> is not set');
  });

  it('says when no key is set, and is for admins only', async () => {
    dir = tempDir();
    run = await startCollector({ dbFile: `${dir.dir}/pruuv.db`, app: { dashboard: { settings: { cron: '0 3 * * *' } } } });
    await addUser(run.store, 'ada@agency.example', 'admin');
    await addUser(run.store, 'sam@agency.example', 'staff');
    const admin = browser(run.url);
    await admin.signIn('ada@agency.example');
    const html = (await (await admin.get('/dashboard/settings')).text()).replace(/<!-- -->/g, '');
    expect(html).toContain('is not set: credentials cannot be stored or used');
    // Without a public URL the redirect URIs are this address; the default retention is shown.
    expect(html).toContain('<code>PRUUV_PUBLIC_URL</code> is not set');
    expect(html).toContain(`<code>${run.url}/oauth/google/callback</code>`);
    expect(html).toMatch(/<dd>\s*180 days \(<code>PRUUV_RETENTION_DAYS/);
    const staff = browser(run.url);
    await staff.signIn('sam@agency.example');
    expect((await staff.get('/dashboard/settings')).status).toBe(403);
  });

  it('shows the retention the server was started with (PRUUV_RETENTION_DAYS)', async () => {
    run = undefined; // this test starts the server itself
    dir = tempDir();
    const config = { ...loadConfig({ PRUUV_DB: `${dir.dir}/pruuv.db`, PRUUV_RETENTION_DAYS: '365' }), port: 0, host: '127.0.0.1' };
    const server = await startServer(config, { logger: createLogger({ level: 'silent' }), handleSignals: false, send: { mode: 'off' } });
    try {
      await addUser(server.store, 'ada@agency.example', 'admin');
      const admin = browser(server.url);
      await admin.signIn('ada@agency.example');
      const html = (await (await admin.get('/dashboard/settings')).text()).replace(/<!-- -->/g, '');
      expect(html).toMatch(/<dd>\s*365 days \(<code>PRUUV_RETENTION_DAYS/);
    } finally {
      await server.close();
    }
  });
});
