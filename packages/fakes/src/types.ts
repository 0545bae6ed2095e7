import type { MicrosoftGoalSeed, MicrosoftSilentRecord, MicrosoftStoredConversion } from './microsoft.js';
import type { MicrosoftCapiReceipt, UetTagSeed } from './microsoft-capi.js';
/**
 * Public types of the strict fake ad-platform servers (`@pruuv/fakes`).
 * The fakes speak the wire contracts of platforms.md §8 and
 * google-data-manager.md §9 over real HTTP on 127.0.0.1.
 */

/** A click the fake Google platform knows, with its time when the test wants time checks. */
export interface FakeKnownClick {
  /** The gclid, gbraid or wbraid. */
  id: string;
  /** When the click happened. Enables the Ads `CONVERSION_PRECEDES_EVENT` / `TOO_RECENT_EVENT` / `EXPIRED_EVENT` checks and their Data Manager twins. */
  clickedAt: Date | string;
}

import type { FakeAdsAccount } from './google-accounts.js';
import type { GoogleConsentMode } from './google-consent.js';

/** Seeded Microsoft Advertising state (microsoft-ads.md §10). */
export interface FakeMicrosoftOptions {
  /** The manager account (customer) id the user can reach. */
  customerId: string;
  /** Ad accounts under it. */
  accounts: Array<{ id: string; name: string; number: string }>;
  /** Conversion goals, per account. */
  goals: MicrosoftGoalSeed[];
  /** The Azure app the fake identity platform knows. */
  clientId: string;
  clientSecret: string;
  /** Redirect URIs registered for the app (authorize refuses others, AADSTS50011). */
  redirectUris: string[];
  /** Refresh tokens valid from the start, production scope. */
  refreshTokens: string[];
  /** Refresh tokens valid from the start, sandbox scope. */
  sandboxRefreshTokens?: string[];
  /** The operator's developer token every call must carry. */
  developerToken: string;
  /** Clicks known to Microsoft; an unknown one is accepted silently (NoMatchingClickFound). Defaults to every well-formed click, known to the caller's account. */
  knownClicks?: Array<{ id: string; accountId: string; clickedAt?: Date | string }>;
  /** UET tags per account, with their Conversions API token (`authKey`; minted by `UetTagAuthKey/Query` when absent). Defaults to none; the default Microsoft world (no `microsoft` option) has `FAKE_DEFAULTS.microsoft`'s tag. */
  uetTags?: UetTagSeed[];
}

/** Seeded accounts and knobs of {@link startFakePlatforms}. Every field is optional. */
export interface FakePlatformsOptions {
  /** Seeded Meta pixels and access tokens. Defaults to `FAKE_DEFAULTS.meta` (one pixel, one token). */
  meta?: { pixels: string[]; tokens: string[] };
  /** Seeded Google accounts and OAuth client. Defaults to `FAKE_DEFAULTS.google`. */
  google?: {
    /** Customer (operating account) ids, 10 digits. */
    customers: string[];
    /** Conversion action ids (numeric), valid under any seeded customer (Ads validation keys on the action id alone, platforms.md §3.2). */
    conversionActions: string[];
    clientId: string;
    clientSecret: string;
    refreshTokens: string[];
    /** Clicks the fake knows. Defaults to `undefined`: every well-formed click is known and no click-time check runs. A bare string is a known click without a time. */
    knownClicks?: Array<string | FakeKnownClick>;
    /** OAuth scopes carried by access tokens of the seeded refresh tokens. Defaults to both the `adwords` and the `datamanager` scope. */
    tokenScopes?: string[];
    /** The Ads account hierarchy discovery walks (oauth.md §5.1). Defaults to `DEFAULT_ADS_ACCOUNTS`: manager → sub-manager → `1234567890`, a client under two managers, a test account with no rows. */
    accounts?: FakeAdsAccount[];
    /** The accounts a consenting user reaches directly. Defaults to `DEFAULT_ACCESSIBLE` (the two managers and the test account). */
    accessible?: string[];
    /** Redirect URIs registered with the OAuth client (exact match). Defaults to none: add them with `googleOAuth.registerRedirectUri`. */
    redirectUris?: string[];
    /** Lifetime of an authorization code. Defaults to `60` seconds. */
    codeTtlSeconds?: number;
    /** Rows per `googleAds:search` page. Defaults to `2`, so the picker's walk pages. */
    discoveryPageSize?: number;
  };
  /** Seeded TikTok pixel codes (event source ids) and access tokens. Defaults to `FAKE_DEFAULTS.tiktok`. */
  tiktok?: { pixelCodes: string[]; tokens: string[] };
  /** The Meta app, Facebook Login for Business configurations, businesses and pixels of the OAuth fake. Defaults to `FAKE_DEFAULTS.metaOAuth`. */
  metaOAuth?: FakeMetaOAuthSeed;
  /** The TikTok app, advertisers and pixels of the OAuth fake. Defaults to `FAKE_DEFAULTS.tiktokOAuth`. */
  tiktokOAuth?: FakeTikTokOAuthSeed;
  /** Seeded Microsoft Advertising customer, accounts, goals and Azure app. Defaults to `FAKE_DEFAULTS.microsoft`. */
  microsoft?: FakeMicrosoftOptions;
  /** The clock used for every time rule (event age, token expiry, quotas, dedup windows). Defaults to `() => new Date()`. */
  now?: () => Date;
  /** Data Manager ingest quota per project (the OAuth client). Defaults to `300` per minute and `100000` per day (google-data-manager.md §7). */
  dataManagerQuota?: { perMinute?: number; perDay?: number };
  /**
   * Seconds after acceptance before `requestStatus:retrieve` reports a final state.
   * The first retrieve of a request always answers `PROCESSING`. Defaults to `0`.
   */
  dataManagerStatusDelaySeconds?: number;
  /** Ads API: customers that are NOT allowlisted for UploadClickConversions (answer `CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE`). Defaults to `[]`. */
  adsNotAllowlisted?: string[];
  /** Port to listen on (127.0.0.1 only). Defaults to `0`: a free port. */
  port?: number;
  /** Keep at most this many entries in the request log (oldest dropped), for long benchmark runs. Defaults to `Infinity`. */
  maxRequestLog?: number;
}

