/**
 * Sending to Google: an OAuth access token on every request, one refresh
 * after a 401 per `sendBatch` call (platforms.md §3.7), and for Data Manager
 * one conversion action per request and the 300-requests-per-minute budget of
 * the Cloud project (google-data-manager.md §3, §7).
 */
import { OAuthError } from '../../errors.js';
import { transportFailure } from '../../exchange.js';
import { sendHttp, type HttpRequest, type HttpResponse } from '../../http.js';
import { createTokenCache } from '../../oauth.js';
import type { Classified } from '../../outcomes.js';
import { createTokenBucket } from '../../rate-limit.js';
import { ruleForHttpStatus, ruleTable, verdictFrom } from '../../retry-rules.js';
import type { PlatformSender, RateLimit, SendContext } from '../adapter.js';
import { buildGoogleAdsRequest, classifyGoogleAdsResponse } from './ads.js';
import type { GoogleConnection } from './connection.js';
import { buildDataManagerRequest, classifyDataManagerResponse, DATA_MANAGER_REQUESTS_PER_MINUTE } from './data-manager.js';
import type { GooglePlan } from './eligibility.js';
import { GOOGLE_RETRY_RULES } from './retry-rules.js';

/** Keys of Google's base URLs in `sendBatch`'s `urls`. */
export type GoogleUrl = 'googleAds' | 'dataManager' | 'oauthToken';
/** Keys of Google's API versions in `sendBatch`'s `versions`. */
export type GoogleVersion = 'googleAds' | 'dataManager';

/** `IngestionService` mutate quota per Cloud project (google-data-manager.md §7). */
export const DATA_MANAGER_RATE_LIMIT: RateLimit = { capacity: DATA_MANAGER_REQUESTS_PER_MINUTE, intervalMs: 60_000 };

const rules = ruleTable(GOOGLE_RETRY_RULES);

/** The verdict for a token refresh that failed: a revoked grant pauses, the rest is judged by its status. */
function oauthFailure(error: unknown): Classified {
  if (error instanceof OAuthError) {
    const retryable = error.status >= 500 || error.status === 408 || error.status === 429;
    const rule = error.permanent ? rules.get('google:invalid_grant') : ruleForHttpStatus(retryable ? error.status : 500);
    return {
      verdict: { type: 'all', result: verdictFrom(rule, { error_code: error.code, error_message: error.message }) },
      http_status: error.status,
    };
  }
  return transportFailure(error);
}

/** Sends one request with an access token and reads the answer; `beforeRequest` runs before each try (the request budget). */
type TokenExchange = (
  build: (token: string) => HttpRequest,
  classify: (res: HttpResponse) => Classified,
  beforeRequest: () => Promise<void>,
) => Promise<Classified>;

/**
 * Requests with the connection's access token, from the pass's token cache.
 * One refresh and resend per `sendBatch` call after a 401; a second 401 is
 * classified as it comes (retry table: google:UNAUTHENTICATED, pause).
 */
function tokenExchange(conn: GoogleConnection, ctx: SendContext<GoogleUrl, GoogleVersion>): TokenExchange {
  const tokens = ctx.shared.get('tokenCache', () =>
    createTokenCache({ fetch: ctx.fetch, tokenUrl: ctx.urls.oauthToken, now: ctx.now, timeoutMs: ctx.timeoutMs }),
  );
  const creds = { client_id: conn.client_id, client_secret: conn.client_secret, refresh_token: conn.refresh_token };
  let refreshed = false;
  return async (build, classify, beforeRequest) => {
    let token: string;
    try {
      token = await tokens.getToken(creds);
    } catch (error) {
      return oauthFailure(error);
    }
    let res: HttpResponse;
    try {
      await beforeRequest();
      res = await sendHttp(ctx.fetch, build(token), ctx.timeoutMs);
      if (res.status === 401 && !refreshed) {
        refreshed = true;
        try {
          token = await tokens.refresh(creds, token);
        } catch (error) {
          return oauthFailure(error);
        }
        await beforeRequest();
        res = await sendHttp(ctx.fetch, build(token), ctx.timeoutMs);
      }
    } catch (error) {
      return transportFailure(error);
    }
    return classify(res);
  };
}

/** Opens one `sendBatch` call on a Google connection: Ads API or Data Manager, as the connection says. */
export function openGoogle(conn: GoogleConnection, ctx: SendContext<GoogleUrl, GoogleVersion>): PlatformSender<GooglePlan> {
  const withToken = tokenExchange(conn, ctx);
  const dryRun = conn.dry_run === true;
  if (conn.api === 'ads') {
    return {
      send: (plans) =>
        withToken(
          (token) => buildGoogleAdsRequest(conn, plans, token, { baseUrl: ctx.urls.googleAds, version: ctx.versions.googleAds }),
          (res) => classifyGoogleAdsResponse(res, plans.length, ctx.now(), dryRun),
          async () => {},
        ),
    };
  }
  const limiter = ctx.shared.get('dataManagerLimiter', () => createTokenBucket({ ...DATA_MANAGER_RATE_LIMIT, now: ctx.now }));
  const throttle = async (): Promise<void> => {
    const wait = limiter.take();
    if (wait > 0) await ctx.sleep(wait);
  };
  return {
    // Data Manager: one destination (conversion action) per request.
    requestKey: (plan) => plan.conversion_action_id,
    send: (plans) =>
      withToken(
        (token) =>
          buildDataManagerRequest(conn, (plans[0] as GooglePlan).conversion_action_id, plans, token, {
            baseUrl: ctx.urls.dataManager,
            version: ctx.versions.dataManager,
          }),
        (res) => classifyDataManagerResponse(res, ctx.now(), dryRun),
        throttle,
      ),
  };
}
