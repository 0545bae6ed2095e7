/**
 * The fake platforms' HTTP server: one node:http server on 127.0.0.1 with a
 * path prefix per platform, scripted faults consumed before normal processing,
 * and a log of every request. Platform rules live in the handler modules.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleAds, type AdsContext } from './google-ads.js';
import { handleDataManager, QuotaCounter, type DataManagerContext, type StoredIngest } from './data-manager.js';
import { handleOAuth, TokenStore, type OAuthContext } from './google-oauth.js';
import { handleDiscovery, isDiscoveryPath, type AccountsContext } from './google-accounts.js';
import { GoogleAuthServer } from './google-consent.js';
import { FakePlatformsError } from './errors.js';
import { Ledger } from './ledger.js';
import { handleMeta, type MetaContext } from './meta.js';
import { handleMetaDialog, MetaOAuthWorld, type MetaKillSubcode, type MetaOAuthContext } from './meta-oauth.js';
import { resolveOptions } from './options.js';
import { loggedBody, mediaType, parseBody, type FakeAnswer, type FakeHttpRequest } from './request.js';
import { assertStep, stepAnswer } from './steps.js';
import { handleTikTok, type TikTokContext } from './tiktok.js';
import { handleTikTokPortal, TikTokOAuthWorld, type TikTokOAuthContext } from './tiktok-oauth.js';
import { handleMicrosoft, type MicrosoftContext, type MicrosoftSilentRecord, type MicrosoftStoredConversion } from './microsoft.js';
import { handleMicrosoftOAuth, MicrosoftIdentity, type MicrosoftOAuthContext } from './microsoft-oauth.js';
import { handleMicrosoftCapi, type MicrosoftCapiContext, type MicrosoftCapiReceipt } from './microsoft-capi.js';
import type { FakeCountedPlatform, FakePlatforms, FakePlatformsOptions, FakeRequestLog, FakeRoute, FakeStep } from './types.js';

/** Route prefixes, as the `urls` expose them. */
const PREFIXES: ReadonlyArray<readonly [string, FakeRoute]> = [
  ['/meta', 'meta'],
  ['/facebook', 'metaDialog'],
  ['/google-ads', 'googleAds'],
  ['/datamanager', 'dataManager'],
  ['/oauth/token', 'oauth'],
  ['/google-oauth', 'googleAuth'],
  ['/tiktok', 'tiktok'],
  ['/tiktok-portal', 'tiktokPortal'],
  ['/microsoft/login', 'microsoftOAuth'],
  ['/microsoft/campaign', 'microsoftCampaign'],
  ['/microsoft-sandbox/campaign', 'microsoftCampaign'],
  ['/microsoft/clientcenter', 'microsoftCustomer'],
  ['/microsoft-sandbox/clientcenter', 'microsoftCustomer'],
  ['/microsoft/_test', 'microsoftInspect'],
  ['/microsoft-capi', 'microsoftCapi'],
];
const ROUTES: readonly FakeRoute[] = [...new Set(PREFIXES.map(([, route]) => route))];

/** Bodies above this are refused with 413: far above 2,000 events, far below memory trouble. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

/**
 * Data Manager's methods also answer without the prefix (`/v1/events:ingest`): Google's
 * Node client takes a host and port, never a path. No other fake route starts with `/v1/`.
 */
const DATA_MANAGER_ROOT = /^\/v1\/(?:events:ingest|requestStatus:retrieve)$/;

function routeOf(pathname: string): { route: FakeRoute; rest: string } | undefined {
  for (const [prefix, route] of PREFIXES) {
    if (pathname === prefix || pathname.startsWith(`${prefix}/`)) return { route, rest: pathname.slice(prefix.length) };
  }
  if (DATA_MANAGER_ROOT.test(pathname)) return { route: 'dataManager', rest: pathname };
  return undefined;
}

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks)));
    req.on('error', () => resolve(Buffer.alloc(0)));
  });
}

