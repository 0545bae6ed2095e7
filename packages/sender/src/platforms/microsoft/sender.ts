/**
 * Sending to Microsoft: an access token from the connection's refresh token,
 * one refresh and resend per `sendBatch` call after a 109 or a 401
 * (microsoft-ads.md §9), and conversions whose click is under an hour old
 * held back for the next pass (MS-HELP: "wait an hour before uploading").
 */
import { transportFailure } from '../../exchange.js';
import { sendHttp, type HttpRequest, type HttpResponse } from '../../http.js';
import { clip, type Classified, type EventResult } from '../../outcomes.js';
import { ruleForHttpStatus, ruleTable, verdictFrom, type Verdict } from '../../retry-rules.js';
import type { PlatformSender, SendContext } from '../adapter.js';
import type { MicrosoftConnection } from './connection.js';
import { hourAfterClick, type MicrosoftPlan } from './eligibility.js';
import { goalOldEnoughAt } from './goal-age.js';
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

/** Goal checks made in a pass, by connection: one query per pass, whatever the number of batches. */
const GOAL_CHECKS = new WeakMap<object, Map<string, GoalCheck | undefined>>();

/** What the process knows of a goal's age: when it first saw the goal, and until when Microsoft said it is too new. */
interface GoalAge {
  firstSeenMs: number;
  tooNewUntilMs?: number;
}
/**
 * Goal ages by the process's token cache (shared by every pass of a sender runtime, `runtime/sender.ts`):
 * kept in memory only. A sighting is never earlier than the goal's creation, so a restart that forgets it
 * only makes a 5615 wait longer, never too little (`goal-age.ts`).
 */
const GOAL_AGES = new WeakMap<object, Map<string, GoalAge>>();

/** Opens one `sendBatch` call on a Microsoft connection. */
export function openMicrosoft(conn: MicrosoftConnection, ctx: SendContext<MicrosoftUrl, MicrosoftVersion>): PlatformSender<MicrosoftPlan, MicrosoftConnection> {
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
  // The connection with the goal's live enhanced flag once `prepare` read it; plans carry their frozen fields.
  let current = conn;
  const build = (plans: readonly MicrosoftPlan[], token: string): HttpRequest => buildMicrosoftRequest(current, plans, token, endpoints);
  // A token refresh that failed in `prepare`: `send` answers it rather than ask the endpoint again.
  let tokenError: unknown;
  let refreshed = false;
  const checks = GOAL_CHECKS.get(ctx.shared) ?? new Map<string, GoalCheck | undefined>();
  GOAL_CHECKS.set(ctx.shared, checks);
  const checkKey = [conn.customer_id, conn.account_id, conn.goal_name, conn.test_mode === true ? 'sandbox' : 'production'].join('\u0000');
  const ages = GOAL_AGES.get(tokens) ?? new Map<string, GoalAge>();
  GOAL_AGES.set(tokens, ages);

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
      const check = readGoalCheck(conn, res);
      checks.set(checkKey, check);
      if (check?.ok === true && !ages.has(checkKey)) ages.set(checkKey, { firstSeenMs: ctx.now().getTime() });
    }
    const check = checks.get(checkKey);
    if (check === undefined || check.ok) return { token };
    const result = verdictFrom(rules.get(`microsoft:${check.reason}`), { error_code: check.reason, error_message: check.message });
    return { token, failure: { verdict: { type: 'all', result } } };
  }

  async function exchange(plans: readonly MicrosoftPlan[]): Promise<Classified> {
    if (tokenError !== undefined) return oauthFailure(tokenError);
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

  /** A 5615 in the answer waits until the goal is surely 2 h old (`goal-age.ts`), and holds the goal's other conversions till then. */
  function goalTooNew(answer: Classified, now: number): Classified {
    const v = answer.verdict;
    const hits = (r: EventResult): r is Verdict => r.kind === 'retry' && r.reason === 'goal_too_new';
    const found = v.type === 'each' ? v.results.some(hits) : v.type === 'all' && hits(v.result);
    if (!found) return answer;
    const until = goalOldEnoughAt(ages.get(checkKey)?.firstSeenMs, now);
    ages.set(checkKey, { firstSeenMs: ages.get(checkKey)?.firstSeenMs ?? now, tooNewUntilMs: until });
    const wait = (r: EventResult): EventResult => (hits(r) ? { ...r, minDelayMs: until - now } : r);
    if (v.type === 'each') return { ...answer, verdict: { type: 'each', results: v.results.map(wait) } };
    if (v.type === 'all') return { ...answer, verdict: { type: 'all', result: wait(v.result) } };
    return answer;
  }

  return {
    /** The goal checks of §7.3 before anything is frozen: the goal's live enhanced flag wins over the stored switch. */
    async prepare() {
      try {
        await goalFailure(await tokens.getToken(grant));
      } catch (error) {
        if (error instanceof OAuthError) tokenError = error;
        // Anything else (network) is met again, and answered, by `send`.
      }
      const check = checks.get(checkKey);
      // Refused before any upload (revoked grant, no such active goal): nothing goes, nothing is frozen.
      if (tokenError !== undefined || check?.ok === false) return undefined;
      if (check?.ok === true && check.enhanced !== undefined && check.enhanced !== (conn.enhanced_conversions === true)) {
        current = { ...conn, enhanced_conversions: check.enhanced };
      }
      return current;
    },
    async send(plans) {
      const now = ctx.now().getTime();
      const results: EventResult[] = new Array<EventResult>(plans.length);
      const ready: number[] = [];
      const tooNewUntil = ages.get(checkKey)?.tooNewUntilMs;
      plans.forEach((plan, i) => {
        const due = hourAfterClick(plan);
        if (tooNewUntil !== undefined && tooNewUntil > now) {
          // Microsoft said the goal is too new (5615): the rest waits for the instant it is surely 2 h old.
          results[i] = { ...verdictFrom(rules.get('microsoft:5615'), { error_message: `Not sent: Microsoft said the goal is less than 2 hours old (5615); held until ${new Date(tooNewUntil).toISOString()}.` }), minDelayMs: tooNewUntil - now };
        } else if (due <= now) ready.push(i);
        else {
          results[i] = verdictFrom(rules.get('microsoft:click_too_recent'), {
            minDelayMs: due - now,
            error_message: 'Not sent yet: the Microsoft click is less than an hour old; it goes with the next pass after the hour.',
          });
        }
      });
      if (ready.length === 0) return { verdict: { type: 'each', results } };
      const answer = goalTooNew(await exchange(ready.map((i) => plans[i] as MicrosoftPlan)), now);
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
