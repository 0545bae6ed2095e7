/**
 * Microsoft's "Connect": the Microsoft identity platform v2.0 (tenant `common`,
 * personal and work accounts) with PKCE S256 and `msads.manage offline_access`,
 * rotating refresh tokens, and discovery through Customer and Campaign
 * Management: the customer (manager account), then its ad account, then the
 * account's offline conversion goal (microsoft-ads.md §7.1–§7.3).
 *
 * Discovery needs the operator's developer token (`PRUUV_MICROSOFT_DEVELOPER_TOKEN`,
 * an app setting), so the Connect button shows only when it is set with the
 * Azure app. Microsoft has no endpoint to revoke a grant: Disconnect deletes
 * the tokens here and {@link microsoftOAuth}'s `disconnectHint` says where the
 * person removes the app's access.
 */
import { z } from 'zod';
import type { HttpResponse } from '../../http.js';
import {
  authorizationUrl,
  oauthCall,
  OAuthFlowError,
  readStandardCallback,
  type DiscoveryChoice,
  type DiscoveryResult,
  type OAuthCallContext,
  type OAuthProvider,
  type OAuthTokenSet,
} from '../oauth-provider.js';
import {
  MICROSOFT_API_VERSION,
  MICROSOFT_CAMPAIGN_SANDBOX_URL,
  MICROSOFT_CAMPAIGN_URL,
  MICROSOFT_CUSTOMER_SANDBOX_URL,
  MICROSOFT_CUSTOMER_URL,
  MICROSOFT_TOKEN_URL,
} from './request.js';
import { readFault } from './response.js';
import { MICROSOFT_SANDBOX_SCOPE, MICROSOFT_SCOPE } from './scopes.js';

/** The consent page, tenant `common` (microsoft-ads.md §7.1). */
export const MICROSOFT_AUTHORIZE_URL = 'https://login.microsoftonline.com/common/oauth2/v2.0/authorize';

/** The variable of the operator's developer token: discovery calls need it. */
export const MICROSOFT_DEVELOPER_TOKEN_ENV = 'PRUUV_MICROSOFT_DEVELOPER_TOKEN';

/** The resource part of each scope: what the granted token's `scope` must contain. */
const ADS_SCOPE = { production: 'https://ads.microsoft.com/msads.manage', sandbox: 'https://si.ads.microsoft.com/msads.manage' } as const;

/** The goal types read as offline goals: the JSON `Type` (SDK-NET) and the doc templates' class name (DISAGREE in §7.2). */
const OFFLINE_TYPES = new Set(['OfflineConversion', 'OfflineConversionGoal']);

/** The scope a connection asks: the sandbox's for a connection in test mode (microsoft-ads.md §7.1). */
export function microsoftScopeFor(settings: Readonly<Record<string, unknown>>): string {
  return settings['test_mode'] === true ? MICROSOFT_SANDBOX_SCOPE : MICROSOFT_SCOPE;
}

/** Whether a granted token is the sandbox's: its scopes name the sandbox resource. */
export function isSandboxGrant(tokens: Pick<OAuthTokenSet, 'scopes'>): boolean {
  return tokens.scopes.includes(ADS_SCOPE.sandbox) && !tokens.scopes.includes(ADS_SCOPE.production);
}

const tokenResponse = z.object({
  token_type: z.string().optional(),
  access_token: z.string().min(1),
  expires_in: z.number().positive(),
  refresh_token: z.string().min(1).optional(),
  scope: z.string().optional(),
});
const tokenError = z.object({ error: z.string(), error_description: z.string().optional() });

