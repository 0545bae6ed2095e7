import { describe, expect, it } from 'vitest';
import { FAKE_DEFAULTS, FakePlatformsError, sandboxBanner, startFakePlatforms } from '../src/index.js';
import { T0_SECONDS, get, postJson, sha256 } from './fakes-helpers.js';

const metaEvent = (id: string) => ({ event_name: 'Lead', event_time: Math.floor(Date.now() / 1000) - 60, event_id: id, action_source: 'system_generated', user_data: { em: sha256('a') } });

describe('startFakePlatforms', () => {
  it('listens on 127.0.0.1 and exposes one base URL per platform', async () => {
    const fakes = await startFakePlatforms();
    try {
      const { urls } = fakes;
      const base = /^http:\/\/127\.0\.0\.1:\d+/.exec(urls.meta)?.[0];
      expect(urls).toEqual({
        meta: `${base}/meta`, googleAds: `${base}/google-ads`, dataManager: `${base}/datamanager`, oauthToken: `${base}/oauth/token`, tiktok: `${base}/tiktok`,
        metaOAuth: `${base}/facebook`, tiktokOAuth: `${base}/tiktok-portal/portal/auth`,
        googleAuth: `${base}/google-oauth`, googleAuthorize: `${base}/google-oauth/o/oauth2/v2/auth`, googleRevoke: `${base}/google-oauth/revoke`,
        microsoftCampaign: `${base}/microsoft/campaign`, microsoftCampaignSandbox: `${base}/microsoft-sandbox/campaign`,
        microsoftCustomer: `${base}/microsoft/clientcenter`, microsoftCustomerSandbox: `${base}/microsoft-sandbox/clientcenter`,
        microsoftToken: `${base}/microsoft/login/common/oauth2/v2.0/token`, microsoftAuthorize: `${base}/microsoft/login/common/oauth2/v2.0/authorize`,
        microsoftInspect: `${base}/microsoft/_test/silent`,
        microsoftCapi: `${base}/microsoft-capi`, microsoftCapiInspect: `${base}/microsoft/_test/capi`,
      });
    } finally {
      await fakes.close();
    }
  });

  it('labels the sandbox and lists every base URL', async () => {
    const fakes = await startFakePlatforms();
    try {
      const banner = sandboxBanner(fakes);
      expect(banner.split('\n')[0]).toMatch(/^SANDBOX: .*Nothing is sent to Meta, Google, TikTok or Microsoft\.$/);
      for (const url of Object.values(fakes.urls)) expect(banner).toContain(url);
    } finally {
      await fakes.close();
    }
  });

  it('seeds FAKE_DEFAULTS and uses the real clock by default', async () => {
    const fakes = await startFakePlatforms();
    try {
      const r = await postJson(`${fakes.urls.meta}/v26.0/${FAKE_DEFAULTS.meta.pixelId}/events?access_token=${FAKE_DEFAULTS.meta.token}`, { data: [metaEvent('x')] });
      expect(r.status).toBe(200);
    } finally {
      await fakes.close();
    }
  });

  const invalid: Array<[string, object, RegExp]> = [
    ['a customer id with hyphens', { google: { customers: ['123-456'], conversionActions: ['1'], clientId: 'c', clientSecret: 's', refreshTokens: ['r'] } }, /customers/],
    ['an unknown option', { metaa: {} }, /metaa/],
    ['a zero quota', { dataManagerQuota: { perMinute: 0 } }, /perMinute/],
    ['a bad click time', { google: { customers: ['1'], conversionActions: ['1'], clientId: 'c', clientSecret: 's', refreshTokens: ['r'], knownClicks: [{ id: 'g', clickedAt: 'yesterday' }] } }, /clickedAt/],
  ];
  for (const [name, options, field] of invalid) {
    it(`throws FakePlatformsError naming the field for ${name}`, async () => {
      const start = startFakePlatforms(options as never);
      await expect(start).rejects.toThrow(FakePlatformsError);
      await expect(start).rejects.toThrow(field);
    });
  }

  it('answers 404 outside the route prefixes and logs it as unknown', async () => {
    const fakes = await startFakePlatforms();
    try {
      const r = await get(`${fakes.urls.meta.replace('/meta', '')}/graph/v26.0`);
      expect(r.status).toBe(404);
      expect(fakes.requests('unknown')).toHaveLength(1);
    } finally {
      await fakes.close();
    }
  });

  it('logs method, path, query, headers, parsed body and answer', async () => {
    const fakes = await startFakePlatforms({ now: () => new Date(T0_SECONDS * 1000) });
    try {
      const url = `${fakes.urls.meta}/v26.0/${FAKE_DEFAULTS.meta.pixelId}/events?access_token=${FAKE_DEFAULTS.meta.token}`;
      const event = { ...metaEvent('x'), event_time: T0_SECONDS - 60 };
      await postJson(url, { data: [event] }, { 'x-test': '1' });
      const [entry] = fakes.requests('meta');
      expect(entry).toMatchObject({
        route: 'meta', method: 'POST', path: `/meta/v26.0/${FAKE_DEFAULTS.meta.pixelId}/events`, query: { access_token: FAKE_DEFAULTS.meta.token },
        headers: { 'x-test': '1', 'content-type': 'application/json' }, body: { data: [event] }, status: 200,
        response: { events_received: 1 }, outcome: 'answered', diagnostics: [], at: new Date(T0_SECONDS * 1000),
      });
      expect(fakes.requests('tiktok')).toEqual([]);
    } finally {
      await fakes.close();
    }
  });

  it('forgets counts, logs and scripts on reset', async () => {
    const fakes = await startFakePlatforms();
    try {
      const url = `${fakes.urls.meta}/v26.0/${FAKE_DEFAULTS.meta.pixelId}/events?access_token=${FAKE_DEFAULTS.meta.token}`;
      await postJson(url, { data: [metaEvent('a')] });
      fakes.script('meta', [{ kind: 'status', status: 500 }]);
      fakes.reset();
      expect(fakes.counted('meta').size).toBe(0);
      expect(fakes.requests()).toEqual([]);
      expect((await postJson(url, { data: [metaEvent('a')] })).status).toBe(200);
      expect([...fakes.counted('meta').values()]).toEqual([1]);
    } finally {
      await fakes.close();
    }
  });

  it('keeps only the latest maxRequestLog entries', async () => {
    const fakes = await startFakePlatforms({ maxRequestLog: 3 });
    try {
      const url = `${fakes.urls.meta}/v26.0/${FAKE_DEFAULTS.meta.pixelId}/events?access_token=${FAKE_DEFAULTS.meta.token}`;
      for (let i = 0; i < 8; i += 1) await postJson(url, { data: [metaEvent(`e${i}`)] });
      const ids = fakes.requests().map((r) => (r.body as { data: Array<{ event_id: string }> }).data[0]?.event_id);
      expect(ids).toEqual(['e5', 'e6', 'e7']);
      expect(fakes.counted('meta').size).toBe(8);
    } finally {
      await fakes.close();
    }
  });

  it('closes while a request hangs', async () => {
    const fakes = await startFakePlatforms();
    fakes.script('meta', [{ kind: 'hang' }]);
    const hung = fetch(`${fakes.urls.meta}/v26.0/x/events`, { method: 'POST' }).catch((error: unknown) => error);
    while (fakes.requests('meta').length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await fakes.close();
    expect(await hung).toBeInstanceOf(Error);
  });
});
