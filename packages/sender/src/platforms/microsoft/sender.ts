/**
 * Sending to Microsoft: an access token from the connection's refresh token,
 * one refresh and resend per `sendBatch` call after a 109 or a 401
 * (microsoft-ads.md §9), and conversions whose click is under an hour old
 * held back for the next pass (MS-HELP: "wait an hour before uploading").
 */
import { transportFailure } from '../../exchange.js';
import { sendHttp, type HttpRequest, type HttpResponse } from '../../http.js';
import { clip, type Classified, type EventResult } from '../../outcomes.js';
import { ruleForHttpStatus, ruleTable, verdictFrom } from '../../retry-rules.js';
import type { PlatformSender, SendContext } from '../adapter.js';
import type { MicrosoftConnection } from './connection.js';
import type { MicrosoftPlan } from './eligibility.js';
import { buildGoalQuery, readGoalCheck, type GoalCheck } from './goal-check.js';
import { buildMicrosoftRequest, campaignUrl } from './request.js';
import { classifyMicrosoftResponse, needsRefresh } from './response.js';
import { MICROSOFT_RETRY_RULES } from './retry-rules.js';
import { OAuthError } from '../../errors.js';
import { createTokenCache, type GoogleCredentials } from '../../oauth.js';
import { MICROSOFT_SANDBOX_SCOPE, MICROSOFT_SCOPE } from './scopes.js';

/** Keys of Microsoft's base URLs in `sendBatch`'s `urls`. */
export type MicrosoftUrl =
  | 'microsoftCampaign'
  | 'microsoftCampaignSandbox'
  | 'microsoftCustomer'
  | 'microsoftCustomerSandbox'
  | 'microsoftToken'
  | 'microsoftCapi';
/** Keys of Microsoft's API versions in `sendBatch`'s `versions`. */
export type MicrosoftVersion = 'microsoft';

/** Microsoft asks to wait an hour after the click before uploading (MS-HELP). */
export const MICROSOFT_CLICK_WAIT_MS = 3_600_000;

const rules = ruleTable(MICROSOFT_RETRY_RULES);

/** The verdict for a token refresh that failed: a revoked grant pauses, the rest is judged by its status. */
function oauthFailure(error: unknown): Classified {
  if (error instanceof OAuthError) {
    const retryable = error.status >= 500 || error.status === 408 || error.status === 429;
    const rule = error.permanent ? rules.get('microsoft:invalid_grant') : ruleForHttpStatus(retryable ? error.status : 500);
    const message =
      `Microsoft OAuth token refresh failed: ${error.code}${error.description !== undefined ? ` (${error.description})` : ''}.` +
      (error.permanent ? ' Reconnect the Microsoft Advertising account (the refresh token was revoked or expired, or the Azure app id/secret are wrong).' : '');
    return { verdict: { type: 'all', result: verdictFrom(rule, { error_code: error.code, error_message: clip(message) as string }) }, http_status: error.status };
  }
  return transportFailure(error);
}

/**
 * When the click of a plan is an hour old. An unknown click time is bounded
 * by the conversion time: the click came before it.
 */
function hourAfterClick(plan: MicrosoftPlan): number {
  const ts = plan.click.ts !== undefined ? Date.parse(plan.click.ts) : Number.NaN;
  return (Number.isNaN(ts) ? Date.parse(plan.event.event_time) : ts) + MICROSOFT_CLICK_WAIT_MS;
}

/** Goal checks made in a pass, by connection: one query per pass, whatever the number of batches. */
const GOAL_CHECKS = new WeakMap<object, Map<string, GoalCheck | undefined>>();