/** A pixel (dataset) of the Meta OAuth fake. */
export interface FakeMetaPixel {
  /** The dataset id CAPI posts to (digits). */
  id: string;
  name: string;
  /** Owner shown in `owner_business`. Defaults to the business the pixel is listed under. */
  ownerBusinessId?: string;
  /** `is_unavailable`. Defaults to `false`. */
  unavailable?: boolean;
}

/** Seed of the Meta OAuth fake (oauth.md §5.2). */
export interface FakeMetaOAuthSeed {
  /** The app: its id, secret and the redirect URIs registered up front (more with `oauth.allowRedirectUri`). */
  app: { id: string; secret: string; redirectUris?: string[] };
  /** Facebook Login for Business configurations: `system_user` issues a never-expiring BISU token, `user` a short-lived user token. */
  configs: Array<{ id: string; tokenType: 'system_user' | 'user'; permissions: string[] }>;
  /** The person who consents. */
  user: { id: string; name: string };
  /** Business portfolios with their pixels and ad accounts. */
  businesses: Array<{
    id: string;
    name: string;
    ownedPixels: FakeMetaPixel[];
    /** Pixels other businesses (clients) share with this one. */
    clientPixels: FakeMetaPixel[];
    adAccounts: Array<{ accountId: string; name: string; pixels: FakeMetaPixel[] }>;
  }>;
  /** The business a BISU consent is given for, unless a `consent` step names another. */
  clientBusinessId: string;
  /** Rows per page at most, whatever `limit` asks. */
  maxPageSize: number;
  /** A full last page still carries `paging.next`, which leads to an empty page. Defaults to `false`. */
  trailingEmptyPage?: boolean;
  /** Lifetime of an authorization code. */
  codeTtlSeconds: number;
}

/** A TikTok pixel of the OAuth fake. */
export interface FakeTikTokPixel {
  id: string;
  /** The pixel code, the Events API `event_source_id`. */
  code: string;
  name: string;
  /** `asset_relation_status: "UNBOUND"`: shared, then unbound. Defaults to `false`. */
  unbound?: boolean;
}

/** Seed of the TikTok OAuth fake (oauth.md §5.3). */
export interface FakeTikTokOAuthSeed {
  /** The developer app: id, secret and the advertiser redirect URLs registered up front (at most 10). */
  app: { id: string; secret: string; redirectUris?: string[] };
  advertisers: Array<{ id: string; name: string; pixels: FakeTikTokPixel[] }>;
  /** Lifetime of an `auth_code`: "valid for 1 hour and can only be used once" (oauth.md §4.1). */
  codeTtlSeconds: number;
}