const idLike = z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform(String);
const userAnswer = z.object({
  User: z.object({ Id: idLike.nullish() }).nullish(),
  CustomerRoles: z.array(z.object({ CustomerId: idLike, AccountIds: z.array(idLike).nullish() }).nullable()).nullish(),
});
const accountsAnswer = z.object({
  AccountsInfo: z
    .array(z.object({ Id: idLike, Name: z.string().nullish(), Number: z.string().nullish(), AccountLifeCycleStatus: z.string().nullish() }).nullable())
    .nullish(),
});
const goalsAnswer = z.object({
  ConversionGoals: z
    .array(
      z
        .object({
          Id: idLike,
          Name: z.string().nullish(),
          Type: z.string().nullish(),
          Status: z.string().nullish(),
          // A flag may come as a boolean or as its text.
          IsEnhancedConversionsEnabled: z.union([z.boolean(), z.enum(['true', 'false', 'True', 'False'])]).nullish(),
        })
        .nullable(),
    )
    .nullish(),
});

/** The AADSTS number of a description (`AADSTS50011: …`), when it carries one. */
function aadsts(description: string | undefined): string | undefined {
  return description === undefined ? undefined : /AADSTS(\d+)/.exec(description)?.[1];
}

/** A token endpoint refusal (RFC 6749 §5.2 with AADSTS texts, microsoft-ads.md §7.1), read into a flow failure. Pure. */
export function microsoftTokenFailure(res: HttpResponse, what: string): OAuthFlowError {
  const err = tokenError.safeParse(res.json);
  const code = err.success ? err.data.error : `http_${res.status}`;
  const description = err.success ? err.data.error_description : undefined;
  // Microsoft's description repeats the request's details; its first sentence says what is wrong.
  const said = description === undefined ? '' : `: ${description.split(/\r?\n/)[0]}`;
  if (aadsts(description) === '50011') {
    return new OAuthFlowError('redirect_uri_mismatch', `Microsoft refused the ${what} (${code}${said}). Register the exact redirect URI shown on this page in the Azure app (Authentication → Web).`, code);
  }
  switch (code) {
    case 'invalid_grant':
      return new OAuthFlowError('invalid_grant', `Microsoft refused the ${what} (invalid_grant${said}). The code was used or has expired, or the access was withdrawn: connect again.`, code);
    case 'invalid_client':
    case 'unauthorized_client':
      return new OAuthFlowError('invalid_client', `Microsoft refused the ${what} (${code}${said}). Check PRUUV_MICROSOFT_CLIENT_ID and PRUUV_MICROSOFT_CLIENT_SECRET.`, code);
    default:
      return new OAuthFlowError('refused', `Microsoft refused the ${what} (${code}${said}).`, code);
  }
}

/** Reads a token endpoint's answer. Pure. */
export function readMicrosoftToken(res: HttpResponse, now: Date, what: string): OAuthTokenSet {
  if (res.status !== 200) throw microsoftTokenFailure(res, what);
  const ok = tokenResponse.safeParse(res.json);
  if (!ok.success) throw new OAuthFlowError('refused', `Microsoft answered the ${what} with an unexpected body (no access_token or expires_in).`);
  const t = ok.data;
  const out: OAuthTokenSet = {
    accessToken: t.access_token,
    expiresAt: new Date(now.getTime() + t.expires_in * 1000),
    scopes: (t.scope ?? '').split(' ').filter((s) => s !== ''),
  };
  if (t.refresh_token !== undefined) out.refreshToken = t.refresh_token;
  return out;
}

/** A Customer or Campaign Management fault, read into a flow failure that keeps Microsoft's code and message. */
function apiFailure(res: HttpResponse, what: string): OAuthFlowError {
  const fault = readFault(res.json);
  const first = fault?.errors[0];
  const code = first?.code;
  const said = first === undefined ? `HTTP ${res.status}` : `${code ?? ''} ${first.errorCode ?? ''}${first.message !== undefined ? `: ${first.message}` : ''}`.trim();
  const platformError = code !== undefined ? String(code) : `http_${res.status}`;
  if (code === 105) {
    // 105 is a bad access token or a bad developer token (microsoft-ads.md §10).
    return new OAuthFlowError('token_revoked', `Microsoft refused the credentials while ${what} (${said}). Check PRUUV_MICROSOFT_DEVELOPER_TOKEN, then connect again.`, platformError);
  }
  if (code === 109) return new OAuthFlowError('token_revoked', `Microsoft says the token expired while ${what} (${said}). Connect again.`, platformError);
  if (code === 3101) return new OAuthFlowError('scope_missing', `Microsoft refused the token while ${what} (${said}): it lacks msads.manage. Connect again.`, platformError);
  if (code === 106) return new OAuthFlowError('refused', `Microsoft says this user may not reach it while ${what} (${said}).`, platformError);
  return new OAuthFlowError('refused', `Microsoft refused ${what} (${said}).`, platformError);
}

