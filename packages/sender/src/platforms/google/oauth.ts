/**
 * Google's "Connect": the OAuth 2.0 web-server flow with PKCE, the Ads
 * accounts the token reaches (directly and under managers), their conversion
 * actions, and what a grant's lifetime asks of the user (oauth.md §2).
 */
import { z } from 'zod';
import type { HttpResponse } from '../../http.js';
import { GOOGLE_TOKEN_URL } from '../../oauth.js';
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
import { GOOGLE_ADS_API_VERSION, GOOGLE_ADS_BASE_URL } from './ads.js';

/** Scopes: `adwords` for the Ads API and discovery, `datamanager` for `events:ingest` (oauth.md §2.1). */
export const GOOGLE_OAUTH_SCOPES = {
  ads: 'https://www.googleapis.com/auth/adwords',
  dataManager: 'https://www.googleapis.com/auth/datamanager',
} as const;

/** Refresh tokens of an app whose publishing status is "Testing" stop working 7 days after consent (oauth.md §2.4, G-RT). */
export const GOOGLE_TESTING_GRANT_MS = 7 * 24 * 3600 * 1000;

/** The variable that says the OAuth app is in "Testing" status: Google tells no API client, so the self-hoster does. */
export const GOOGLE_PUBLISHING_STATUS_ENV = 'PRUUV_GOOGLE_OAUTH_PUBLISHING_STATUS';

/**
 * The scopes a connection needs: `adwords` always (the picker reads accounts
 * and conversion actions with it, even on the Data Manager path), `datamanager`
 * unless the connection uploads with the Ads API.
 */
export function googleScopesFor(settings: Readonly<Record<string, unknown>>): string[] {
  return settings['api'] === 'ads' ? [GOOGLE_OAUTH_SCOPES.ads] : [GOOGLE_OAUTH_SCOPES.ads, GOOGLE_OAUTH_SCOPES.dataManager];
}

const tokenResponse = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().positive(),
  refresh_token: z.string().min(1).optional(),
  // Sent for time-limited grants; absent otherwise.
  refresh_token_expires_in: z.number().positive().optional(),
  scope: z.string().optional(),
  token_type: z.string().optional(),
});
const tokenError = z.object({ error: z.string(), error_description: z.string().optional() });

/** `{"error":{"code":403,"message":"…","status":"PERMISSION_DENIED","details":[…]}}`, Google's RPC error envelope. */
const rpcError = z.object({
  error: z.object({ code: z.number().optional(), message: z.string().optional(), status: z.string().optional(), details: z.array(z.unknown()).optional() }),
});

const accessible = z.object({ resourceNames: z.array(z.string()).optional() });
const customerClientRow = z.object({
  customerClient: z.object({
    clientCustomer: z.string().optional(),
    level: z.union([z.string(), z.number()]).optional(),
    manager: z.boolean().optional(),
    descriptiveName: z.string().optional(),
    currencyCode: z.string().optional(),
    timeZone: z.string().optional(),
    id: z.union([z.string(), z.number()]).optional(),
  }),
});
const conversionActionRow = z.object({
  conversionAction: z.object({
    resourceName: z.string().optional(),
    id: z.union([z.string(), z.number()]),
    name: z.string().optional(),
    status: z.string().optional(),
    type: z.string().optional(),
    category: z.string().optional(),
  }),
});
const searchPage = z.object({ results: z.array(z.unknown()).optional(), nextPageToken: z.string().optional() });

/** The account hierarchy, two levels per query from each account (G-HIER). */
export const CUSTOMER_CLIENT_QUERY =
  'SELECT customer_client.client_customer, customer_client.level, customer_client.manager, customer_client.descriptive_name, ' +
  'customer_client.currency_code, customer_client.time_zone, customer_client.id FROM customer_client WHERE customer_client.level <= 1';

/** Conversion actions offline click uploads can use (oauth.md §2.3 step 4). */
export const CONVERSION_ACTION_QUERY =
  'SELECT conversion_action.resource_name, conversion_action.id, conversion_action.name, conversion_action.status, ' +
  "conversion_action.type, conversion_action.category FROM conversion_action WHERE conversion_action.type = 'UPLOAD_CLICKS' " +
  "AND conversion_action.status = 'ENABLED'";

