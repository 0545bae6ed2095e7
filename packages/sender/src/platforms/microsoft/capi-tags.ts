/**
 * The UET tags of a connection's account and a tag's Conversions API token,
 * through Campaign Management with the connection's OAuth grant
 * (microsoft-ads.md §8, MS-TAGKEY): `UetTags/QueryByIds` with `TagIds: null`
 * lists the account's tags; `UetTagAuthKey/Query` `{"UetTagId":…}` answers
 * `{"UetTagAuthKey":"…"}`, the tag's existing token or a new one when the
 * caller owns the tag. DISAGREE: the CAPI guide shows `{"TagId":…}` →
 * `{"TagAuthKey":{"AuthKey":…}}`; the reference page and the SDKs are
 * followed, and the guide's answer shape is read too.
 */
import { z } from 'zod';
import type { HttpRequest, HttpResponse } from '../../http.js';
import { oauthCall, OAuthFlowError, type OAuthCallContext } from '../oauth-provider.js';
import type { MicrosoftConnection } from './connection.js';
import { MICROSOFT_DEVELOPER_TOKEN_ENV, refreshMicrosoft } from './oauth.js';
import { campaignHeaders, campaignUrl, MICROSOFT_API_VERSION, MICROSOFT_CAMPAIGN_SANDBOX_URL, MICROSOFT_CAMPAIGN_URL } from './request.js';
import { readFault } from './response.js';

/** A UET tag a person can pick. */
export interface UetTagChoice {
  id: string;
  name: string;
}

const idLike = z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform(String);
const tagsAnswer = z.object({ UetTags: z.array(z.object({ Id: idLike, Name: z.string().nullish() }).nullable()).nullish() });
const keyAnswer = z.object({
  UetTagAuthKey: z.string().nullish(),
  TagAuthKey: z.object({ AuthKey: z.string().nullish() }).nullish(),
  PartialErrors: z.array(z.object({ ErrorCode: z.string().nullish(), Message: z.string().nullish() }).nullable()).nullish(),
});

/** Where and with what a call of the connection's account goes. */
interface Target {
  connection: MicrosoftConnection;
  accessToken: string;
  developerToken: string;
  campaign: string;
  version: string;
}

function request(t: Target, method: string, body: unknown): HttpRequest {
  return { method: 'POST', url: `${t.campaign}/CampaignManagement/${t.version}/${method}`, headers: campaignHeaders(t.connection, t.accessToken, t.developerToken), body };
}

function refused(res: HttpResponse, what: string): OAuthFlowError {
  const first = readFault(res.json)?.errors[0];
  const said = first === undefined ? `HTTP ${res.status}` : `${first.code ?? ''} ${first.errorCode ?? ''}${first.message !== undefined ? `: ${first.message}` : ''}`.trim();
  return new OAuthFlowError('refused', `Microsoft refused ${what} (${said}).`, first?.code !== undefined ? String(first.code) : `http_${res.status}`);
}

/** `UetTags/QueryByIds` with `TagIds: null`: every tag of the connection's account. Pure. */
export function buildUetTagsQuery(t: Target): HttpRequest {
  return request(t, 'UetTags/QueryByIds', { TagIds: null });
}

/** `UetTagAuthKey/Query` for one tag. Pure. */
export function buildUetTagAuthKeyQuery(t: Target, tagId: string): HttpRequest {
  return request(t, 'UetTagAuthKey/Query', { UetTagId: tagId });
}

/** The tags of an answer to {@link buildUetTagsQuery}; throws {@link OAuthFlowError} for a fault. */
export function readUetTags(res: HttpResponse): UetTagChoice[] {
  const parsed = res.status === 200 ? tagsAnswer.safeParse(res.json) : undefined;
  if (parsed === undefined || !parsed.success) throw refused(res, 'the list of UET tags');
  return (parsed.data.UetTags ?? []).flatMap((t) => (t === null ? [] : [{ id: t.Id, name: t.Name ?? `UET tag ${t.Id}` }]));
}