/** The hosts of the grant's environment: the sandbox's for a sandbox grant. */
function hosts(tokens: OAuthTokenSet, ctx: OAuthCallContext): { customer: string; campaign: string; version: string } {
  const sandbox = isSandboxGrant(tokens);
  const pick = (key: string, fallback: string): string => (ctx.urls[key] ?? fallback).replace(/\/+$/, '');
  return {
    customer: sandbox ? pick('microsoftCustomerSandbox', MICROSOFT_CUSTOMER_SANDBOX_URL) : pick('microsoftCustomer', MICROSOFT_CUSTOMER_URL),
    campaign: sandbox ? pick('microsoftCampaignSandbox', MICROSOFT_CAMPAIGN_SANDBOX_URL) : pick('microsoftCampaign', MICROSOFT_CAMPAIGN_URL),
    version: ctx.versions['microsoft'] ?? MICROSOFT_API_VERSION,
  };
}

function developerToken(ctx: OAuthCallContext): string {
  const token = ctx.app.extra?.[MICROSOFT_DEVELOPER_TOKEN_ENV];
  if (token === undefined || token === '') {
    throw new OAuthFlowError('invalid_client', `Reading Microsoft Advertising accounts needs the developer token: set ${MICROSOFT_DEVELOPER_TOKEN_ENV}.`, 'no_developer_token');
  }
  return token;
}

async function call(ctx: OAuthCallContext, tokens: OAuthTokenSet, url: string, body: unknown, what: string, account?: { customerId: string; accountId: string }): Promise<unknown> {
  const headers: Record<string, string> = { authorization: `Bearer ${tokens.accessToken}`, developertoken: developerToken(ctx), 'content-type': 'application/json' };
  if (account !== undefined) {
    headers['customerid'] = account.customerId;
    headers['customeraccountid'] = account.accountId;
  }
  const res = await oauthCall(ctx, { method: 'POST', url, headers, body }, 'Microsoft Advertising');
  if (res.status !== 200) throw apiFailure(res, what);
  return res.json;
}

/** An ad account a person can pick, with the customer (manager account) it is under. */
export interface MicrosoftAccountChoice {
  customerId: string;
  accountId: string;
  name?: string;
  number?: string;
  status?: string;
}

/** An offline conversion goal of an account. */
export interface MicrosoftGoalChoice {
  id: string;
  name: string;
  status: string;
  enhanced: boolean;
}

/**
 * The ad accounts the token reaches: `User/Query` for the customers the user has a
 * role in, then `AccountsInfo/Query` per customer; a role limited to some accounts
 * (`AccountIds`) keeps only those (microsoft-ads.md §7.2).
 */
export async function microsoftAccounts(tokens: OAuthTokenSet, ctx: OAuthCallContext): Promise<MicrosoftAccountChoice[]> {
  const h = hosts(tokens, ctx);
  const user = userAnswer.safeParse(await call(ctx, tokens, `${h.customer}/CustomerManagement/${h.version}/User/Query`, { UserId: null }, 'reading the signed-in user'));
  if (!user.success) throw new OAuthFlowError('refused', 'Microsoft answered the user query with an unexpected body.');
  const out: MicrosoftAccountChoice[] = [];
  const seen = new Set<string>();
  const roles = (user.data.CustomerRoles ?? []).filter((r) => r !== null);
  for (const role of roles) {
    const accounts = accountsAnswer.safeParse(
      await call(ctx, tokens, `${h.customer}/CustomerManagement/${h.version}/AccountsInfo/Query`, { CustomerId: role.CustomerId, OnlyParentAccounts: false }, `listing the accounts of customer ${role.CustomerId}`),
    );
    if (!accounts.success) throw new OAuthFlowError('refused', 'Microsoft answered the account list with an unexpected body.');
    const only = role.AccountIds === null || role.AccountIds === undefined ? undefined : new Set(role.AccountIds);
    for (const a of accounts.data.AccountsInfo ?? []) {
      if (a === null || (only !== undefined && !only.has(a.Id)) || seen.has(`${role.CustomerId}:${a.Id}`)) continue;
      seen.add(`${role.CustomerId}:${a.Id}`);
      const c: MicrosoftAccountChoice = { customerId: role.CustomerId, accountId: a.Id };
      if (a.Name) c.name = a.Name;
      if (a.Number) c.number = a.Number;
      if (a.AccountLifeCycleStatus) c.status = a.AccountLifeCycleStatus;
      out.push(c);
    }
  }
  return out;
}

