/** Shared helpers of the fake-platform tests: a settable clock and small HTTP calls. */
import { createHash } from 'node:crypto';
import { afterAll, beforeEach } from 'vitest';
import { startFakePlatforms, type FakePlatforms, type FakePlatformsOptions } from '../src/fakes/index.js';

/** The tests' "now": 2026-11-20 12:00:00 UTC. */
export const T0 = Date.parse('2026-11-20T12:00:00.000Z');
export const T0_SECONDS = T0 / 1000;
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** A clock the fake reads through `now`, moved by the test. */
export function testClock(start = T0): { now: () => Date; advance: (ms: number) => void; set: (ms: number) => void } {
  let t = start;
  return { now: () => new Date(t), advance: (ms) => void (t += ms), set: (ms) => void (t = ms) };
}

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

/** A Google access token from the fake token endpoint (default client). */
export async function googleToken(oauthUrl: string, refreshToken = 'fake-refresh-token'): Promise<string> {
  const r = await postForm(oauthUrl, {
    grant_type: 'refresh_token',
    client_id: 'fake-client-id.apps.googleusercontent.com',
    client_secret: 'fake-client-secret',
    refresh_token: refreshToken,
  });
  if (r.status !== 200) throw new Error(`token refresh failed: ${JSON.stringify(r.body)}`);
  return String(r.body.access_token);
}

/** The JSON body of a raw fetch Response, loosely typed for deep reads. */
export async function json(response: Response): Promise<any> {
  return response.json();
}

/** The fake platforms of one test file, their clock, and the Google access token of the current test. */
export interface FakesSuite {
  fakes: FakePlatforms;
  clock: ReturnType<typeof testClock>;
  /** A fresh access token of the seeded Google client before each test; a test may replace it. */
  token: string;
}

/**
 * Starts the fake platforms for one test file on a test clock, closes them after the file, and
 * before each test resets them, sets the clock back to {@link T0} and fetches a Google token.
 */
export async function fakesForTests(options: Omit<FakePlatformsOptions, 'now'> = {}): Promise<FakesSuite> {
  const clock = testClock();
  const suite: FakesSuite = { fakes: await startFakePlatforms({ now: clock.now, ...options }), clock, token: '' };
  afterAll(() => suite.fakes.close());
  beforeEach(async () => {
    suite.fakes.reset();
    clock.set(T0);
    suite.token = await googleToken(suite.fakes.urls.oauthToken);
  });
  return suite;
}