/** The token of an answer to {@link buildUetTagAuthKeyQuery}; throws {@link OAuthFlowError} when there is none. */
export function readUetTagAuthKey(res: HttpResponse, tagId: string): string {
  const parsed = res.status === 200 ? keyAnswer.safeParse(res.json) : undefined;
  if (parsed === undefined || !parsed.success) throw refused(res, `the token of UET tag ${tagId}`);
  const key = parsed.data.UetTagAuthKey ?? parsed.data.TagAuthKey?.AuthKey;
  if (key !== undefined && key !== null && key !== '') return key;
  const error = (parsed.data.PartialErrors ?? []).find((e) => e !== null);
  throw new OAuthFlowError(
    'refused',
    `Microsoft gave no token for UET tag ${tagId}${error?.ErrorCode ? ` (${error.ErrorCode}${error.Message ? `: ${error.Message}` : ''})` : ''}: check that the tag belongs to this account.`,
    error?.ErrorCode ?? 'no_key',
  );
}

/** What {@link fetchUetTagToken} got: the tag's token, and the refresh token when Microsoft rotated it (store it in place of the old). */
export interface UetTagToken {
  token: string;
  refreshToken?: string;
}

/**
 * The connection's UET tag token, fetched with its OAuth grant: a refresh of the access token (the
 * connection's own Azure app when it names one, else the server's), then `UetTagAuthKey/Query` on the
 * connection's account. Throws {@link OAuthFlowError} with Microsoft's words.
 */
export async function fetchUetTagToken(connection: MicrosoftConnection, ctx: OAuthCallContext): Promise<UetTagToken> {
  const tagId = connection.uet_tag_id;
  if (tagId === undefined) throw new OAuthFlowError('refused', 'Set the UET tag id first.', 'no_tag');
  const developerToken = connection.developer_token ?? ctx.app.extra?.[MICROSOFT_DEVELOPER_TOKEN_ENV];
  if (developerToken === undefined || developerToken === '') {
    throw new OAuthFlowError('invalid_client', `Fetching the token needs the developer token: set ${MICROSOFT_DEVELOPER_TOKEN_ENV}.`, 'no_developer_token');
  }
  const app = { ...ctx.app, clientId: connection.client_id ?? ctx.app.clientId, clientSecret: connection.client_secret ?? ctx.app.clientSecret };
  const tokens = await refreshMicrosoft(connection.refresh_token, { ...ctx, app }, { sandbox: connection.test_mode === true });
  const urls = {
    microsoftCampaign: ctx.urls['microsoftCampaign'] ?? MICROSOFT_CAMPAIGN_URL,
    microsoftCampaignSandbox: ctx.urls['microsoftCampaignSandbox'] ?? MICROSOFT_CAMPAIGN_SANDBOX_URL,
  };
  const target: Target = {
    connection,
    accessToken: tokens.accessToken,
    developerToken,
    campaign: campaignUrl(connection, urls),
    version: ctx.versions['microsoft'] ?? MICROSOFT_API_VERSION,
  };
  const res = await oauthCall(ctx, buildUetTagAuthKeyQuery(target, tagId), 'Microsoft Advertising');
  const token = readUetTagAuthKey(res, tagId).trim();
  return tokens.refreshToken !== undefined && tokens.refreshToken !== connection.refresh_token ? { token, refreshToken: tokens.refreshToken } : { token };
}

/** The UET tags of the connection's account, with its OAuth grant (for a person to pick one). */
export async function listUetTags(connection: MicrosoftConnection, accessToken: string, ctx: OAuthCallContext): Promise<UetTagChoice[]> {
  const developerToken = connection.developer_token ?? ctx.app.extra?.[MICROSOFT_DEVELOPER_TOKEN_ENV] ?? '';
  const urls = {
    microsoftCampaign: ctx.urls['microsoftCampaign'] ?? MICROSOFT_CAMPAIGN_URL,
    microsoftCampaignSandbox: ctx.urls['microsoftCampaignSandbox'] ?? MICROSOFT_CAMPAIGN_SANDBOX_URL,
  };
  const target: Target = { connection, accessToken, developerToken, campaign: campaignUrl(connection, urls), version: ctx.versions['microsoft'] ?? MICROSOFT_API_VERSION };
  return readUetTags(await oauthCall(ctx, buildUetTagsQuery(target), 'Microsoft Advertising'));
}
