import { describe, expect, it } from 'vitest';
import { readOAuthConfig } from '../src/oauth-config.js';

describe('readOAuthConfig, Meta and TikTok', () => {
  it('configures Meta with its id, secret and configuration id, and TikTok with its id and secret', () => {
    const result = readOAuthConfig({
      PRUUV_META_APP_ID: '1122334455667788', PRUUV_META_APP_SECRET: 'meta-secret', PRUUV_META_APP_CONFIG_ID: '900000000000001',
      PRUUV_TIKTOK_APP_ID: '7300000000000000001', PRUUV_TIKTOK_APP_SECRET: 'tiktok-secret',
      PRUUV_META_OAUTH_URL: 'http://127.0.0.1:9/facebook/', PRUUV_TIKTOK_API_URL: 'http://127.0.0.1:9/tiktok',
    });
    expect(result).toEqual({
      ok: true,
      config: {
        platforms: {
          meta: {
            app: { clientId: '1122334455667788', clientSecret: 'meta-secret', extra: { PRUUV_META_APP_CONFIG_ID: '900000000000001' } },
            urls: { authorize: 'http://127.0.0.1:9/facebook', meta: 'https://graph.facebook.com' },
          },
          tiktok: {
            app: { clientId: '7300000000000000001', clientSecret: 'tiktok-secret' },
            urls: { authorize: 'https://business-api.tiktok.com/portal/auth', tiktok: 'http://127.0.0.1:9/tiktok' },
          },
        },
      },
    });
  });

  it('refuses a Meta app without its configuration id, naming the variable', () => {
    const result = readOAuthConfig({ PRUUV_META_APP_ID: '1', PRUUV_META_APP_SECRET: 's' });
    expect(result).toEqual({ ok: false, issues: [expect.stringContaining('PRUUV_META_APP_CONFIG_ID must be set')] });
  });

  it('shows no Connect button for Meta or TikTok when their apps are not set', () => {
    expect(readOAuthConfig({})).toEqual({ ok: true, config: { platforms: {} } });
  });
});