/** An Ads account a person can pick: a leaf (not a manager), with the manager it is reached through. */
export interface GoogleAccountChoice {
  customerId: string;
  /** The manager the account was found under, sent as `login-customer-id`; `undefined` for an account reached directly. */
  loginCustomerId?: string;
  name?: string;
  currencyCode?: string;
  timeZone?: string;
  /** Names of the managers above it, top first. */
  path: readonly string[];
}

const digits = (s: string | number | undefined): string => String(s ?? '').replace(/\D/g, '');
const dashed = (id: string): string => (id.length === 10 ? `${id.slice(0, 3)}-${id.slice(3, 6)}-${id.slice(6)}` : id);

function tokenFailure(res: HttpResponse, what: string): OAuthFlowError {
  const err = tokenError.safeParse(res.json);
  const code = err.success ? err.data.error : `http_${res.status}`;
  const said = err.success && err.data.error_description ? `: ${err.data.error_description}` : '';
  switch (code) {
    case 'invalid_grant':
      return new OAuthFlowError('invalid_grant', `Google refused the ${what} (invalid_grant${said}). The code was used or has expired, or the grant was revoked: connect again.`, code);
    case 'redirect_uri_mismatch':
      return new OAuthFlowError('redirect_uri_mismatch', `Google refused the ${what} (redirect_uri_mismatch${said}). Register the exact redirect URI shown on this page in the OAuth client.`, code);
    case 'invalid_client':
    case 'unauthorized_client':
      return new OAuthFlowError('invalid_client', `Google refused the ${what} (${code}${said}). Check PRUUV_GOOGLE_OAUTH_CLIENT_ID and PRUUV_GOOGLE_OAUTH_CLIENT_SECRET.`, code);
    default:
      return new OAuthFlowError('refused', `Google refused the ${what} (${code}${said}).`, code);
  }
}

function readTokens(res: HttpResponse, now: Date, what: string): OAuthTokenSet {
  if (res.status !== 200) throw tokenFailure(res, what);
  const ok = tokenResponse.safeParse(res.json);
  if (!ok.success) throw new OAuthFlowError('refused', `Google answered the ${what} with an unexpected body (no access_token or expires_in).`);
  const t = ok.data;
  const out: OAuthTokenSet = {
    accessToken: t.access_token,
    expiresAt: new Date(now.getTime() + t.expires_in * 1000),
    scopes: (t.scope ?? '').split(' ').filter((s) => s !== ''),
  };
  if (t.refresh_token !== undefined) out.refreshToken = t.refresh_token;
  if (t.refresh_token_expires_in !== undefined) out.refreshTokenExpiresAt = new Date(now.getTime() + t.refresh_token_expires_in * 1000);
  return out;
}

function apiFailure(res: HttpResponse, what: string): OAuthFlowError {
  const err = rpcError.safeParse(res.json);
  const status = err.success ? (err.data.error.status ?? `HTTP ${res.status}`) : `HTTP ${res.status}`;
  const message = err.success && err.data.error.message ? `: ${err.data.error.message}` : '';
  const text = JSON.stringify(res.json ?? '');
  if (res.status === 401) return new OAuthFlowError('token_revoked', `Google refused the token while ${what} (${status}${message}). Connect again.`, status);
  if (res.status === 403 && text.includes('ACCESS_TOKEN_SCOPE_INSUFFICIENT')) {
    return new OAuthFlowError('scope_missing', `Google says a permission is missing while ${what} (ACCESS_TOKEN_SCOPE_INSUFFICIENT). Connect again and allow every permission asked.`, 'ACCESS_TOKEN_SCOPE_INSUFFICIENT');
  }
  return new OAuthFlowError('refused', `Google refused ${what} (${status}${message}).`, status);
}

function adsBase(ctx: OAuthCallContext): string {
  return `${ctx.urls['googleAds'] ?? GOOGLE_ADS_BASE_URL}/${ctx.versions['googleAds'] ?? GOOGLE_ADS_API_VERSION}`;
}

function headers(tokens: OAuthTokenSet, loginCustomerId?: string): Record<string, string> {
  const h: Record<string, string> = { authorization: `Bearer ${tokens.accessToken}`, 'content-type': 'application/json' };
  if (loginCustomerId !== undefined) h['login-customer-id'] = loginCustomerId;
  return h;
}

