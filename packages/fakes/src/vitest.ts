/**
 * `@pruuv/fakes/vitest`: the fake platforms as a vitest fixture, shared by the
 * fakes' own tests and the sender's. Apart from the main entry because it
 * imports vitest: the demo and the bench load the fakes without it.
 */
import { afterAll, beforeEach } from 'vitest';
import { FAKE_DEFAULTS } from './options.js';
import { startFakePlatforms } from './server.js';
import type { FakePlatforms, FakePlatformsOptions } from './types.js';

/** The tests' "now": 2026-11-20 12:00:00 UTC. */
export const T0 = Date.parse('2026-11-20T12:00:00.000Z');

/** A clock the fake reads through `now`, moved by the test. */
export interface TestClock {
  now: () => Date;
  advance: (ms: number) => void;
  set: (ms: number) => void;
}

/** A {@link TestClock} at `start`. Defaults to {@link T0}. */
export function testClock(start = T0): TestClock {
  let t = start;
  return { now: () => new Date(t), advance: (ms) => void (t += ms), set: (ms) => void (t = ms) };
}

/**
 * A Google access token from the fake token endpoint, for the default OAuth
 * client (`FAKE_DEFAULTS.google`). Throws when the fake refuses the refresh.
 */
export async function googleToken(oauthUrl: string, refreshToken: string = FAKE_DEFAULTS.google.refreshToken): Promise<string> {
  const res = await fetch(oauthUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: FAKE_DEFAULTS.google.clientId,
      client_secret: FAKE_DEFAULTS.google.clientSecret,
      refresh_token: refreshToken,
    }).toString(),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`token refresh failed: ${text}`);
  return String((JSON.parse(text) as { access_token: unknown }).access_token);
}

/**
 * A Microsoft access token from the fake identity platform, for the default Azure app
 * (`FAKE_DEFAULTS.microsoft`), production scope unless `sandbox`. Throws when the fake refuses.
 */
export async function microsoftToken(tokenUrl: string, options: { refreshToken?: string; sandbox?: boolean } = {}): Promise<string> {
  const d = FAKE_DEFAULTS.microsoft;
  const res = await fetch(tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: d.clientId,
      client_secret: d.clientSecret,
      refresh_token: options.refreshToken ?? (options.sandbox === true ? d.sandboxRefreshToken : d.refreshToken),
      scope: `https://${options.sandbox === true ? 'si.' : ''}ads.microsoft.com/msads.manage offline_access`,
    }).toString(),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`token refresh failed: ${text}`);
  return String((JSON.parse(text) as { access_token: unknown }).access_token);
}

/** The fake platforms of one test file, their clock, and the Google access token of the current test. */
export interface FakesSuite {
  fakes: FakePlatforms;
  clock: TestClock;
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