function send(res: ServerResponse, answer: FakeAnswer): void {
  const headers: Record<string, string> = {};
  if (answer.body !== undefined) {
    headers['content-type'] = typeof answer.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=UTF-8';
  }
  for (const [name, value] of Object.entries(answer.headers ?? {})) headers[name.toLowerCase()] = value;
  const text = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
  res.writeHead(answer.status, headers);
  res.end(text);
}

/**
 * Start the strict fake ad platforms on 127.0.0.1 (a free port unless `port` is given).
 * Used by the sender's tests, by the `npm start` sandbox and by the sender bench.
 *
 * @example
 * const fakes = await startFakePlatforms({ now: () => clock });
 * fakes.script('meta', [{ kind: 'meta-error', code: 17 }]);
 * // … point the sender at fakes.urls …
 * expect(fakes.counted('meta').size).toBe(10);
 * await fakes.close();
 */
export async function startFakePlatforms(options: FakePlatformsOptions = {}): Promise<FakePlatforms> {
  const config = resolveOptions(options);
  const now = config.now;
  const ledgers: Record<FakeCountedPlatform, Ledger> = {
    meta: new Ledger(), google: new Ledger(), tiktok: new Ledger(), microsoft: new Ledger(), microsoftCapi: new Ledger(),
  };
  const tokens = new TokenStore();
  const quota = new QuotaCounter(config.dataManagerQuota.perMinute, config.dataManagerQuota.perDay);
  const dmRequests = new Map<string, StoredIngest>();
  const clickConversions = new Set<string>();
  const scripts = new Map<FakeRoute, FakeStep[]>(ROUTES.map((route) => [route, []]));
  let log: FakeRequestLog[] = [];

  const metaOAuth: MetaOAuthContext = { world: new MetaOAuthWorld(config.metaOAuth), now };
  const tiktokOAuth: TikTokOAuthContext = { world: new TikTokOAuthWorld(config.tiktokOAuth), now };
  // The send fakes accept the OAuth worlds' pixels too, and ask the worlds about the tokens they issued.
  const metaPixels = new Set([...config.meta.pixels, ...metaOAuth.world.allPixelIds()]);
  const metaCtx: MetaContext = { pixels: metaPixels, tokens: config.meta.tokens, now, ledger: ledgers.meta, oauth: metaOAuth };
  const authServer = new GoogleAuthServer({
    clientId: config.google.clientId, clientSecret: config.google.clientSecret, tokens, now,
    codeTtlMs: config.google.codeTtlMs, accessible: config.google.accessible,
  });
  for (const uri of config.google.redirectUris) authServer.redirectUris.add(uri);
  const oauthCtx: OAuthContext = {
    clientId: config.google.clientId, clientSecret: config.google.clientSecret, refreshTokens: config.google.refreshTokens,
    scopes: config.google.tokenScopes, tokens, now, authServer,
  };
  const accountsCtx: AccountsContext = { accounts: config.google.accounts, tokens, now, pageSize: config.google.discoveryPageSize };
  const googleAccounts = {
    customers: config.google.customers, conversionActions: config.google.conversionActions,
    knownClicks: config.google.knownClicks, tokens, now, ledger: ledgers.google,
  };
  const adsCtx: AdsContext = { ...googleAccounts, notAllowlisted: config.adsNotAllowlisted, clickConversions };
  const dmCtx: DataManagerContext = { ...googleAccounts, quota, requests: dmRequests, statusDelayMs: config.dataManagerStatusDelayMs };
  const tiktokPixels = new Set([...config.tiktok.pixelCodes, ...tiktokOAuth.world.allPixelCodes()]);
  const tiktokCtx: TikTokContext = { pixelCodes: tiktokPixels, tokens: config.tiktok.tokens, now, ledger: ledgers.tiktok, oauth: tiktokOAuth };
  const ms = config.microsoft;
  const identity = new MicrosoftIdentity();
  const seedRefreshTokens = (): void => {
    for (const token of ms.refreshTokens) identity.refresh.set(token, { user: 'advertiser@contoso.example', sandbox: false });
    for (const token of ms.sandboxRefreshTokens ?? []) identity.refresh.set(token, { user: 'advertiser@contoso.example', sandbox: true });
  };
  seedRefreshTokens();
  const msSilent: MicrosoftSilentRecord[] = [];
  const msStored: MicrosoftStoredConversion[] = [];
  const msRedirectUris = new Set(ms.redirectUris);
  const msOAuthCtx: MicrosoftOAuthContext = {
    clientId: ms.clientId, clientSecret: ms.clientSecret, redirectUris: msRedirectUris, user: 'advertiser@contoso.example', identity, now,
  };
  const uetTags = ms.uetTags ?? [];
  const seedUetKeys = (): Map<string, string> => new Map(uetTags.flatMap((t) => (t.authKey === undefined ? [] : [[t.id, t.authKey] as const])));
  const capiReceived: MicrosoftCapiReceipt[] = [];
  const capiCtx: MicrosoftCapiContext = { tags: uetTags, keys: seedUetKeys(), ledger: ledgers.microsoftCapi, received: capiReceived, now };
  const msCtx: MicrosoftContext = {
    developerToken: ms.developerToken, customerId: ms.customerId, accounts: ms.accounts, goals: ms.goals,
    knownClicks: ms.knownClicks === undefined ? undefined : new Map(ms.knownClicks.map((c) => [
      c.id.toLowerCase(), { accountId: c.accountId, ...(c.clickedAt !== undefined ? { clickedAtMs: new Date(c.clickedAt).getTime() } : {}) },
    ])),
    identity, ledger: ledgers.microsoft, silent: msSilent, stored: msStored, capi: capiCtx, now,
  };

  function handle(route: FakeRoute, req: FakeHttpRequest, step: FakeStep | undefined, sandbox: boolean): FakeAnswer {
    const partial = step?.kind === 'google-partial' ? step : undefined;
    const consent = step?.kind === 'consent' ? step : undefined;
    switch (route) {
      case 'meta':
        return handleMeta(req, metaCtx);
      case 'metaDialog':
        return handleMetaDialog(req, metaOAuth, consent);
      case 'tiktokPortal':
        return handleTikTokPortal(req, tiktokOAuth, consent);
      case 'googleAds':
        if (isDiscoveryPath(req.path)) return handleDiscovery(req, accountsCtx, config.google.accessible);
        return handleAds(req, adsCtx, partial === undefined ? undefined : { rows: new Set(partial.rows), error: partial.error });
      case 'dataManager':
        return handleDataManager(req, dmCtx, partial);
      case 'oauth':
        return handleOAuth(req, oauthCtx);
      case 'googleAuth':
        if (req.path === '/revoke') return authServer.handleRevoke(req);
        if (req.path === '/tokeninfo') return authServer.handleTokenInfo(req);
        return authServer.handleAuthorize(req);
      case 'tiktok':
        return handleTikTok(req, tiktokCtx);
      case 'microsoftOAuth':
        return handleMicrosoftOAuth(req, msOAuthCtx);
      case 'microsoftCampaign':
      case 'microsoftCustomer': {
        const failures = new Map(step?.kind === 'microsoft-partial' ? step.indexes.map((i) => [i, step.code] as const) : []);
        return handleMicrosoft(req, msCtx, sandbox, failures);
      }
      case 'microsoftInspect':
        // Test-only: what Microsoft took silently, and why it will not count; what the UET Conversions API took.
        if (req.method === 'GET' && req.path === '/silent') return { status: 200, body: { silent: msSilent } };
        if (req.method === 'GET' && req.path === '/capi') return { status: 200, body: { events: capiReceived } };
        return { status: 404, body: { error: 'GET /microsoft/_test/silent or /microsoft/_test/capi' } };
      case 'microsoftCapi':
        return handleMicrosoftCapi(req, capiCtx, new Map(step?.kind === 'microsoft-capi-invalid' ? step.indexes.map((i) => [i, step.errorCode ?? 'InvalidValue'] as const) : []));
    }
  }

  function remember(entry: FakeRequestLog): void {
    log.push(entry);
    // Trim in bulk so a bounded log stays O(1) amortised per request.
    if (log.length > config.maxRequestLog * 2) log = log.slice(-config.maxRequestLog);
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const raw = await readBody(req);
    const contentType = mediaType(req.headers['content-type']);
    const body = raw === undefined ? ({ kind: 'empty' } as const) : parseBody(raw, contentType);
    const matched = routeOf(url.pathname);
    const entry: FakeRequestLog = {
      route: matched?.route ?? 'unknown',
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: flatHeaders(req),
      body: loggedBody(body),
      status: undefined,
      response: undefined,
      outcome: 'answered',
      diagnostics: [],
      at: now(),
    };
    remember(entry);
    const reply = (answer: FakeAnswer): void => {
      entry.status = answer.status;
      entry.response = answer.body;
      entry.diagnostics = answer.diagnostics ?? [];
      send(res, answer);
    };
    if (raw === undefined) return reply({ status: 413, body: { error: `Body larger than ${MAX_BODY_BYTES} bytes.` } });
    if (matched === undefined) {
      return reply({ status: 404, body: { error: `No fake platform at ${url.pathname}; use one of ${PREFIXES.map(([p]) => p).join(', ')}.` } });
    }
    const { route, rest } = matched;
    // Microsoft Campaign Management: scripted steps answer OfflineConversions/Apply only, so the
    // sender's goal check before an upload never eats a step meant for the upload.
    const scriptable = route !== 'microsoftCampaign' || rest.endsWith('/OfflineConversions/Apply');
    const step = scriptable ? scripts.get(route)?.shift() : undefined;
    if (step !== undefined) entry.step = step.kind;
    if (step?.kind === 'hang') {
      entry.outcome = 'hang';
      return;
    }
    if (step?.kind === 'reset') {
      entry.outcome = 'reset';
      req.socket.destroy();
      return;
    }
    const adsVersion = /^\/(v\d+)\//.exec(rest)?.[1] ?? 'v26';
    const scripted = step === undefined ? undefined : stepAnswer(route, step, now(), adsVersion);
    const fakeReq: FakeHttpRequest = { method: entry.method, path: rest, query: url.searchParams, headers: req.headers, contentType, body };
    const answer = scripted ?? handle(route, fakeReq, step, url.pathname.startsWith('/microsoft-sandbox/'));
    if (step?.kind === 'accept-then-drop') {
      // Processed and counted like a normal request; the answer is lost (google-data-manager.md §9 rule 28).
      entry.outcome = 'dropped';
      entry.diagnostics = answer.diagnostics ?? [];
      req.socket.destroy();
      return;
    }
    reply(answer);
  }

  const server = createServer((req, res) => {
    onRequest(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, { status: 500, body: { error: `Fake platform failure: ${error instanceof Error ? error.message : String(error)}` } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  metaOAuth.world.graphBaseUrl = `${base}/meta`;

  return {
    urls: {
      meta: `${base}/meta`,
      metaOAuth: `${base}/facebook`,
      googleAds: `${base}/google-ads`,
      dataManager: `${base}/datamanager`,
      oauthToken: `${base}/oauth/token`,
      tiktok: `${base}/tiktok`,
      tiktokOAuth: `${base}/tiktok-portal/portal/auth`,
      googleAuth: `${base}/google-oauth`,
      googleAuthorize: `${base}/google-oauth/o/oauth2/v2/auth`,
      googleRevoke: `${base}/google-oauth/revoke`,
      microsoftCampaign: `${base}/microsoft/campaign`,
      microsoftCampaignSandbox: `${base}/microsoft-sandbox/campaign`,
      microsoftCustomer: `${base}/microsoft/clientcenter`,
      microsoftCustomerSandbox: `${base}/microsoft-sandbox/clientcenter`,
      microsoftToken: `${base}/microsoft/login/common/oauth2/v2.0/token`,
      microsoftAuthorize: `${base}/microsoft/login/common/oauth2/v2.0/authorize`,
      microsoftInspect: `${base}/microsoft/_test/silent`,
      microsoftCapi: `${base}/microsoft-capi`,
      microsoftCapiInspect: `${base}/microsoft/_test/capi`,
    },
    oauth: {
      allowRedirectUri(platform, uri) {
        if (platform === 'meta') metaOAuth.world.allowRedirectUri(uri);
        else if (platform === 'microsoft') msRedirectUris.add(uri);
        else tiktokOAuth.world.allowRedirectUri(uri);
      },
      killMetaTokens: (subcode: MetaKillSubcode, token?: string) => metaOAuth.world.kill(subcode, token),
      revokeTikTokTokens: (token?: string) => tiktokOAuth.world.revoke(token),
      withdrawTikTokAdvertiser(advertiserId) {
        tiktokOAuth.world.withdrawn.add(advertiserId);
      },
      metaTokens: () => metaOAuth.world.issued(now().getTime()),
      tiktokTokens: () => tiktokOAuth.world.issued(),
    },
    googleOAuth: {
      consent(mode) {
        authServer.mode = mode;
      },
      registerRedirectUri(uri) {
        authServer.redirectUris.add(uri);
      },
      grantAccess(customerIds) {
        authServer.accessible = [...customerIds];
      },
      refreshTokens: () => authServer.refreshTokens(),
      revoke(refreshToken) {
        authServer.revokeGrants(refreshToken);
      },
      expireAccessTokens() {
        tokens.expireAll(now().getTime());
      },
    },
    microsoft: {
      silent: () => [...msSilent],
      stored: () => [...msStored],
      refreshes: () => identity.refreshes,
      expireAccessTokens: () => identity.expireAll(),
      revoke: (token) => {
        identity.refresh.delete(token);
      },
      revokeAll: () => identity.refresh.clear(),
      refreshTokenValid: (token) => identity.refresh.has(token),
      setGoalEnhanced(goalId, enhanced) {
        const goal = msCtx.goals.find((g) => g.id === goalId);
        if (goal === undefined) throw new FakePlatformsError(`microsoft.setGoalEnhanced(): no seeded goal ${goalId}.`);
        msCtx.goals = msCtx.goals.map((g) => (g.id === goalId ? { ...g, enhanced } : g));
      },
      capiEvents: () => [...capiReceived],
      uetTagToken: (tagId) => capiCtx.keys.get(tagId),
    },
    script(route, steps) {
      const queue = scripts.get(route);
      if (queue === undefined) throw new FakePlatformsError(`script(): unknown route '${String(route)}'; use one of ${ROUTES.join(', ')}.`);
      steps.forEach((step, i) => assertStep(route, step, i));
      queue.push(...steps);
    },
    counted: (platform) => ledgers[platform].counts,
    requests(route) {
      const recent = log.length > config.maxRequestLog ? log.slice(-config.maxRequestLog) : log;
      return route === undefined ? [...recent] : recent.filter((entry) => entry.route === route);
    },
    reset() {
      for (const ledger of Object.values(ledgers)) ledger.clear();
      for (const queue of scripts.values()) queue.length = 0;
      clickConversions.clear();
      tiktokOAuth.world.withdrawn.clear();
      msSilent.length = 0;
      msStored.length = 0;
      capiReceived.length = 0;
      identity.refreshes = 0;
      seedRefreshTokens();
      dmRequests.clear();
      quota.clear();
      log = [];
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        // Hung requests and keep-alive sockets would otherwise hold close() open.
        server.closeAllConnections();
      });
    },
  };
}
