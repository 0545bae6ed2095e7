import { describe, expect, it } from 'vitest';
import { readOAuthConfig } from '../src/oauth-config.js';

describe('readOAuthConfig, Microsoft', () => {
  it('configures Microsoft with the Azure app and the developer token, every URL overridable', () => {
    const result = readOAuthConfig({
      PRUUV_MICROSOFT_CLIENT_ID: '4c0b7e2a-0000-4000-8000-00000000a001', PRUUV_MICROSOFT_CLIENT_SECRET: 'ms-secret', PRUUV_MICROSOFT_DEVELOPER_TOKEN: 'DEVTOKEN',
      PRUUV_MICROSOFT_OAUTH_AUTHORIZE_URL: 'http://127.0.0.1:9/microsoft/login/common/oauth2/v2.0/authorize',
      PRUUV_MICROSOFT_CUSTOMER_API_URL: 'http://127.0.0.1:9/microsoft/clientcenter/',
    });
    expect(result).toEqual({
      ok: true,
      config: {
        platforms: {
          microsoft: {
            app: { clientId: '4c0b7e2a-0000-4000-8000-00000000a001', clientSecret: 'ms-secret', extra: { PRUUV_MICROSOFT_DEVELOPER_TOKEN: 'DEVTOKEN' } },
            urls: {
              authorize: 'http://127.0.0.1:9/microsoft/login/common/oauth2/v2.0/authorize',
              token: 'https://login.microsoftonline.com/common/oauth2/v2.0/token',
              microsoftCustomer: 'http://127.0.0.1:9/microsoft/clientcenter',
              microsoftCustomerSandbox: 'https://clientcenter.api.sandbox.bingads.microsoft.com',
              microsoftCampaign: 'https://campaign.api.bingads.microsoft.com',
              microsoftCampaignSandbox: 'https://campaign.api.sandbox.bingads.microsoft.com',
            },
          },
        },
      },
    });
  });

  it('refuses the Azure app without the developer token, which discovery needs, naming the variable', () => {
    const result = readOAuthConfig({ PRUUV_MICROSOFT_CLIENT_ID: 'id', PRUUV_MICROSOFT_CLIENT_SECRET: 's' });
    expect(result).toEqual({ ok: false, issues: [expect.stringContaining('PRUUV_MICROSOFT_DEVELOPER_TOKEN must be set')] });
  });

  it('shows no Connect button for Microsoft when only the developer token is set (pasted refresh tokens)', () => {
    expect(readOAuthConfig({ PRUUV_MICROSOFT_DEVELOPER_TOKEN: 'DEVTOKEN' })).toEqual({ ok: true, config: { platforms: {} } });
  });
});