/** Every row of one GAQL query, page after page (`nextPageToken` back as `pageToken`; no `pageSize`, G-ADS). */
async function searchAll(ctx: OAuthCallContext, tokens: OAuthTokenSet, customerId: string, loginCustomerId: string | undefined, query: string, what: string): Promise<unknown[]> {
  const rows: unknown[] = [];
  let pageToken: string | undefined;
  // A bound so a platform that keeps sending page tokens cannot hold the page forever.
  for (let page = 0; page < 200; page++) {
    const body: Record<string, string> = { query };
    if (pageToken !== undefined) body['pageToken'] = pageToken;
    const res = await oauthCall(
      ctx,
      { method: 'POST', url: `${adsBase(ctx)}/customers/${customerId}/googleAds:search`, headers: headers(tokens, loginCustomerId), body },
      'Google Ads',
    );
    if (res.status !== 200) throw apiFailure(res, what);
    const parsed = searchPage.safeParse(res.json);
    if (!parsed.success) throw new OAuthFlowError('refused', `Google Ads answered ${what} with an unexpected body.`);
    rows.push(...(parsed.data.results ?? []));
    pageToken = parsed.data.nextPageToken;
    if (pageToken === undefined || pageToken === '') return rows;
  }
  return rows;
}

/**
 * The accounts the token reaches: each directly accessible account, and under
 * each manager its client accounts, breadth-first with a visited set (a client
 * can sit under two managers, G-HIER). Managers are not listed (conversions
 * are uploaded to client accounts); the top manager an account is found under
 * is its `login-customer-id`.
 */
