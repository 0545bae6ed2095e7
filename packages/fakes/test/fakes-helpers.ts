/** Shared helpers of the fake-platform tests: the vitest fixture, a few constants and small HTTP calls. */
import { createHash } from 'node:crypto';
import { T0 } from '../src/vitest.js';

export { T0, fakesForTests, googleToken, microsoftToken, testClock, type FakesSuite } from '../src/vitest.js';
export const T0_SECONDS = T0 / 1000;
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** SHA-256 hex of a string. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A parsed HTTP answer. */
export interface Reply {
  status: number;
  headers: Headers;
  /** Parsed JSON (or text): tests read deep paths of platform bodies, so it is loosely typed here only. */
  body: any;
}

async function reply(response: Response): Promise<Reply> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    // keep text
  }
  return { status: response.status, headers: response.headers, body };
}

/** POST a JSON body. */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  return reply(await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }));
}

/** POST a form-encoded body. */
export async function postForm(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Reply> {
  return reply(await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString() }));
}

/** GET a URL. */
export async function get(url: string, headers: Record<string, string> = {}): Promise<Reply> {
  return reply(await fetch(url, { headers }));
}

/** The JSON body of a raw fetch Response, loosely typed for deep reads. */
export async function json(response: Response): Promise<any> {
  return response.json();
}