/** Opens one `sendBatch` call on a Microsoft connection. */
export function openMicrosoft(conn: MicrosoftConnection, ctx: SendContext<MicrosoftUrl, MicrosoftVersion>): PlatformSender<MicrosoftPlan> {
  // The process's token cache (the runtime's: refreshes serialised across workers, a rotated
  // refresh token written back to the connection, encrypted); a lone sendBatch call makes its own.
  const tokens = ctx.shared.get('tokenCache', () => createTokenCache({ fetch: ctx.fetch, now: ctx.now, timeoutMs: ctx.timeoutMs }));
  const grant: GoogleCredentials = {
    client_id: conn.client_id ?? '',
    client_secret: conn.client_secret ?? '',
    refresh_token: conn.refresh_token,
    token_url: ctx.urls.microsoftToken,
    scope: conn.test_mode === true ? MICROSOFT_SANDBOX_SCOPE : MICROSOFT_SCOPE,
  };
  const endpoints = { campaign: campaignUrl(conn, ctx.urls), version: ctx.versions.microsoft };
  const build = (plans: readonly MicrosoftPlan[], token: string): HttpRequest => buildMicrosoftRequest(conn, plans, token, endpoints);
  let refreshed = false;
  const checks = GOAL_CHECKS.get(ctx.shared) ?? new Map<string, GoalCheck | undefined>();
  GOAL_CHECKS.set(ctx.shared, checks);
  const checkKey = [conn.customer_id, conn.account_id, conn.goal_name, conn.test_mode === true ? 'sandbox' : 'production'].join('\u0000');

  /** Sends with the token, refreshing it once after a 109 or a first 401. */
  async function withRefresh(request: (token: string) => HttpRequest, token: string): Promise<{ res: HttpResponse; token: string }> {
    let res = await sendHttp(ctx.fetch, request(token), ctx.timeoutMs);
    if (!refreshed && needsRefresh(res)) {
      refreshed = true;
      token = await tokens.refresh(grant, token);
      res = await sendHttp(ctx.fetch, request(token), ctx.timeoutMs);
    }
    return { res, token };
  }

  /** The goal checks of §7.3, once per pass; a failure pauses the connection with its reason. */
  async function goalFailure(token: string): Promise<{ failure?: Classified; token: string }> {
    if (!checks.has(checkKey)) {
      const { res, token: current } = await withRefresh((t) => buildGoalQuery(conn, t, endpoints), token);
      token = current;
      checks.set(checkKey, readGoalCheck(conn, res));
    }
    const check = checks.get(checkKey);
    if (check === undefined || check.ok) return { token };
    const result = verdictFrom(rules.get(`microsoft:${check.reason}`), { error_code: check.reason, error_message: check.message });
    return { token, failure: { verdict: { type: 'all', result } } };
  }

  async function exchange(plans: readonly MicrosoftPlan[]): Promise<Classified> {
    let token: string;
    try {
      token = await tokens.getToken(grant);
    } catch (error) {
      return oauthFailure(error);
    }
    let res: HttpResponse;
    try {
      const goal = await goalFailure(token);
      if (goal.failure !== undefined) return goal.failure;
      // 109 or a first 401: one refresh and one resend per call; what follows is judged by the table.
      res = (await withRefresh((t) => build(plans, t), goal.token)).res;
    } catch (error) {
      return error instanceof OAuthError ? oauthFailure(error) : transportFailure(error);
    }
    return classifyMicrosoftResponse(res, plans.length, ctx.now());
  }

  return {
    async send(plans) {
      const now = ctx.now().getTime();
      const results: EventResult[] = new Array<EventResult>(plans.length);
      const ready: number[] = [];
      plans.forEach((plan, i) => {
        const due = hourAfterClick(plan);
        if (due <= now) ready.push(i);
        else {
          results[i] = verdictFrom(rules.get('microsoft:click_too_recent'), {
            minDelayMs: due - now,
            error_message: 'Not sent yet: the Microsoft click is less than an hour old; it goes with the next pass after the hour.',
          });
        }
      });
      if (ready.length === 0) return { verdict: { type: 'each', results } };
      const answer = await exchange(ready.map((i) => plans[i] as MicrosoftPlan));
      if (ready.length === plans.length) return answer;
      const v = answer.verdict;
      ready.forEach((i, k) => {
        results[i] = v.type === 'each' ? (v.results[k] ?? { kind: 'sent' }) : v.type === 'all' ? v.result : { ...v.verdict, kind: 'fail' };
      });
      return { ...answer, verdict: { type: 'each', results } };
    },
    // A build-only dry run: no token is fetched, the developer token is not shown.
    preview: (plans) => {
      const req = build(plans, '[redacted]');
      return { ...req, headers: { ...req.headers, developertoken: '[redacted]' } };
    },
  };
}
