/**
 * The clients page over real HTTP on a real SQLite file: adding and editing a
 * client, the install snippet, the "is the pixel installed?" check after real
 * beacons, escaping, and what a client user may see and do.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startCollector, seedClient, tempDir, type Running, type StartOptions } from '../helpers/harness.js';
import { beacon, postBeacon } from '../helpers/payloads.js';
import { addUser, browser, type Browser } from './helpers.js';
import { pageText, preText } from './page-text.js';

let dir: ReturnType<typeof tempDir> | undefined;
let run: Running | undefined;
afterEach(async () => {
  await run?.close();
  dir?.cleanup();
  run = undefined;
  dir = undefined;
});

async function start(app: StartOptions['app'] = {}): Promise<Running> {
  dir = tempDir();
  run = await startCollector({ dbFile: `${dir.dir}/pruuv.db`, app });
  return run;
}

async function signedIn(r: Running, role: 'admin' | 'staff' | 'client' = 'admin', clientId?: string): Promise<Browser> {
  const email = `${role}-${Math.random().toString(36).slice(2)}@agency.example`;
  await addUser(r.store, email, role, clientId);
  const b = browser(r.url);
  await b.signIn(email);
  await b.get('/dashboard'); // the session's CSRF token
  return b;
}

const HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)>';

describe('clients page', () => {
  it('adds a client, shows its site key, and edits its name and origins', async () => {
    const r = await start();
    const b = await signedIn(r, 'staff');
    const list = await b.get('/dashboard/clients');
    expect(list.status).toBe(200);
    expect(await list.text()).toContain('No clients yet.');

    const added = await b.post('/dashboard/clients', { name: ' Acme Ltd ', origins: 'https://www.acme.example\nHTTPS://Shop.Acme.example:443/' });
    expect(added.status).toBe(303);
    const location = added.headers.get('location')!;
    expect(location).toMatch(/^\/dashboard\/clients\/cli_[0-9A-Za-z]{16}\?created=1$/);
    const [client] = await r.store.clients.list();
    expect(client).toMatchObject({ name: 'Acme Ltd', origins: ['https://shop.acme.example', 'https://www.acme.example'] });
    const page = await (await b.get(location)).text();
    expect(page).toContain('Client added.');
    expect(page).toContain(client!.site_key);
    expect(pageText(page)).toContain('https://shop.acme.example');

    const edited = await b.post(`/dashboard/clients/${client!.id}`, { name: 'Acme Group', origins: 'https://acme.example' });
    expect(edited.status).toBe(303);
    expect(edited.headers.get('location')).toBe(`/dashboard/clients/${client!.id}?saved=1`);
    expect(await r.store.clients.get(client!.id)).toMatchObject({ name: 'Acme Group', origins: ['https://acme.example'], site_key: client!.site_key });
    // The pixel's cached client follows at once.
    expect((await r.store.clients.bySiteKey(client!.site_key))?.origins).toEqual(['https://acme.example']);
  });

  it('refuses an invalid origin or an empty name, keeps what was typed, and changes nothing', async () => {
    const r = await start();
    const b = await signedIn(r);
    const bad = await b.post('/dashboard/clients', { name: 'Acme', origins: 'https://ok.example\nftp://files.acme.example' });
    expect(bad.status).toBe(400);
    const html = await bad.text();
    expect(html).toContain('only http:// and https:// origins can send pixel events');
    expect(pageText(html)).toContain('ftp://files.acme.example');
    expect(await r.store.clients.list()).toEqual([]);

    const { client } = await seedClient(r.store);
    const empty = await b.post(`/dashboard/clients/${client.id}`, { name: '   ', origins: 'https://changed.example' });
    expect(empty.status).toBe(400);
    expect(await empty.text()).toContain('Name must not be empty');
    expect(await r.store.clients.get(client.id)).toEqual(client);
  });

  it('gives the script tag and the npm snippet with the public URL, the script path and the site key, with copy buttons', async () => {
    const r = await start({ publicUrl: 'https://collect.agency.example' });
    const { client } = await seedClient(r.store);
    const b = await signedIn(r);
    const html = await (await b.get(`/dashboard/clients/${client.id}`)).text();
    expect(preText(html, 'snippet-script')).toBe(`<script async src="https://collect.agency.example/s.js" data-site="${client.site_key}"></script>`);
    expect(preText(html, 'snippet-npm-install')).toBe('npm install @pruuv/pixel');
    expect(preText(html, 'snippet-npm-init')).toContain(`init({ site: '${client.site_key}', endpoint: 'https://collect.agency.example' });`);
    expect(preText(html, 'snippet-npm-init')).toContain(`import { init, track } from '@pruuv/pixel';`);
    for (const id of ['snippet-script', 'snippet-npm-install', 'snippet-npm-init']) expect(html).toContain(`data-copy="#${id}"`);
    // The served script is where the tag points.
    const script = await fetch(`${r.url}/s.js`);
    expect(script.status).toBe(200);
  });

  it("uses the request's own origin without a public URL, and a queued init for a custom ingest path", async () => {
    const r = await start({ ingestPath: '/x9', scriptPath: '/p.js' });
    const { client } = await seedClient(r.store);
    const b = await signedIn(r);
    const html = await (await b.get(`/dashboard/clients/${client.id}`)).text();
    const tag = preText(html, 'snippet-script');
    expect(tag).toContain(`Pruuv.init({site:'${client.site_key}',ingestPath:'/x9'})</script>`);
    expect(tag).toContain(`<script async src="${r.url}/p.js"></script>`);
    expect(preText(html, 'snippet-npm-init')).toContain(`init({ site: '${client.site_key}', endpoint: '${r.url}', ingestPath: '/x9' });`);
  });

  it('shows when the pixel was last heard from on each allowed origin, after real beacons, writing at most once a minute', async () => {
    const r = await start();
    const { client } = await seedClient(r.store, ['https://www.shop.example', 'https://blog.shop.example']);
    const b = await signedIn(r);
    let page = pageText(await (await b.get(`/dashboard/clients/${client.id}`)).text());
    expect(page).toContain('a new install shows here within a minute of its first beacon');
    expect(page.match(/never seen/g)).toHaveLength(2);

    expect((await postBeacon(r, beacon(client.site_key))).status).toBe(200);
    const first = r.clock.now().toISOString();
    expect(await r.store.pixelOrigins.list({ client_id: client.id })).toEqual([{ client_id: client.id, origin: 'https://www.shop.example', last_seen_at: first }]);
    page = pageText(await (await b.get(`/dashboard/clients/${client.id}`)).text());
    expect(page).toMatch(/https:\/\/www\.shop\.example\s+installed\s+seen less than a minute ago/);
    expect(page).toMatch(/https:\/\/blog\.shop\.example\s+never seen/);

    // Within the minute: not written again. After it: written.
    r.clock.advance(30_000);
    await postBeacon(r, beacon(client.site_key, { reference: 'v2' }));
    expect((await r.store.pixelOrigins.list({ client_id: client.id }))[0]?.last_seen_at).toBe(first);
    r.clock.advance(31_000);
    await postBeacon(r, beacon(client.site_key, { reference: 'v3' }));
    expect((await r.store.pixelOrigins.list({ client_id: client.id }))[0]?.last_seen_at).toBe(r.clock.now().toISOString());

    r.clock.advance(3 * 60_000);
    page = pageText(await (await b.get(`/dashboard/clients/${client.id}`)).text());
    expect(page).toMatch(/https:\/\/www\.shop\.example\s+installed\s+seen 3 minutes ago/);
    // A beacon from an origin the client does not list records nothing.
    await postBeacon(r, beacon(client.site_key), { origin: 'https://evil.example' });
    expect(await r.store.pixelOrigins.list({ client_id: client.id })).toHaveLength(1);
    // The list shows the latest hit too.
    expect(pageText(await (await b.get('/dashboard/clients')).text())).toMatch(/installed\s+seen 3 minutes ago/);
  });

  it('renders a hostile client name and origin list as text', async () => {
    const r = await start();
    const b = await signedIn(r);
    const added = await b.post('/dashboard/clients', { name: HOSTILE, origins: '' });
    expect(added.status).toBe(303);
    for (const path of ['/dashboard/clients', added.headers.get('location')!]) {
      const html = await (await b.get(path)).text();
      expect(html).toContain('&lt;script>alert(1)&lt;/script>&lt;img src=x onerror=alert(2)>');
      expect(html).not.toContain('<script>alert(1)');
      expect(html).not.toMatch(/<img src=x/);
      expect(html, path).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(html, path).not.toMatch(/\sstyle=/);
    }
    // A refused name is shown back as text too.
    const bad = await b.post('/dashboard/clients', { name: HOSTILE, origins: `javascript:alert(1)` });
    expect(bad.status).toBe(400);
    expect(await bad.text()).not.toContain('<script>alert(1)');
  });
});

describe('clients page for a client user', () => {
  it('shows its own client only, without forms, and 404 for another client by URL', async () => {
    const r = await start();
    const mine = (await seedClient(r.store, ['https://mine.example'])).client;
    const theirs = (await seedClient(r.store, ['https://theirs.example'])).client;
    await r.store.clients.rename(theirs.id, 'Theirs Ltd');
    await r.store.pixelOrigins.seen(theirs.id, 'https://theirs.example', r.clock.now());
    const b = await signedIn(r, 'client', mine.id);
    const list = await (await b.get('/dashboard/clients')).text();
    expect(list).toContain(mine.site_key);
    expect(list).not.toContain(theirs.site_key);
    expect(list).not.toContain('Theirs Ltd');
    expect(list).not.toContain('theirs.example');
    expect(list).not.toContain('<form method="post" action="/dashboard/clients"');
    const own = await b.get(`/dashboard/clients/${mine.id}`);
    expect(own.status).toBe(200);
    const html = await own.text();
    expect(html).toContain('snippet-script');
    expect(html).not.toContain(`action="/dashboard/clients/${mine.id}"`);
    const other = await b.get(`/dashboard/clients/${theirs.id}`);
    expect(other.status).toBe(404);
    const otherHtml = await other.text();
    expect(otherHtml).not.toContain(theirs.site_key);
    expect(otherHtml).not.toContain('Theirs Ltd');
  });

  it('is refused every write with 403, its own client included, and nothing changes', async () => {
    const r = await start();
    const mine = (await seedClient(r.store)).client;
    const theirs = (await seedClient(r.store)).client;
    const b = await signedIn(r, 'client', mine.id);
    await b.get('/dashboard/clients');
    expect((await b.post('/dashboard/clients', { name: 'Mine too', origins: '' })).status).toBe(403);
    expect((await b.post(`/dashboard/clients/${mine.id}`, { name: 'Renamed', origins: '' })).status).toBe(403);
    expect((await b.post(`/dashboard/clients/${theirs.id}`, { name: 'Renamed', origins: '' })).status).toBe(403);
    expect((await r.store.clients.list()).map((c) => c.name)).toEqual(['Acme', 'Acme']);
  });
});
