import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OAuthError } from '../src/errors.js';
import { createTokenCache } from '../src/oauth.js';

let server: Server;
let url = '';
let calls: Array<Record<string, string>> = [];
let nextAnswer: { status: number; body: unknown } | undefined;
let delayMs = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      calls.push(Object.fromEntries(new URLSearchParams(raw)));
      const answer = nextAnswer ?? { status: 200, body: { access_token: `tok-${calls.length}`, expires_in: 3599, token_type: 'Bearer' } };
      nextAnswer = undefined;
      setTimeout(() => {
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer.body));
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  calls = [];
  nextAnswer = undefined;
  delayMs = 0;
});

const creds = { client_id: 'cid', client_secret: 'secret', refresh_token: 'rt-1' };

describe('createTokenCache', () => {
  it('posts the refresh-token grant form', async () => {
    const cache = createTokenCache({ tokenUrl: url });
    expect(await cache.getToken(creds)).toBe('tok-1');
    expect(calls).toEqual([{ grant_type: 'refresh_token', refresh_token: 'rt-1', client_id: 'cid', client_secret: 'secret' }]);
  });

  it('reuses the token until shortly before expiry', async () => {
    let now = new Date('2026-11-20T00:00:00Z');
    const cache = createTokenCache({ tokenUrl: url, now: () => now, marginMs: 60_000 });
    await cache.getToken(creds);
    now = new Date(now.getTime() + 3_500_000);
    expect(await cache.getToken(creds)).toBe('tok-1');
    now = new Date(now.getTime() + 60_000);
    expect(await cache.getToken(creds)).toBe('tok-2');
    expect(calls).toHaveLength(2);
  });

  it('keeps tokens apart per refresh token', async () => {
    const cache = createTokenCache({ tokenUrl: url });
    await cache.getToken(creds);
    expect(await cache.getToken({ ...creds, refresh_token: 'rt-2' })).toBe('tok-2');
  });

  it('shares one in-flight refresh between concurrent callers', async () => {
    delayMs = 50;
    const cache = createTokenCache({ tokenUrl: url });
    const tokens = await Promise.all([cache.getToken(creds), cache.getToken(creds), cache.getToken(creds)]);
    expect(tokens).toEqual(['tok-1', 'tok-1', 'tok-1']);
    expect(calls).toHaveLength(1);
  });

  it('refreshes after a 401 once for all callers holding the stale token', async () => {
    const cache = createTokenCache({ tokenUrl: url });
    const stale = await cache.getToken(creds);
    delayMs = 30;
    const fresh = await Promise.all([cache.refresh(creds, stale), cache.refresh(creds, stale)]);
    expect(fresh).toEqual(['tok-2', 'tok-2']);
    expect(await cache.refresh(creds, stale)).toBe('tok-2');
    expect(calls).toHaveLength(2);
  });

  it('throws a permanent OAuthError for invalid_grant', async () => {
    nextAnswer = { status: 400, body: { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' } };
    const error = await createTokenCache({ tokenUrl: url }).getToken(creds).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ code: 'invalid_grant', permanent: true, status: 400 });
    expect((error as Error).message).toMatch(/Reconnect the Google account/);
    expect((error as Error).message).not.toContain('rt-1');
  });

  it('throws a transient OAuthError for a 503', async () => {
    nextAnswer = { status: 503, body: 'down' };
    await expect(createTokenCache({ tokenUrl: url }).getToken(creds)).rejects.toMatchObject({ permanent: false, status: 503 });
  });

  it('forgets a failed refresh so the next call tries again', async () => {
    nextAnswer = { status: 503, body: 'down' };
    const cache = createTokenCache({ tokenUrl: url });
    await expect(cache.getToken(creds)).rejects.toBeInstanceOf(OAuthError);
    expect(await cache.getToken(creds)).toBe('tok-2');
  });
});
