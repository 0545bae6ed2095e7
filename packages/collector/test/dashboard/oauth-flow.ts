/**
 * The steps of "Connect with OAuth" as the HTTP tests drive them, one copy for
 * every platform's file: a signed-in person on a client's Connections page,
 * Connect, the fake's consent redirect, the callback, a page, the picker's Save,
 * and the logs captured to check that nothing secret reaches them.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { expect } from 'vitest';
import type { Running } from '../helpers/harness.js';
import { addUser, browser, type Browser } from './helpers.js';
import { pageText } from './page-text.js';

/** A debug-level logger whose lines land in `logs`. */
export function capturedLogger(logs: string[]): Logger {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  return pino({ level: 'debug' }, sink);
}

/** A new person of `role`, signed in, on `clientId`'s Connections page (so the page's CSRF token is known). */
export async function signedInOn(run: Running, clientId: string, role: 'admin' | 'staff' = 'staff'): Promise<Browser> {
  const email = `${role}-${randomUUID()}@agency.example`;
  await addUser(run.store, email, role);
  const b = browser(run.url);
  await b.signIn(email);
  await b.get(`/dashboard/connections?client=${clientId}`);
  return b;
}

/** Presses Connect for `platform`; returns where the browser is sent (the fake's consent URL). */
export async function pressConnect(b: Browser, clientId: string, platform: string): Promise<URL> {
  const res = await b.post(`/dashboard/connections/${clientId}/oauth/${platform}/start`, {});
  expect(res.status).toBe(303);
  return new URL(res.headers.get('location') ?? '');
}

/** The fake's answer to a consent URL that redirects at once: where it sends the browser back (the callback URL). */
export async function consentRedirect(url: URL): Promise<string> {
  const res = await fetch(url, { redirect: 'manual' });
  expect(res.status, await res.clone().text()).toBe(302);
  return res.headers.get('location') ?? '';
}

/** The callback in the browser: its status and page text, and where it redirects. */
export async function openCallback(run: Running, b: Browser, location: string): Promise<{ status: number; text: string; next: string | null }> {
  const res = await b.get(location.replace(run.url, ''));
  return { status: res.status, text: pageText(await res.text()), next: res.headers.get('location') };
}

/** A page in the browser: its status, HTML and visible text. */
export async function openPage(b: Browser, path: string): Promise<{ status: number; html: string; text: string }> {
  const res = await b.get(path);
  const html = await res.text();
  return { status: res.status, html, text: pageText(html) };
}

/** The Save as the picker's form posts it (the pick repeated). */
export function postSave(run: Running, b: Browser, platform: string, grant: string, picks: readonly string[]): Promise<Response> {
  const body = new URLSearchParams({ _csrf: b.csrf ?? '', grant });
  for (const p of picks) body.append('pick', p);
  return fetch(`${run.url}/dashboard/oauth/${platform}/save`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin', cookie: b.cookie ?? '' },
    body,
  });
}

/** Pending authorizations and grants stored. */
export const pendingCount = (run: Running): number => (run.db.prepare('SELECT COUNT(*) AS n FROM oauth_pending').get() as { n: number }).n;