/**
 * The user's answer at the next consent page of a route (`metaDialog`, `tiktokPortal`).
 * Without a scripted step the user approves everything.
 */
export interface FakeConsentStep {
  kind: 'consent';
  /** `deny` redirects back with the platform's denial; `error_page` shows an error page and never redirects. */
  decision: 'approve' | 'deny' | 'error_page';
  /** Meta: the permissions granted (a partial grant). Defaults to the configuration's. */
  grant?: string[];
  /** Meta BISU: the client business consented for. Defaults to the seed's `clientBusinessId`. */
  business?: string;
  /** TikTok: the advertisers the user ticks. Defaults to all. */
  advertisers?: string[];
  /** TikTok: the redirect carries `code` only, no `auth_code`. */
  codeOnly?: boolean;
}

/** A token the Meta OAuth fake issued. */
export interface FakeMetaTokenInfo {
  token: string;
  kind: 'system_user' | 'user';
  businessId: string | undefined;
  scopes: string[];
  /** `undefined`: never expires. */
  expiresAt: Date | undefined;
  live: boolean;
}

/** A token the TikTok OAuth fake issued. */
export interface FakeTikTokTokenInfo {
  token: string;
  advertiserIds: string[];
  live: boolean;
}

/** Test controls of the OAuth fakes, for what a user does outside Pruuv. */
export interface FakeOAuthControl {
  /** Register a redirect URI with the platform's app (the app settings a self-hoster fills in). */
  allowRedirectUri(platform: 'meta' | 'tiktok' | 'microsoft', uri: string): void;
  /**
   * Meta: kill issued tokens (one, or all): Graph and CAPI answer code 190 with this subcode.
   * 460 password changed, 463 expired, 467 logged out, 458 app removed. Returns how many.
   */
  killMetaTokens(subcode: 458 | 460 | 463 | 467, token?: string): number;
  /** TikTok: revoke issued tokens (one, or all), as `oauth2/revoke_token/` does. Returns how many. */
  revokeTikTokTokens(token?: string): number;
  /** TikTok: an advertiser withdraws its authorization of the app (`advertiser/get` stops listing it). */
  withdrawTikTokAdvertiser(advertiserId: string): void;
  /** The tokens issued so far, oldest first. */
  metaTokens(): FakeMetaTokenInfo[];
  tiktokTokens(): FakeTikTokTokenInfo[];
}

/** A route of the fake server, as used by {@link FakePlatforms.script} and {@link FakePlatforms.requests}. */
/** A route of the fake server, as used by {@link FakePlatforms.script} and {@link FakePlatforms.requests}. `googleAuth` is Google's consent, revoke and tokeninfo endpoints. */
export type FakeRoute =
  | 'meta'
  | 'metaDialog'
  | 'googleAds'
  | 'dataManager'
  | 'oauth'
  | 'googleAuth'
  | 'tiktok'
  | 'tiktokPortal'
  | 'microsoftOAuth'
  | 'microsoftCampaign'
  | 'microsoftCustomer'
  | 'microsoftInspect'
  | 'microsoftCapi';

/** Controls of the fake Google authorization server, for tests. */
export interface FakeGoogleOAuth {
  /** What the user does on the consent screen from now on (`approve` at once by default; `page` shows Allow/Deny buttons). */
  consent(mode: GoogleConsentMode): void;
  /** Register a redirect URI with the OAuth client (exact string). */
  registerRedirectUri(uri: string): void;
  /** The accounts the next consents reach directly (`[]`: a user with no Ads account). */
  grantAccess(customerIds: string[]): void;
  /** Refresh tokens issued by consents and not revoked. */
  refreshTokens(): string[];
  /** Revoke one grant, or every grant (as the user does at myaccount.google.com/permissions). */
  revoke(refreshToken?: string): void;
  /** Every access token issued so far expires now. */
  expireAccessTokens(): void;
}

/** The platforms whose counted conversions {@link FakePlatforms.counted} reports. */
export type FakeCountedPlatform = 'meta' | 'google' | 'tiktok' | 'microsoft' | 'microsoftCapi';

/**
 * One scripted answer. Steps are consumed in order, one per request to the route,
 * before normal processing; when the script is empty the fake behaves normally.
 */
