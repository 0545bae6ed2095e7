/** A UET tag's Conversions API token fetched with the connection's OAuth grant, against the strict fake (microsoft-ads.md §8, MS-TAGKEY). */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FAKE_DEFAULTS, startFakePlatforms, type FakePlatforms } from '@pruuv/fakes';
import { fetchUetTagToken, listUetTags, readUetTagAuthKey } from '../../src/platforms/microsoft/capi-tags.js';
import type { OAuthCallContext } from '../../src/platforms/oauth-provider.js';
import { OAuthFlowError } from '../../src/platforms/oauth-provider.js';
import { microsoftConnection, response } from '../helpers.js';

const D = FAKE_DEFAULTS.microsoft;
let fakes: FakePlatforms;
beforeAll(async () => {
  fakes = await startFakePlatforms({
    microsoft: {
      customerId: D.customerId,
      accounts: [{ id: D.accountId, name: 'Contoso', number: D.accountNumber }, { id: '180000002', name: 'Fabrikam', number: 'F120EFGH' }],
      goals: [],
      clientId: D.clientId,
      clientSecret: D.clientSecret,
      redirectUris: [],
      refreshTokens: [D.refreshToken],
      developerToken: D.developerToken,
      uetTags: [
        { id: D.uetTagId, name: D.uetTagName, accountId: D.accountId, authKey: D.uetTagToken },
        { id: '187000002', name: 'Shop tag', accountId: D.accountId },
        { id: '187000003', name: 'Fabrikam tag', accountId: '180000002' },
      ],
    },
  });
});
afterAll(() => fakes.close());
beforeEach(() => fakes.reset());

const ctx = (): OAuthCallContext => ({
  app: { clientId: D.clientId, clientSecret: D.clientSecret, extra: { PRUUV_MICROSOFT_DEVELOPER_TOKEN: D.developerToken } },
  urls: { token: fakes.urls.microsoftToken, microsoftCampaign: fakes.urls.microsoftCampaign, microsoftCampaignSandbox: fakes.urls.microsoftCampaignSandbox },
  versions: {},
  fetch: (input, init) => fetch(input, init),
  now: () => new Date(),
  timeoutMs: 2_000,
});
const conn = (tag: string) => microsoftConnection({ api: 'uet-capi', uet_tag_id: tag, developer_token: undefined, client_id: undefined, client_secret: undefined });

describe('fetchUetTagToken', () => {
  it("returns the tag's token with the refresh token Microsoft rotated", async () => {
    const got = await fetchUetTagToken(conn(D.uetTagId), ctx());
    expect(got.token).toBe(D.uetTagToken);
    expect(got.refreshToken).toBeDefined();
    expect(got.refreshToken).not.toBe(D.refreshToken);
    const call = fakes.requests('microsoftCampaign').at(-1);
    expect(call?.path).toBe('/microsoft/campaign/CampaignManagement/v13/UetTagAuthKey/Query');
    expect(call?.body).toEqual({ UetTagId: D.uetTagId });
    expect(call?.headers).toMatchObject({ customerid: D.customerId, customeraccountid: D.accountId, developertoken: D.developerToken });
  });

  it('gets a tag without a token one, which then opens the Conversions API for that tag', async () => {
    const { token } = await fetchUetTagToken(conn('187000002'), ctx());
    expect(token).toBe(fakes.microsoft.uetTagToken('187000002'));
  });

  it("says so with Microsoft's words for a tag of another account", async () => {
    const error = await fetchUetTagToken(conn('187000003'), ctx()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthFlowError);
    expect((error as OAuthFlowError).message).toMatch(/no token for UET tag 187000003 \(UetTagIdInvalid: .*\): check that the tag belongs to this account/);
  });

  it('needs a tag id and a grant that works', async () => {
    await expect(fetchUetTagToken(microsoftConnection(), ctx())).rejects.toThrow(/Set the UET tag id first/);
    fakes.microsoft.revokeAll();
    await expect(fetchUetTagToken(conn(D.uetTagId), ctx())).rejects.toMatchObject({ kind: 'token_revoked' });
  });

  it("reads the CAPI guide's answer shape too", () => {
    expect(readUetTagAuthKey(response(200, { TagAuthKey: { AuthKey: 'k' } }), '1')).toBe('k');
  });
});

describe('listUetTags', () => {
  it("lists the account's tags with TagIds null", async () => {
    const tokenRes = await fetch(fakes.urls.microsoftToken, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', client_id: D.clientId, client_secret: D.clientSecret, refresh_token: D.refreshToken, scope: 'https://ads.microsoft.com/msads.manage offline_access' }).toString(),
    });
    const { access_token: accessToken } = (await tokenRes.json()) as { access_token: string };
    expect(await listUetTags(conn(D.uetTagId), accessToken, ctx())).toEqual([
      { id: D.uetTagId, name: D.uetTagName },
      { id: '187000002', name: 'Shop tag' },
    ]);
  });
});