/** The account's offline conversion goals that are active, with their enhanced-conversions flag (microsoft-ads.md §7.2–§7.3). */
export async function microsoftGoals(tokens: OAuthTokenSet, account: { customerId: string; accountId: string }, ctx: OAuthCallContext): Promise<MicrosoftGoalChoice[]> {
  const h = hosts(tokens, ctx);
  const goals = goalsAnswer.safeParse(
    await call(
      ctx,
      tokens,
      `${h.campaign}/CampaignManagement/${h.version}/ConversionGoals/QueryByIds`,
      // Null ids: every goal of the type; no space after the comma (UNCONFIRMED whether allowed).
      { ConversionGoalIds: null, ConversionGoalTypes: 'OfflineConversion', ReturnAdditionalFields: 'IsEnhancedConversionsEnabled,IsExternallyAttributed' },
      `reading the conversion goals of account ${account.accountId}`,
      account,
    ),
  );
  if (!goals.success) throw new OAuthFlowError('refused', 'Microsoft answered the conversion goals with an unexpected body.');
  return (goals.data.ConversionGoals ?? []).flatMap((g) => {
    // A paused goal takes conversions and never counts them: not offered (microsoft-ads.md §7.3).
    if (g === null || !OFFLINE_TYPES.has(g.Type ?? '') || g.Status !== 'Active' || !g.Name) return [];
    const flag = g.IsEnhancedConversionsEnabled;
    return [{ id: g.Id, name: g.Name, status: g.Status, enhanced: flag === true || (typeof flag === 'string' && flag.toLowerCase() === 'true') }];
  });
}

const tagsAnswer = z.object({ UetTags: z.array(z.object({ Id: idLike, Name: z.string().nullish() }).nullable()).nullish() });
const tagKeyAnswer = z.object({
  UetTagAuthKey: z.string().nullish(),
  // The CAPI guide's shape (DISAGREE in microsoft-ads.md §8), read too.
  TagAuthKey: z.object({ AuthKey: z.string().nullish() }).nullish(),
});

/**
 * The account's UET tags (`UetTags/QueryByIds`, `TagIds: null`, MS-TAGKEY), for the UET Conversions
 * API path. A refusal reads as none: the offline path still works without them.
 */
export async function microsoftUetTags(tokens: OAuthTokenSet, account: { customerId: string; accountId: string }, ctx: OAuthCallContext): Promise<Array<{ id: string; name: string }>> {
  const h = hosts(tokens, ctx);
  let answer: unknown;
  try {
    answer = await call(ctx, tokens, `${h.campaign}/CampaignManagement/${h.version}/UetTags/QueryByIds`, { TagIds: null }, `listing the UET tags of account ${account.accountId}`, account);
  } catch (error) {
    if (error instanceof OAuthFlowError && error.kind === 'refused') return [];
    throw error;
  }
  const tags = tagsAnswer.safeParse(answer);
  if (!tags.success) return [];
  return (tags.data.UetTags ?? []).flatMap((t) => (t === null ? [] : [{ id: t.Id, name: t.Name ?? `UET tag ${t.Id}` }]));
}