export type FakeStep =
  /** Raw answer: `body` is sent as JSON unless it is a string. */
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  /** Meta Graph error (platforms.md §1.7). `httpStatus` defaults to `500` for codes 1 and 2, else `400`; `transient` defaults to `true` for codes 1 and 2. */
  | { kind: 'meta-error'; code: number; subcode?: number; httpStatus?: number; transient?: boolean }
  /** Ads: `partialFailureError` on these row indexes with `conversionUploadError: error`, other rows processed normally. Data Manager (no partial failure): a 400 whose fieldViolations name these events with reason `error`. */
  | { kind: 'google-partial'; rows: number[]; error: string }
  /** Request-level Google RPC error on the Ads, Data Manager or OAuth route (see `google-rpc.ts` for the bodies). */
  | { kind: 'google-rpc'; httpStatus: number; status: string; reason?: string; retryDelaySeconds?: number }
  /** Microsoft request fault (`AdApiFaultDetail` below code 1000, else `ApiFaultDetail`) with this code; `httpStatus` defaults to 401 for 105/109, 429 for 117, 500 for 0, else 400. */
  | { kind: 'microsoft-fault'; code: number; httpStatus?: number }
  /** Microsoft `OfflineConversions/Apply` processed normally except these request positions, which get a PartialError with `code` (e.g. 5612, 5615) and are not stored. */
  | { kind: 'microsoft-partial'; indexes: number[]; code: number }
  /** UET Conversions API processed normally except these `data` positions, which get a non-warning ValidationError detail with `errorCode` (default `InvalidValue`) and are not stored. */
  | { kind: 'microsoft-capi-invalid'; indexes: number[]; errorCode?: string }
  /** TikTok answer with HTTP 200 and this `code`. */
  | { kind: 'tiktok-code'; code: number; message?: string }
  /** Never answer: the client's timeout must fire. The socket is destroyed on `close()`. */
  | { kind: 'hang' }
  /** Destroy the socket without answering. Nothing is processed. */
  | { kind: 'reset' }
  /** Process and count the request normally, then destroy the socket before answering (a platform that accepted, then the answer was lost). */
  | { kind: 'accept-then-drop' }
  /** HTTP 429 with `Retry-After: seconds` and the route's throttle body. */
  | { kind: 'retry-after'; status: 429; seconds: number }
  /** The user's decision at the next consent page (`metaDialog`, `tiktokPortal`). */
  | FakeConsentStep;

/** What happened to a request, as recorded in the log. */
export type FakeOutcome = 'answered' | 'hang' | 'reset' | 'dropped';

/** One request the fake received, with its answer. */
export interface FakeRequestLog {
  /** The route, or `'unknown'` for a path outside every prefix. */
  route: FakeRoute | 'unknown';
  method: string;
  /** Path with the route prefix, without the query string, e.g. `/meta/v26.0/123/events`. */
  path: string;
  query: Readonly<Record<string, string>>;
  /** Request headers, names lower case (repeated headers joined with `, `). */
  headers: Readonly<Record<string, string>>;
  /** The body as parsed once: a JSON value, the fields of a form body, raw text, or `undefined` when empty. */
  body: unknown;
  /** HTTP status sent, `undefined` when no answer was sent (hang, reset, dropped). */
  status: number | undefined;
  /** The answer body (parsed JSON value or text), `undefined` when nothing was sent. */
  response: unknown;
  outcome: FakeOutcome;
  /** The scripted step that shaped this answer, if any. */
  step?: FakeStep['kind'];
  /** Non-fatal findings (Meta fbc/fbp format problems, platforms.md §8). */
  diagnostics: string[];
  /** When the fake received it (injected clock). */
  at: Date;
}

