/**
 * Fake Google Ads discovery (oauth.md §2.3, §5.1): `customers:listAccessibleCustomers`
 * and `googleAds:search` answering only the two GAQL queries of the picker, over
 * a seeded hierarchy (manager → sub-manager → client, a client under two
 * managers, a test account with no rows), paged with opaque tokens, with the
 * `login-customer-id` rule for accounts reached through a manager.
 */
import { authorization, GOOGLE_SCOPES, type IssuedToken, type TokenStore } from './google-oauth.js';
import { adsRpcError, MISSING_CREDENTIALS_MESSAGE, rpcError } from './google-rpc.js';
import { ADS_API_VERSIONS } from './google-ads.js';
import { header, isRecord, type FakeAnswer, type FakeHttpRequest } from './request.js';

/** A conversion action of a seeded account. */
export interface FakeConversionAction {
  id: string;
  name: string;
  type: string;
  status: string;
  category?: string;
}

/** An Ads account of the seeded hierarchy. */
export interface FakeAdsAccount {
  /** 10 digits. */
  id: string;
  name: string;
  manager: boolean;
  /** The managers directly above it. */
  parents?: string[];
  currencyCode?: string;
  timeZone?: string;
  conversionActions?: FakeConversionAction[];
  /** A test account: its `customer_client` query returns no rows (G-HIER). */
  noRows?: boolean;
}

/** The default hierarchy: the default upload customer `1234567890` is a client under a sub-manager. */
export const DEFAULT_ADS_ACCOUNTS: readonly FakeAdsAccount[] = [
  { id: '1110000001', name: 'Agency MCC', manager: true, currencyCode: 'EUR', timeZone: 'Europe/Berlin' },
  { id: '2220000002', name: 'Agency EU clients', manager: true, parents: ['1110000001'], currencyCode: 'EUR', timeZone: 'Europe/Berlin' },
  {
    id: '1234567890', name: 'Client A', manager: false, parents: ['2220000002'], currencyCode: 'EUR', timeZone: 'Europe/Berlin',
    conversionActions: [
      { id: '987654321', name: 'Qualified lead (import)', type: 'UPLOAD_CLICKS', status: 'ENABLED', category: 'QUALIFIED_LEAD' },
      { id: '987654322', name: 'Purchase (import)', type: 'UPLOAD_CLICKS', status: 'ENABLED', category: 'PURCHASE' },
      { id: '987654323', name: 'Old import', type: 'UPLOAD_CLICKS', status: 'REMOVED', category: 'PURCHASE' },
      { id: '987654324', name: 'Website purchase', type: 'WEBPAGE', status: 'ENABLED', category: 'PURCHASE' },
    ],
  },
  { id: '3330000003', name: 'Client B', manager: false, parents: ['1110000001', '4440000004'], currencyCode: 'USD', timeZone: 'America/New_York',
    conversionActions: [{ id: '555000111', name: 'Signed contract', type: 'UPLOAD_CLICKS', status: 'ENABLED', category: 'CONVERTED_LEAD' }] },
  { id: '4440000004', name: 'Other MCC', manager: true, currencyCode: 'USD', timeZone: 'America/New_York' },
  { id: '5550000005', name: 'Test account', manager: false, noRows: true },
];

/** The accounts a user of the default consent reaches directly. */
export const DEFAULT_ACCESSIBLE: readonly string[] = ['1110000001', '4440000004', '5550000005'];

/** What the discovery routes need. */
export interface AccountsContext {
  accounts: ReadonlyMap<string, FakeAdsAccount>;
  tokens: TokenStore;
  now: () => Date;
  /** Rows per page of `googleAds:search`. */
  pageSize: number;
}

const LIST = /^\/(v\d+)\/customers:listAccessibleCustomers$/;
const SEARCH = /^\/(v\d+)\/customers\/(\d+)\/googleAds:search$/;

/** Whether the path is one of the discovery routes (the Ads route sends these here). */
export function isDiscoveryPath(path: string): boolean {
  return LIST.test(path) || SEARCH.test(path);
}

/** `ancestor` is `id` or a manager above it. */
function above(accounts: ReadonlyMap<string, FakeAdsAccount>, ancestor: string, id: string, seen = new Set<string>()): boolean {
  if (ancestor === id) return true;
  if (seen.has(id)) return false;
  seen.add(id);
  return (accounts.get(id)?.parents ?? []).some((p) => above(accounts, ancestor, p, seen));
}

function bearer(req: FakeHttpRequest, ctx: AccountsContext, version: string): { ok: true; token: IssuedToken } | { ok: false; answer: FakeAnswer } {
  const checked = ctx.tokens.check(authorization(req), ctx.now().getTime());
  if (!checked.ok) {
    const code = { missing: 'OAUTH_TOKEN_HEADER_INVALID', unknown: 'OAUTH_TOKEN_INVALID', expired: 'OAUTH_TOKEN_EXPIRED' }[checked.refusal];
    const message = checked.refusal === 'missing' ? MISSING_CREDENTIALS_MESSAGE : undefined;
    return { ok: false, answer: adsRpcError(401, 'UNAUTHENTICATED', version, [{ errorCode: { authenticationError: code }, message: `Authentication failed: ${code}.` }], message) };
  }
  if (!checked.token.scopes.has(GOOGLE_SCOPES.ads)) {
    return {
      ok: false,
      answer: rpcError(403, 'PERMISSION_DENIED', 'Request had insufficient authentication scopes.', [
        { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'ACCESS_TOKEN_SCOPE_INSUFFICIENT', domain: 'googleapis.com', metadata: { service: 'googleads.googleapis.com' } },
      ]),
    };
  }
  return { ok: true, token: checked.token };
}