/** A UET tag's Conversions API token (`UetTagAuthKey/Query` `{"UetTagId":…}`, the reference page and SDK shape, microsoft-ads.md §8). */
export async function microsoftUetTagKey(tokens: OAuthTokenSet, account: { customerId: string; accountId: string }, tagId: string, ctx: OAuthCallContext): Promise<string> {
  const h = hosts(tokens, ctx);
  const answer = tagKeyAnswer.safeParse(
    await call(ctx, tokens, `${h.campaign}/CampaignManagement/${h.version}/UetTagAuthKey/Query`, { UetTagId: tagId }, `reading the token of UET tag ${tagId}`, account),
  );
  const key = answer.success ? (answer.data.UetTagAuthKey ?? answer.data.TagAuthKey?.AuthKey) : undefined;
  if (key === undefined || key === null || key === '') throw new OAuthFlowError('refused', `Microsoft gave no Conversions API token for UET tag ${tagId}. Pick offline conversions, or paste the tag's token (Copy Token) on the Connections page.`, 'no_key');
  return key;
}

/** The path step's choice of offline conversions; a tag's is `uet:<tag id>`. */
const OFFLINE_PATH = 'offline';

const accountChoiceId = (a: MicrosoftAccountChoice): string => `${a.customerId}:${a.accountId}`;
const accountLabel = (a: MicrosoftAccountChoice): string => `${a.name ?? 'Account'} (${a.number ?? a.accountId})`;

async function tokenCall(ctx: OAuthCallContext, fields: Record<string, string>, what: string): Promise<OAuthTokenSet> {
  const res = await oauthCall(
    ctx,
    { method: 'POST', url: ctx.urls['token'] ?? MICROSOFT_TOKEN_URL, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() },
    "Microsoft's token endpoint",
  );
  return readMicrosoftToken(res, ctx.now(), what);
}

/**
 * A refresh for the given environment: a new access token and, when Microsoft rotates it, a
 * new refresh token that replaces the old one (microsoft-ads.md §7.1). `invalid_grant` means the
 * grant is gone (password change, consent withdrawn): `token_revoked`.
 */
export async function refreshMicrosoft(refreshToken: string, ctx: OAuthCallContext, options: { sandbox?: boolean } = {}): Promise<OAuthTokenSet> {
  try {
    return await tokenCall(
      ctx,
      {
        client_id: ctx.app.clientId,
        client_secret: ctx.app.clientSecret,
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        scope: options.sandbox === true ? MICROSOFT_SANDBOX_SCOPE : MICROSOFT_SCOPE,
      },
      'token refresh',
    );
  } catch (error) {
    if (error instanceof OAuthFlowError && error.kind === 'invalid_grant') {
      throw new OAuthFlowError('token_revoked', `${error.message.replace(/ connect again\.$/, '')} Reconnect the Microsoft account.`, 'invalid_grant', { cause: error });
    }
    throw error;
  }
}