/** A running set of fake platforms. */
export interface FakePlatforms {
  /**
   * Base URLs to hand to the sender. `meta` is `http://127.0.0.1:PORT/meta` (the sender appends `/v26.0/{pixel}/events`);
   * `googleAds` `.../google-ads` (+ `/v26/customers/{cid}:uploadClickConversions`); `dataManager` `.../datamanager`
   * (+ `/v1/events:ingest`); `oauthToken` `.../oauth/token` (the full token endpoint); `tiktok` `.../tiktok`
   * (+ `/open_api/v1.3/event/track/`, `/open_api/v1.3/oauth2/access_token/`…); `googleAuthorize` and `googleRevoke` the full
   * consent and revoke URLs (under `googleAuth`, which also serves `/tokeninfo`); `metaOAuth` `.../facebook`, the login
   * dialog host (+ `/v26.0/dialog/oauth`); `tiktokOAuth` the full advertiser authorization URL `.../tiktok-portal/portal/auth`.
   */
  urls: {
    meta: string;
    metaOAuth: string;
    googleAds: string;
    dataManager: string;
    oauthToken: string;
    tiktok: string;
    tiktokOAuth: string;
    googleAuth: string;
    googleAuthorize: string;
    googleRevoke: string;
    /** Microsoft Campaign Management host (+ `/CampaignManagement/v13/…`); `…Sandbox` the sandbox environment. */
    microsoftCampaign: string;
    microsoftCampaignSandbox: string;
    /** Microsoft Customer Management host (+ `/CustomerManagement/v13/…`). */
    microsoftCustomer: string;
    microsoftCustomerSandbox: string;
    /** Microsoft identity platform token endpoint (full URL, tenant `common`). */
    microsoftToken: string;
    /** Microsoft identity platform authorize endpoint (full URL, tenant `common`). */
    microsoftAuthorize: string;
    /** Test-only: `GET` lists what Microsoft took silently and why (`{ silent: [...] }`). */
    microsoftInspect: string;
    /** UET Conversions API host (+ `/v1/{tagId}/events`). */
    microsoftCapi: string;
    /** Test-only: `GET` lists the events the UET Conversions API took (`{ events: [...] }`). */
    microsoftCapiInspect: string;
  };
  /** The fake Google authorization server's controls. */
  googleOAuth: FakeGoogleOAuth;
  /** Test controls of the Meta and TikTok OAuth fakes. */
  oauth: FakeOAuthControl;
  /**
   * Script the next answers of one route, consumed in order (appended to steps not yet consumed). Throws `FakePlatformsError`
   * for a step kind the route cannot answer. On `microsoftCampaign` steps answer `OfflineConversions/Apply` calls only.
   */
  script(route: FakeRoute, steps: FakeStep[]): void;
  /**
   * Conversions counted once per dedup key (what the real platform would count), per platform.
   * The value is how many times the key was received in accepted requests (1 = sent once).
   * Keys: Meta `{pixel_id}:{event_name}:{event_id}`; Google `{conversion_action_id}:{orderId|transactionId}`
   * (Ads and Data Manager share it); TikTok `{event_source_id}:{event_id}:{event}`.
   * Events without an id get a unique `~{n}` suffix key. The map is live: `reset()` empties it.
   */
  counted(platform: FakeCountedPlatform): ReadonlyMap<string, number>;
  /** Microsoft state tests look at and knobs they turn. */
  microsoft: {
    /** Conversions accepted with HTTP 200 that will not count, with Microsoft's later reason (microsoft-ads.md §4.4). */
    silent(): readonly MicrosoftSilentRecord[];
    /** Conversions stored (counted once), in arrival order. */
    stored(): readonly MicrosoftStoredConversion[];
    /** Refresh-token grants answered. */
    refreshes(): number;
    /** Expire every issued access token: the next call answers 109. */
    expireAccessTokens(): void;
    /** Revoke a refresh token: refreshing with it answers `invalid_grant`. */
    revoke(refreshToken: string): void;
    /** The user revoked consent (or changed the password): every refresh token stops working until `reset()`. */
    revokeAll(): void;
    /** Whether a refresh token is (still) valid. */
    refreshTokenValid(refreshToken: string): boolean;
    /** Turn a seeded goal's enhanced conversions on or off, as an advertiser does in the goal's settings. */
    setGoalEnhanced(goalId: string, enhanced: boolean): void;
    /** Events the UET Conversions API took, in arrival order, duplicates included (marked). */
    capiEvents(): readonly MicrosoftCapiReceipt[];
    /** A UET tag's current Conversions API token, `undefined` before one exists. */
    uetTagToken(tagId: string): string | undefined;
  };
  /** Every request received, oldest first, optionally of one route. */
  requests(route?: FakeRoute | 'unknown'): ReadonlyArray<FakeRequestLog>;
  /** Forget counts, dedup stores, logs, scripts, quotas, Data Manager request statuses and withdrawn TikTok advertisers; seeded Microsoft refresh tokens are valid again. Seeded accounts, registered redirect URIs and issued access tokens stay. */
  reset(): void;
  /** Stop listening and destroy open sockets (including hung requests). */
  close(): Promise<void>;
}