/** Answer `listAccessibleCustomers` or `googleAds:search`. */
export function handleDiscovery(req: FakeHttpRequest, ctx: AccountsContext, defaultAccessible: readonly string[]): FakeAnswer {
  const list = LIST.exec(req.path);
  const search = SEARCH.exec(req.path);
  const version = (list ?? search)?.[1] ?? '';
  if (!ADS_API_VERSIONS.includes(version)) return rpcError(404, 'NOT_FOUND', `Version ${version} of the Google Ads API is not served.`);
  const auth = bearer(req, ctx, version);
  if (!auth.ok) return auth.answer;
  const accessible = auth.token.accessible ?? defaultAccessible;
  if (list !== null) {
    if (req.method !== 'GET') return rpcError(404, 'NOT_FOUND', `The requested URL ${req.method} ${req.path} was not found on this server.`);
    return { status: 200, body: accessible.length === 0 ? {} : { resourceNames: accessible.map((id) => `customers/${id}`) } };
  }
  if (req.method !== 'POST') return rpcError(404, 'NOT_FOUND', `The requested URL ${req.method} ${req.path} was not found on this server.`);
  const customer = search?.[2] ?? '';
  const account = ctx.accounts.get(customer);
  const login = header(req.headers, 'login-customer-id');
  if (login !== undefined && !/^\d+$/.test(login)) {
    return adsRpcError(400, 'INVALID_ARGUMENT', version, [{ errorCode: { headerError: 'INVALID_LOGIN_CUSTOMER_ID' }, message: 'The login customer id header must be digits only, without hyphens.' }]);
  }
  // Reached directly, or through the manager named in login-customer-id (an accessible account above it).
  const direct = accessible.includes(customer) && (login === undefined || login === customer);
  const viaManager = login !== undefined && accessible.includes(login) && above(ctx.accounts, login, customer);
  if (account === undefined || (!direct && !viaManager)) {
    return adsRpcError(403, 'PERMISSION_DENIED', version, [{
      errorCode: { authorizationError: 'USER_PERMISSION_DENIED' },
      message: "User doesn't have permission to access customer. Note: If you're accessing a client customer, the manager's customer id must be set in the 'login-customer-id' header.",
    }]);
  }
  const body = req.body.kind === 'json' && isRecord(req.body.value) ? req.body.value : undefined;
  if (body === undefined) return rpcError(400, 'INVALID_ARGUMENT', `Invalid JSON payload received (got ${req.contentType || 'no body'}).`);
  if ('pageSize' in body) {
    return adsRpcError(400, 'INVALID_ARGUMENT', version, [{ errorCode: { requestError: 'PAGE_SIZE_NOT_SUPPORTED' }, message: 'Setting the page size is not supported. Search Responses will have fixed page size of 10000 rows.' }]);
  }
  const query = typeof body['query'] === 'string' ? body['query'].replace(/\s+/g, ' ') : '';
  let rows: unknown[];
  if (/FROM customer_client WHERE customer_client\.level <= 1$/i.test(query.trim())) {
    rows = account.noRows === true ? [] : clientRows(ctx.accounts, account);
  } else if (/FROM conversion_action WHERE conversion_action\.type = 'UPLOAD_CLICKS' AND conversion_action\.status = 'ENABLED'$/i.test(query.trim())) {
    rows = (account.conversionActions ?? [])
      .filter((a) => a.type === 'UPLOAD_CLICKS' && a.status === 'ENABLED')
      .map((a) => ({
        conversionAction: { resourceName: `customers/${account.id}/conversionActions/${a.id}`, id: a.id, name: a.name, status: a.status, type: a.type, ...(a.category === undefined ? {} : { category: a.category }) },
      }));
  } else {
    return adsRpcError(400, 'INVALID_ARGUMENT', version, [{ errorCode: { queryError: 'UNRECOGNIZED_FIELD' }, message: `The fake answers only the picker's two queries, got: ${query.slice(0, 200)}` }]);
  }
  const pageToken = typeof body['pageToken'] === 'string' ? body['pageToken'] : undefined;
  const start = pageToken === undefined ? 0 : Number(Buffer.from(pageToken, 'base64url').toString('utf8').replace(/^offset:/, ''));
  if (!Number.isInteger(start) || start < 0 || start > rows.length) {
    return adsRpcError(400, 'INVALID_ARGUMENT', version, [{ errorCode: { requestError: 'INVALID_PAGE_TOKEN' }, message: 'Page token is invalid.' }]);
  }
  const page = rows.slice(start, start + ctx.pageSize);
  const next = start + ctx.pageSize < rows.length ? Buffer.from(`offset:${start + ctx.pageSize}`).toString('base64url') : undefined;
  return { status: 200, body: { results: page, ...(next === undefined ? {} : { nextPageToken: next }), fieldMask: 'fake' } };
}

/** The `customer_client` rows of `level <= 1` from `account`: itself (level 0), then its direct clients. */
function clientRows(accounts: ReadonlyMap<string, FakeAdsAccount>, account: FakeAdsAccount): unknown[] {
  const row = (a: FakeAdsAccount, level: number): unknown => ({
    customerClient: {
      resourceName: `customers/${account.id}/customerClients/${a.id}`,
      clientCustomer: `customers/${a.id}`,
      level: String(level),
      manager: a.manager,
      descriptiveName: a.name,
      ...(a.currencyCode === undefined ? {} : { currencyCode: a.currencyCode }),
      ...(a.timeZone === undefined ? {} : { timeZone: a.timeZone }),
      id: a.id,
    },
  });
  const children = [...accounts.values()].filter((a) => (a.parents ?? []).includes(account.id));
  return [row(account, 0), ...children.map((c) => row(c, 1))];
}