/** Microsoft's OAuth provider: identity platform v2.0 with PKCE, then customer and account, then offline goal. */
export const microsoftOAuth: OAuthProvider = {
  platform: 'microsoft',
  env: {
    clientId: 'PRUUV_MICROSOFT_CLIENT_ID',
    clientSecret: 'PRUUV_MICROSOFT_CLIENT_SECRET',
    extra: [MICROSOFT_DEVELOPER_TOKEN_ENV],
    urls: {
      authorize: 'PRUUV_MICROSOFT_OAUTH_AUTHORIZE_URL',
      token: 'PRUUV_MICROSOFT_OAUTH_TOKEN_URL',
      microsoftCustomer: 'PRUUV_MICROSOFT_CUSTOMER_API_URL',
      microsoftCustomerSandbox: 'PRUUV_MICROSOFT_CUSTOMER_SANDBOX_API_URL',
      microsoftCampaign: 'PRUUV_MICROSOFT_CAMPAIGN_API_URL',
      microsoftCampaignSandbox: 'PRUUV_MICROSOFT_CAMPAIGN_SANDBOX_API_URL',
    },
  },
  urls: {
    authorize: MICROSOFT_AUTHORIZE_URL,
    token: MICROSOFT_TOKEN_URL,
    microsoftCustomer: MICROSOFT_CUSTOMER_URL,
    microsoftCustomerSandbox: MICROSOFT_CUSTOMER_SANDBOX_URL,
    microsoftCampaign: MICROSOFT_CAMPAIGN_URL,
    microsoftCampaignSandbox: MICROSOFT_CAMPAIGN_SANDBOX_URL,
  },
  pkce: true,
  // The grant is the server's Azure app's: a pasted app id, secret or developer token is cleared
  // (the `PRUUV_MICROSOFT_*` ones apply), so the refresh token and the app always match.
  fills: [
    'customer_id', 'account_id', 'goal_name', 'goal_id', 'enhanced_conversions', 'test_mode', 'api', 'uet_tag_id', 'uet_api_token',
    'refresh_token', 'developer_token', 'client_id', 'client_secret',
  ],
  // Microsoft has no endpoint that revokes a grant for the app (microsoft-ads.md §7.1).
  disconnectHint:
    'Microsoft offers no way for Pruuv to revoke the access: the person who connected removes the app at https://account.live.com/consent/Manage (a personal Microsoft account) or at https://myapps.microsoft.com (a work or school account).',

  authorizeUrl(input, ctx) {
    const params: Record<string, string> = {
      client_id: ctx.app.clientId,
      response_type: 'code',
      redirect_uri: input.redirectUri,
      response_mode: 'query',
      scope: microsoftScopeFor(input.settings),
      state: input.state,
      // An agency's person often has several Microsoft accounts.
      prompt: 'select_account',
    };
    return authorizationUrl(ctx.urls['authorize'] ?? MICROSOFT_AUTHORIZE_URL, params, input.codeChallenge);
  },

  readCallback: readStandardCallback,

  async exchangeCode(input, ctx) {
    const scope = microsoftScopeFor(input.settings);
    const fields: Record<string, string> = {
      client_id: ctx.app.clientId,
      client_secret: ctx.app.clientSecret,
      grant_type: 'authorization_code',
      code: input.code,
      redirect_uri: input.redirectUri,
      scope,
    };
    if (input.codeVerifier !== undefined) fields['code_verifier'] = input.codeVerifier;
    const tokens = await tokenCall(ctx, fields, 'authorization code');
    if (tokens.refreshToken === undefined) {
      throw new OAuthFlowError('refused', 'Microsoft sent no refresh token (offline_access not granted), so Pruuv could not send on its own. Connect again and accept every permission.', 'no_refresh_token');
    }
    const wanted = scope === MICROSOFT_SANDBOX_SCOPE ? ADS_SCOPE.sandbox : ADS_SCOPE.production;
    if (!tokens.scopes.includes(wanted)) {
      throw new OAuthFlowError('scope_missing', `Microsoft granted no access to ${wanted}. Connect again and accept every permission; in the Azure app, add the Microsoft Advertising API permission msads.manage.`, 'scope_missing');
    }
    return tokens;
  },

  refresh(refreshToken, ctx) {
    // The provider's refresh is the production grant's; the send runtime refreshes with the connection's own scope.
    return refreshMicrosoft(refreshToken, ctx);
  },

  async discover(tokens, picks, ctx): Promise<DiscoveryResult> {
    const accounts = await microsoftAccounts(tokens, ctx);
    if (accounts.length === 0) {
      throw new OAuthFlowError('nothing_found', 'This Microsoft account reaches no Microsoft Advertising account. Sign in with a user of the advertiser (or of its agency) and connect again.');
    }
    const [pickedAccount, pickedGoal, pickedPath] = picks;
    if (pickedAccount === undefined) {
      const choices: DiscoveryChoice[] = accounts.map((a) => ({
        id: accountChoiceId(a),
        label: accountLabel(a),
        detail: [`customer ${a.customerId}`, `account id ${a.accountId}`, a.status].filter((s) => s !== undefined).join(' · '),
      }));
      return { kind: 'choose', step: { key: 'account', title: 'Which Microsoft Advertising account receives the conversions?', choices } };
    }
    const account = accounts.find((a) => accountChoiceId(a) === pickedAccount);
    if (account === undefined) throw new OAuthFlowError('refused', 'The account picked is not among those this Microsoft account reaches. Pick again.');
    const goals = await microsoftGoals(tokens, account, ctx);
    if (goals.length === 0) {
      throw new OAuthFlowError(
        'nothing_found',
        `${accountLabel(account)} has no active offline conversion goal. Create one in Microsoft Advertising (Conversions → Conversion goals → Create → Offline conversions), wait two hours, then connect again.`,
      );
    }
    if (pickedGoal === undefined) {
      return {
        kind: 'choose',
        step: {
          key: 'goal',
          title: `Which offline conversion goal of ${accountLabel(account)}?`,
          choices: goals.map((g) => ({ id: g.id, label: g.name, detail: `goal id ${g.id} · enhanced conversions ${g.enhanced ? 'on' : 'off'}` })),
        },
      };
    }
    const goal = goals.find((g) => g.id === pickedGoal);
    if (goal === undefined) throw new OAuthFlowError('refused', "The goal picked is not among this account's active offline goals. Pick again.");
    const settings: Record<string, string> = {
      customer_id: account.customerId,
      account_id: account.accountId,
      goal_name: goal.name,
      goal_id: goal.id,
      enhanced_conversions: goal.enhanced ? 'true' : 'false',
      api: 'offline-conversions',
    };
    if (isSandboxGrant(tokens)) settings['test_mode'] = 'true';
    // The path, when the account has UET tags: offline conversions, or the UET Conversions API to one
    // tag (one path per connection: no cross-path dedup is documented, microsoft-ads.md §1).
    const tags = await microsoftUetTags(tokens, account, ctx);
    let path = '';
    if (tags.length > 0) {
      if (pickedPath === undefined) {
        return {
          kind: 'choose',
          step: {
            key: 'path',
            title: `Send the conversions to the offline goal "${goal.name}", or through the UET Conversions API to a UET tag?`,
            choices: [
              { id: OFFLINE_PATH, label: 'Offline conversions (recommended)', detail: `to the offline goal ${goal.name} · every account · 90 days to retry` },
              ...tags.map((t) => ({
                id: `uet:${t.id}`,
                label: `UET Conversions API to ${t.name}`,
                detail: `tag id ${t.id} · only for accounts that have the Conversions API · events of the last 7 days · deduplicated with the site's UET tag by event id`,
              })),
            ],
          },
        };
      }
      const tag = pickedPath.startsWith('uet:') ? tags.find((t) => `uet:${t.id}` === pickedPath) : undefined;
      if (pickedPath !== OFFLINE_PATH && tag === undefined) throw new OAuthFlowError('refused', "The path picked is not one of this account's. Pick again.");
      if (tag !== undefined) {
        settings['api'] = 'uet-capi';
        settings['uet_tag_id'] = tag.id;
        // A secret: the flow stores it encrypted with the refresh token; never in the summary.
        settings['uet_api_token'] = await microsoftUetTagKey(tokens, account, tag.id, ctx);
        path = ` · UET Conversions API to ${tag.name} (${tag.id})`;
      }
    }
    return {
      kind: 'done',
      settings,
      summary: `${accountLabel(account)} · customer ${account.customerId} · ${goal.name}${goal.enhanced ? ' (enhanced conversions)' : ''}${path}${isSandboxGrant(tokens) ? ' · sandbox' : ''}`,
    };
  },

  credentials(tokens) {
    if (tokens.refreshToken === undefined) throw new OAuthFlowError('refused', 'Microsoft sent no refresh token; connect again.', 'no_refresh_token');
    return { refresh_token: tokens.refreshToken };
  },

  health(grant) {
    // The runtime refreshes the access token alone; a refresh token has no stated lifetime (microsoft-ads.md §7.1).
    return grant.expiresAt === undefined ? {} : { accessExpiresAt: grant.expiresAt };
  },
};