export async function googleAccounts(tokens: OAuthTokenSet, ctx: OAuthCallContext): Promise<GoogleAccountChoice[]> {
  const res = await oauthCall(ctx, { method: 'GET', url: `${adsBase(ctx)}/customers:listAccessibleCustomers`, headers: headers(tokens) }, 'Google Ads');
  if (res.status !== 200) throw apiFailure(res, 'listing the accessible accounts');
  const roots = (accessible.safeParse(res.json).data?.resourceNames ?? []).map((name) => digits(name.replace(/^customers\//, ''))).filter((id) => id !== '');
  const out: GoogleAccountChoice[] = [];
  const seen = new Set<string>();
  for (const root of roots) {
    if (seen.has(root)) continue;
    // Each queue entry: an account to read, reached under `login` (the root manager) with `path` above it.
    const queue: Array<{ id: string; path: string[] }> = [{ id: root, path: [] }];
    while (queue.length > 0) {
      const { id, path } = queue.shift() as { id: string; path: string[] };
      if (seen.has(id)) continue;
      seen.add(id);
      const rows = await searchAll(ctx, tokens, id, root, CUSTOMER_CLIENT_QUERY, `reading the accounts under ${dashed(id)}`);
      const clients = rows.flatMap((r) => {
        const p = customerClientRow.safeParse(r);
        return p.success ? [p.data.customerClient] : [];
      });
      const self = clients.find((c) => String(c.level ?? '') === '0');
      if (self?.manager === true) {
        const name = self.descriptiveName ?? dashed(id);
        for (const child of clients) {
          if (String(child.level ?? '') !== '1') continue;
          const childId = digits(child.id ?? child.clientCustomer?.replace(/^customers\//, ''));
          if (childId === '' || seen.has(childId)) continue;
          if (child.manager === true) {
            queue.push({ id: childId, path: [...path, name] });
          } else {
            seen.add(childId);
            out.push(account(childId, root, [...path, name], child));
          }
        }
      } else {
        // A client account reached directly (or a test account that returns no rows).
        out.push(account(id, id === root ? undefined : root, path, self ?? {}));
      }
    }
  }
  return out;
}

function account(
  id: string,
  login: string | undefined,
  path: string[],
  c: { descriptiveName?: string | undefined; currencyCode?: string | undefined; timeZone?: string | undefined },
): GoogleAccountChoice {
  const a: GoogleAccountChoice = { customerId: id, path };
  if (login !== undefined) a.loginCustomerId = login;
  if (c.descriptiveName !== undefined) a.name = c.descriptiveName;
  if (c.currencyCode !== undefined) a.currencyCode = c.currencyCode;
  if (c.timeZone !== undefined) a.timeZone = c.timeZone;
  return a;
}

const accountChoiceId = (a: GoogleAccountChoice): string => `${a.customerId}:${a.loginCustomerId ?? ''}`;

function accountChoice(a: GoogleAccountChoice): DiscoveryChoice {
  const detail = [a.path.length > 0 ? `under ${a.path.join(' › ')}` : 'direct access', a.currencyCode, a.timeZone].filter((s) => s !== undefined).join(' · ');
  return { id: accountChoiceId(a), label: `${a.name ?? 'Account'} (${dashed(a.customerId)})`, detail };
}

/** Google's OAuth provider: PKCE S256, offline access with consent, Ads accounts then conversion actions. */
export const googleOAuth: OAuthProvider = {
  platform: 'google',
  env: {
    clientId: 'PRUUV_GOOGLE_OAUTH_CLIENT_ID',
    clientSecret: 'PRUUV_GOOGLE_OAUTH_CLIENT_SECRET',
    optional: [GOOGLE_PUBLISHING_STATUS_ENV],
    urls: {
      authorize: 'PRUUV_GOOGLE_OAUTH_AUTH_URL',
      token: 'PRUUV_GOOGLE_OAUTH_TOKEN_URL',
      revoke: 'PRUUV_GOOGLE_OAUTH_REVOKE_URL',
      googleAds: 'PRUUV_GOOGLE_ADS_API_URL',
    },
  },
  urls: {
    authorize: 'https://accounts.google.com/o/oauth2/v2/auth',
    token: GOOGLE_TOKEN_URL,
    revoke: 'https://oauth2.googleapis.com/revoke',
    googleAds: GOOGLE_ADS_BASE_URL,
  },
  pkce: true,
  fills: ['customer_id', 'login_customer_id', 'conversion_action_id', 'client_id', 'client_secret', 'refresh_token'],

  authorizeUrl(input, ctx) {
    const params: Record<string, string> = {
      client_id: ctx.app.clientId,
      redirect_uri: input.redirectUri,
      response_type: 'code',
      scope: googleScopesFor(input.settings).join(' '),
      // A refresh token, and a new one even for a user who consented before (oauth.md §2.1).
      access_type: 'offline',
      // select_account: an agency's person often has several Google accounts.
      prompt: 'consent select_account',
      state: input.state,
    };
    return authorizationUrl(ctx.urls['authorize'] ?? this.urls['authorize'] ?? '', params, input.codeChallenge);
  },

  readCallback: readStandardCallback,

  async exchangeCode(input, ctx) {
    const fields: Record<string, string> = {
      grant_type: 'authorization_code',
      code: input.code,
      client_id: ctx.app.clientId,
      client_secret: ctx.app.clientSecret,
      redirect_uri: input.redirectUri,
    };
    if (input.codeVerifier !== undefined) fields['code_verifier'] = input.codeVerifier;
    const res = await oauthCall(
      ctx,
      { method: 'POST', url: ctx.urls['token'] ?? GOOGLE_TOKEN_URL, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() },
      "Google's token endpoint",
    );
    const tokens = readTokens(res, ctx.now(), 'authorization code');
    if (tokens.refreshToken === undefined) {
      throw new OAuthFlowError(
        'refused',
        'Google sent no refresh token, so Pruuv could not send on its own. Remove Pruuv at https://myaccount.google.com/permissions and connect again.',
        'no_refresh_token',
      );
    }
    const missing = googleScopesFor(input.settings).filter((s) => !tokens.scopes.includes(s));
    if (missing.length > 0) {
      throw new OAuthFlowError('scope_missing', `Google granted no access to ${missing.join(', ')}. Connect again and tick every permission on Google's page.`, 'scope_missing');
    }
    return tokens;
  },

  async refresh(refreshToken, ctx) {
    const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: ctx.app.clientId, client_secret: ctx.app.clientSecret }).toString();
    const res = await oauthCall(ctx, { method: 'POST', url: ctx.urls['token'] ?? GOOGLE_TOKEN_URL, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }, "Google's token endpoint");
    try {
      return readTokens(res, ctx.now(), 'token refresh');
    } catch (error) {
      // invalid_grant on a refresh: the grant is gone (revoked, expired, 7-day testing limit), oauth.md §2.4.
      if (error instanceof OAuthFlowError && error.kind === 'invalid_grant') {
        throw new OAuthFlowError('token_revoked', 'Google refused the refresh token (invalid_grant): the access was revoked or has expired. Reconnect the Google account.', 'invalid_grant', { cause: error });
      }
      throw error;
    }
  },

  async revoke(token, ctx) {
    const url = new URL(ctx.urls['revoke'] ?? this.urls['revoke'] ?? '');
    url.searchParams.set('token', token);
    const res = await oauthCall(ctx, { method: 'POST', url: url.href, headers: { 'content-type': 'application/x-www-form-urlencoded' } }, "Google's revoke endpoint");
    if (res.status === 200) return;
    // An unknown or already revoked token: nothing is left to revoke.
    if (res.status === 400 && tokenError.safeParse(res.json).data?.error === 'invalid_token') return;
    throw tokenFailure(res, 'revocation');
  },

  async discover(tokens, picks, ctx): Promise<DiscoveryResult> {
    const accounts = await googleAccounts(tokens, ctx);
    if (accounts.length === 0) {
      throw new OAuthFlowError('nothing_found', 'This Google account reaches no Google Ads account. Sign in with a user of the Ads account (or of its manager account) and connect again.');
    }
    const [pickedAccount, pickedAction] = picks;
    if (pickedAccount === undefined) {
      return { kind: 'choose', step: { key: 'customer', title: 'Which Google Ads account receives the conversions?', choices: accounts.map(accountChoice) } };
    }
    const chosen = accounts.find((a) => accountChoiceId(a) === pickedAccount);
    if (chosen === undefined) throw new OAuthFlowError('refused', 'The account picked is not among those this Google account reaches. Pick again.');
    const rows = await searchAll(ctx, tokens, chosen.customerId, chosen.loginCustomerId ?? chosen.customerId, CONVERSION_ACTION_QUERY, `reading the conversion actions of ${dashed(chosen.customerId)}`);
    const actions = rows.flatMap((r) => {
      const p = conversionActionRow.safeParse(r);
      return p.success ? [p.data.conversionAction] : [];
    });
    if (actions.length === 0) {
      throw new OAuthFlowError(
        'nothing_found',
        `${chosen.name ?? dashed(chosen.customerId)} has no enabled conversion action of type "Import from clicks" (UPLOAD_CLICKS). Create one in Google Ads (Goals → Conversions → New → Import → CRM, files, or other data sources → Track conversions from clicks), then connect again.`,
      );
    }
    if (pickedAction === undefined) {
      return {
        kind: 'choose',
        step: {
          key: 'conversion_action',
          title: `Which conversion action of ${chosen.name ?? dashed(chosen.customerId)}?`,
          choices: actions.map((a) => ({ id: digits(a.id), label: a.name ?? `Conversion action ${digits(a.id)}`, detail: [a.category, `id ${digits(a.id)}`].filter((s) => s !== undefined).join(' · ') })),
        },
      };
    }
    const action = actions.find((a) => digits(a.id) === pickedAction);
    if (action === undefined) throw new OAuthFlowError('refused', 'The conversion action picked is not among this account\'s. Pick again.');
    const settings: Record<string, string> = { customer_id: chosen.customerId, conversion_action_id: digits(action.id) };
    if (chosen.loginCustomerId !== undefined) settings['login_customer_id'] = chosen.loginCustomerId;
    return {
      kind: 'done',
      settings,
      summary: `${chosen.name ?? 'Account'} (${dashed(chosen.customerId)}) · ${action.name ?? digits(action.id)}${chosen.loginCustomerId !== undefined ? ` · through manager ${dashed(chosen.loginCustomerId)}` : ''}`,
    };
  },

  credentials(tokens, app) {
    if (tokens.refreshToken === undefined) throw new OAuthFlowError('refused', 'Google sent no refresh token; connect again.', 'no_refresh_token');
    return { client_id: app.clientId, client_secret: app.clientSecret, refresh_token: tokens.refreshToken };
  },

  health(grant, app) {
    const out: { accessExpiresAt?: Date; userActionBy?: Date } = {};
    if (grant.expiresAt !== undefined) out.accessExpiresAt = grant.expiresAt;
    if (grant.refreshTokenExpiresAt !== undefined) out.userActionBy = grant.refreshTokenExpiresAt;
    else if (app.extra?.[GOOGLE_PUBLISHING_STATUS_ENV]?.toLowerCase() === 'testing') {
      // Google does not say which apps are in "Testing": the self-hoster does (README, "Connect your ad accounts").
      out.userActionBy = new Date(grant.grantedAt.getTime() + GOOGLE_TESTING_GRANT_MS);
    }
    return out;
  },
};
