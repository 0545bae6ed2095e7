/**
 * The dashboard's shell over real HTTP on a real SQLite file: sign-in, the
 * session cookie, sign-out, the write checks (same origin, CSRF token), the
 * security headers and escaping.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DASHBOARD_CSP } from '../../src/dashboard/http.js';
import { startCollector, tempDir, type Running } from '../helpers/harness.js';
import { addUser, browser, PASSWORD } from './helpers.js';

let dir: ReturnType<typeof tempDir>;
let run: Running;
beforeEach(async () => {
  dir = tempDir();
  run = await startCollector({ dbFile: `${dir.dir}/pruuv.db` });
});
afterEach(async () => {
  await run.close();
  dir.cleanup();
});

describe('dashboard shell', () => {
  it('sends a visitor without a session to sign-in, and back to the page asked for after it', async () => {
    await addUser(run.store, 'ada@agency.example', 'admin');
    const b = browser(run.url);
    const first = await b.get('/dashboard/events?client=x');
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/dashboard/sign-in?next=%2Fdashboard%2Fevents%3Fclient%3Dx');
    const page = await b.get('/dashboard/sign-in?next=%2Fdashboard%2Fevents');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<input type="hidden" name="next" value="/dashboard/events"/>');
    const signedIn = await b.post('/dashboard/sign-in', { email: 'ada@agency.example', password: PASSWORD, next: '/dashboard/events' });
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get('location')).toBe('/dashboard/events');
    // Never a redirect off-site.
    const evil = await browser(run.url).post('/dashboard/sign-in', { email: 'ada@agency.example', password: PASSWORD, next: '//evil.example/x' });
    expect(evil.headers.get('location')).toBe('/dashboard');
  });

  it('sets an HttpOnly SameSite=Lax session cookie (not Secure on plain-HTTP loopback), a new id at each sign-in', async () => {
    await addUser(run.store, 'ada@agency.example', 'admin');
    const b = browser(run.url);
    b.cookie = 'pruuv_session=planted-by-an-attacker-0000000000000000000000';
    const res = await b.signIn('ada@agency.example');
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('pruuv_session='))!;
    expect(cookie).toMatch(/^pruuv_session=[A-Za-z0-9_-]{43}; Max-Age=604800; Path=\/; HttpOnly; SameSite=Lax$/);
    expect(b.cookie).not.toContain('planted');
    const first = b.cookie;
    await b.signIn('ada@agency.example');
    expect(b.cookie).not.toBe(first);
    expect((await b.get('/dashboard')).status).toBe(200);
  });

  it('answers one message for a wrong password and an unknown email, and throttles', async () => {
    await addUser(run.store, 'ada@agency.example', 'admin');
    const b = browser(run.url);
    const wrong = await b.signIn('ada@agency.example', 'not the password');
    const unknown = await b.signIn('nobody@agency.example', PASSWORD);
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(await wrong.text()).toContain('Wrong email or password.');
    expect(await unknown.text()).toContain('Wrong email or password.');
    // Five failures for the account (one above, four here) lock it, even for the right password.
    for (let i = 0; i < 4; i++) await b.signIn('ada@agency.example', `guess ${i} guess`);
    const locked = await b.signIn('ada@agency.example');
    expect(locked.status).toBe(429);
    expect(locked.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await locked.text()).toMatch(/Too many failed sign-ins. Try again in 15 minutes./);
  });

  it('refuses a sign-in or a sign-out from another site, and a write without the CSRF token', async () => {
    await addUser(run.store, 'ada@agency.example', 'admin');
    const attacker = browser(run.url);
    const cross = await attacker.post('/dashboard/sign-in', { email: 'ada@agency.example', password: PASSWORD }, { 'sec-fetch-site': 'cross-site' });
    expect(cross.status).toBe(403);
    const noMetadata = await fetch(`${run.url}/dashboard/sign-in`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' }, body: 'email=a&password=b' });
    expect(noMetadata.status).toBe(403);
    const b = browser(run.url);
    await b.signIn('ada@agency.example');
    await b.get('/dashboard');
    const forged = await b.post('/dashboard/sign-out', { _csrf: 'forged' });
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain('This form has expired');
    const crossSite = await b.post('/dashboard/sign-out', {}, { 'sec-fetch-site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    expect((await b.get('/dashboard')).status).toBe(200);
    const out = await b.post('/dashboard/sign-out', {});
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/dashboard/sign-in?signed-out=1');
    expect(b.cookie).toBeUndefined();
  });

  it('ends the session for good on sign-out: the old cookie opens nothing', async () => {
    await addUser(run.store, 'ada@agency.example', 'admin');
    const b = browser(run.url);
    await b.signIn('ada@agency.example');
    const stolen = b.cookie!;
    await b.get('/dashboard');
    await b.post('/dashboard/sign-out', {});
    const replay = await fetch(`${run.url}/dashboard`, { redirect: 'manual', headers: { cookie: stolen } });
    expect(replay.status).toBe(303);
  });

  it('signs out everywhere', async () => {
    await addUser(run.store, 'ada@agency.example', 'admin');
    const laptop = browser(run.url);
    const phone = browser(run.url);
    await laptop.signIn('ada@agency.example');
    await phone.signIn('ada@agency.example');
    await laptop.get('/dashboard');
    expect((await laptop.post('/dashboard/sign-out-everywhere', {})).status).toBe(303);
    expect((await phone.get('/dashboard')).status).toBe(303);
  });

  it('serves every page with a CSP that allows no inline script or style, and no inline script or style in the HTML', async () => {
    await addUser(run.store, 'ada@agency.example', 'admin');
    const b = browser(run.url);
    const signIn = await b.get('/dashboard/sign-in');
    expect(signIn.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
    expect(DASHBOARD_CSP).toContain("script-src 'self'");
    expect(DASHBOARD_CSP).not.toContain('unsafe-inline');
    expect(signIn.headers.get('cache-control')).toBe('no-store');
    const pages = [await signIn.text()];
    await b.signIn('ada@agency.example');
    for (const path of ['/dashboard', '/dashboard/nope']) pages.push(await (await b.get(path)).text());
    for (const [i, html] of pages.entries()) {
      const path = String(i);
      expect(html.startsWith('<!doctype html><html lang="en">'), path).toBe(true);
      // Scripts load from files; data for them comes in blocks browsers never run (`type="application/json"`).
      expect(html, path).not.toMatch(/<script(?![^>]*\b(?:src=|type="application\/json"))[^>]*>/);
      expect(html, path).not.toMatch(/\sstyle=/);
      expect(html, path).not.toMatch(/\son[a-z]+=/);
    }
  });

  it('renders stored hostile text as text', async () => {
    await addUser(run.store, 'ada@agency.example', 'admin');
    await run.store.clients.create({ name: '<script>alert(1)</script><img src=x onerror=alert(2)>' });
    const b = browser(run.url);
    await b.signIn('ada@agency.example');
    const html = await (await b.get('/dashboard')).text();
    expect(html).toContain('&lt;script>alert(1)&lt;/script>&lt;img src=x onerror=alert(2)>');
    expect(html).not.toContain('<script>alert(1)');
  });

  it('serves its assets with a content hash and a year of caching, and says how to make the first account', async () => {
    const html = await (await browser(run.url).get('/dashboard/sign-in')).text();
    expect(html).toContain('No account exists yet');
    const css = /href="(\/dashboard\/assets\/dashboard-[A-Za-z0-9_-]{12}\.css)"/.exec(html)![1]!;
    const res = await fetch(`${run.url}${css}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect((await fetch(`${run.url}/dashboard/assets/nope.css`)).status).toBe(404);
  });
});
