/**
 * One batch of events for one connection: check each event, build the
 * platform requests, send them, and turn every answer into one outcome per
 * event. The outbox (leases, scheduling, audit rows) lives in the collector
 * and calls this; every seam is injected so tests run it against the fakes.
 */
import {
  DATA_MANAGER_API_VERSION,
  DATA_MANAGER_BASE_URL,
  DATA_MANAGER_MAX_BATCH,
  DATA_MANAGER_REQUESTS_PER_MINUTE,
  buildDataManagerRequest,
  classifyDataManagerResponse,
} from './data-manager.js';
import { checkEligibility, type GooglePlan, type MetaPlan, type Plan, type TikTokPlan } from './eligibility.js';
import { NetworkError, OAuthError, SenderError, TimeoutError } from './errors.js';
import {
  GOOGLE_ADS_API_VERSION,
  GOOGLE_ADS_BASE_URL,
  GOOGLE_MAX_BATCH,
  buildGoogleAdsRequest,
  classifyGoogleAdsResponse,
} from './google-ads.js';
import { DEFAULT_TIMEOUT_MS, redactRequest, sendHttp, type FetchLike, type HttpRequest, type HttpResponse } from './http.js';
import { sendIsolating, type IsolateState, type ItemResult } from './isolate.js';
import { META_API_VERSION, META_BASE_URL, META_MAX_BATCH, buildMetaRequest, classifyMetaResponse } from './meta.js';
import { GOOGLE_TOKEN_URL, createTokenCache, type TokenCache } from './oauth.js';
import type { Classified, EventOutcome } from './outcomes.js';
import { createTokenBucket, type TokenBucket } from './rate-limit.js';
import { nextAttempt, ruleFor, ruleForHttpStatus, verdictFrom, type RetryPolicy, type RetryRule } from './retry-policy.js';
import { connectionSchema, conversionEventSchema, formatIssues } from './schema.js';
import { TIKTOK_API_VERSION, TIKTOK_BASE_URL, TIKTOK_MAX_BATCH, buildTikTokRequest, classifyTikTokResponse } from './tiktok.js';
import type {
  Connection,
  ConversionEvent,
  GoogleConnection,
  MetaConnection,
  Platform,
  StageOverrides,
  TikTokConnection,
} from './types.js';

/** Base URLs of the platforms; the fakes' `urls` fit as they are. */
export interface PlatformUrls {
  /** Defaults to `https://graph.facebook.com`. */
  meta: string;
  /** Defaults to `https://googleads.googleapis.com`. */
  googleAds: string;
  /** Defaults to `https://datamanager.googleapis.com`. */
  dataManager: string;
  /** Full token endpoint URL. Defaults to `https://oauth2.googleapis.com/token`. */
  oauthToken: string;
  /** Defaults to `https://business-api.tiktok.com`. */
  tiktok: string;
}

/** API versions. */
export interface ApiVersions {
  /** Defaults to `v26.0`. */
  meta: string;
  /** Defaults to `v26`. */
  googleAds: string;
  /** Defaults to `v1`. */
  dataManager: string;
  /** Defaults to `v1.3`. */
  tiktok: string;
}

/** The real platforms. */
export const DEFAULT_URLS: Readonly<PlatformUrls> = {
  meta: META_BASE_URL,
  googleAds: GOOGLE_ADS_BASE_URL,
  dataManager: DATA_MANAGER_BASE_URL,
  oauthToken: GOOGLE_TOKEN_URL,
  tiktok: TIKTOK_BASE_URL,
};

/** The versions the request builders were written against. */
export const DEFAULT_VERSIONS: Readonly<ApiVersions> = {
  meta: META_API_VERSION,
  googleAds: GOOGLE_ADS_API_VERSION,
  dataManager: DATA_MANAGER_API_VERSION,
  tiktok: TIKTOK_API_VERSION,
};

/** Earlier attempts of one event on this platform, from the outbox. */
export interface AttemptHistory {
  /** Attempts already made (0 before the first). */
  attempts: number;
  /** ISO 8601 time of the first attempt: the platforms' dedup windows start there. */
  first_attempt_at?: string;
}

/** Input of {@link sendBatch}. */
export interface SendBatchOptions {
  /** The client's connection for the platform; `undefined` skips every event with `no_connection`. */
  connection: Connection | undefined;
  /** Required when `connection` is `undefined`; otherwise taken from it. */
  platform?: Platform;
  /** Events of one client, any stages. */
  events: readonly ConversionEvent[];
  /** Overrides per `stage_id`. */
  overrides?: Readonly<Record<string, StageOverrides>>;
  /** Earlier attempts per event id. Defaults to none: this is the first attempt. */
  history?: Readonly<Record<string, AttemptHistory>>;
  /** Defaults to the global `fetch`. */
  fetch?: FetchLike;
  /** Defaults to `() => new Date()`. */
  now?: () => Date;
  /** Defaults to {@link DEFAULT_URLS}. */
  urls?: Partial<PlatformUrls>;
  /** Defaults to {@link DEFAULT_VERSIONS}. */
  versions?: Partial<ApiVersions>;
  /** Google access tokens. Share one across calls. Defaults to a cache for this call only. */
  tokenCache?: TokenCache;
  /** Per request. Defaults to `30_000` ms. */
  timeoutMs?: number;
  /** Jitter source. Defaults to `Math.random`. */
  random?: () => number;
  retryPolicy?: Partial<RetryPolicy>;
  /**
   * Data Manager request slots; share one per Google Cloud project.
   * Defaults to a 300-per-minute bucket for this call only.
   */
  dataManagerLimiter?: TokenBucket;
  /** How waits for the limiter are slept. Defaults to `setTimeout`. */
  sleep?: (ms: number) => Promise<void>;
  /** Extra requests allowed to isolate bad events. Defaults to `64`. */
  maxSplitRequests?: number;
}

/** What {@link sendBatch} did. */
export interface BatchResult {
  platform: Platform;
  /** One per input event, in input order. */
  outcomes: EventOutcome[];
  batch: {
    /** Events given. */
    size: number;
    /** Events that passed the pre-flight checks. */
    eligible: number;
    /** HTTP requests to the platform (token refreshes not counted). */
    requests: number;
    dry_run: boolean;
    /** Google only. */
    api?: 'ads' | 'data-manager';
  };
  /** Some answer said the connection's credentials or account are unusable. */
  pause_connection: boolean;
  /** Dry runs of Meta and TikTok (no validate-only mode): the requests that would have gone, secrets redacted. */
  dry_run_requests?: HttpRequest[];
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function transportFailure(error: unknown): Classified {
  if (error instanceof TimeoutError) {
    return { verdict: { type: 'all', result: verdictFrom(ruleFor('timeout') as RetryRule, { error_code: 'TIMEOUT', error_message: error.message }) } };
  }
  if (error instanceof NetworkError) {
    return { verdict: { type: 'all', result: verdictFrom(ruleFor('network') as RetryRule, { error_code: 'NETWORK', error_message: error.message }) } };
  }
  throw error;
}

function oauthFailure(error: unknown): Classified {
  if (error instanceof OAuthError) {
    const retryable = error.status >= 500 || error.status === 408 || error.status === 429;
    const rule = error.permanent ? (ruleFor('google:invalid_grant') as RetryRule) : ruleForHttpStatus(retryable ? error.status : 500);
    return {
      verdict: { type: 'all', result: verdictFrom(rule, { error_code: error.code, error_message: error.message }) },
      http_status: error.status,
    };
  }
  return transportFailure(error);
}

/**
 * Sends one batch and reports one outcome per event. Never throws for a
 * platform or network failure: those become `retrying`, `failed` or `dead`
 * outcomes. Throws {@link SenderError} only for misuse (no platform given).
 */
export async function sendBatch(options: SendBatchOptions): Promise<BatchResult> {
  const platform = options.platform ?? options.connection?.platform;
  if (!platform) throw new SenderError('sendBatch needs a connection or a platform; pass `platform` when there is no connection.');
  const clock = options.now ?? (() => new Date());
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
  const urls: PlatformUrls = { ...DEFAULT_URLS, ...options.urls };
  const versions: ApiVersions = { ...DEFAULT_VERSIONS, ...options.versions };
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const startedAt = clock();

  const outcomes: EventOutcome[] = new Array<EventOutcome>(options.events.length);
  const planned: Array<{ index: number; plan: Plan }> = [];
  const seen = new Set<string>();
  options.events.forEach((event, index) => {
    const parsed = conversionEventSchema.safeParse(event);
    if (!parsed.success) {
      outcomes[index] = { event_id: String(event?.id ?? ''), status: 'skipped', reason: 'invalid_event', message: `Invalid event: ${formatIssues(parsed.error)}.` };
      return;
    }
    if (seen.has(event.id)) {
      outcomes[index] = { event_id: event.id, status: 'skipped', reason: 'duplicate_in_batch', message: 'The same event id appears earlier in this batch.' };
      return;
    }
    seen.add(event.id);
    const check = checkEligibility({
      event,
      platform,
      connection: options.connection,
      ...(options.overrides?.[event.stage_id] ? { overrides: options.overrides[event.stage_id] } : {}),
      now: startedAt,
    });
    if (check.send) planned.push({ index, plan: check.plan });
    else outcomes[index] = { event_id: event.id, status: 'skipped', reason: check.reason, message: check.message };
  });

  const dryRun = options.connection?.dry_run === true;
  const result: BatchResult = {
    platform,
    outcomes,
    batch: { size: options.events.length, eligible: planned.length, requests: 0, dry_run: dryRun },
    pause_connection: false,
  };
  if (options.connection?.platform === 'google') result.batch.api = options.connection.api;
  if (planned.length === 0 || options.connection === undefined) return result;

  // Eligibility validated the connection; the parsed copy has Google ids without hyphens.
  const connection = connectionSchema.parse(options.connection) as Connection;
  const state: IsolateState = { budget: options.maxSplitRequests ?? 64, requests: 0 };

  const exchange = async (req: HttpRequest, classify: (res: HttpResponse) => Classified): Promise<Classified> => {
    try {
      return classify(await sendHttp(fetchImpl, req, timeoutMs));
    } catch (error) {
      return transportFailure(error);
    }
  };

  type Item = { index: number; plan: Plan };
  const results = new Map<number, ItemResult>();
  const record = (items: readonly Item[], itemResults: ItemResult[]): void => {
    items.forEach((it, k) => results.set(it.index, itemResults[k] as ItemResult));
  };

  if (connection.platform === 'meta' || connection.platform === 'tiktok') {
    const max = connection.platform === 'meta' ? META_MAX_BATCH : TIKTOK_MAX_BATCH;
    const build = (items: readonly Item[]): HttpRequest =>
      connection.platform === 'meta'
        ? buildMetaRequest(connection as MetaConnection, items.map((i) => i.plan as MetaPlan), { baseUrl: urls.meta, version: versions.meta })
        : buildTikTokRequest(connection as TikTokConnection, items.map((i) => i.plan as TikTokPlan), { baseUrl: urls.tiktok, version: versions.tiktok });
    if (dryRun) {
      // Neither platform has a validate-only mode (test_event_code events are counted, platforms.md §1.2).
      result.dry_run_requests = chunk(planned, max).map((items) => redactRequest(build(items)));
      for (const it of planned) results.set(it.index, { result: { kind: 'validated' } });
    } else {
      for (const items of chunk(planned, max)) {
        record(
          items,
          await sendIsolating(
            items,
            (batch) =>
              exchange(build(batch), (res) =>
                connection.platform === 'meta' ? classifyMetaResponse(res, batch.length, clock()) : classifyTikTokResponse(res, clock()),
              ),
            state,
          ),
        );
      }
    }
  } else {
    await sendGoogle(connection, planned as Array<{ index: number; plan: GooglePlan }>);
  }

  async function sendGoogle(conn: GoogleConnection, items: Array<{ index: number; plan: GooglePlan }>): Promise<void> {
    const tokens = options.tokenCache ?? createTokenCache({ fetch: fetchImpl, tokenUrl: urls.oauthToken, now: clock, timeoutMs });
    const limiter = options.dataManagerLimiter ?? createTokenBucket({ capacity: DATA_MANAGER_REQUESTS_PER_MINUTE, now: clock });
    const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    const creds = { client_id: conn.client_id, client_secret: conn.client_secret, refresh_token: conn.refresh_token };
    let refreshed = false;

    // One token refresh per batch after a 401; a second 401 pauses (retry table: google:UNAUTHENTICATED).
    const withToken = async (
      build: (token: string) => HttpRequest,
      classify: (res: HttpResponse) => Classified,
      beforeRequest: () => Promise<void>,
    ): Promise<Classified> => {
      let token: string;
      try {
        token = await tokens.getToken(creds);
      } catch (error) {
        return oauthFailure(error);
      }
      let res: HttpResponse;
      try {
        await beforeRequest();
        res = await sendHttp(fetchImpl, build(token), timeoutMs);
        if (res.status === 401 && !refreshed) {
          refreshed = true;
          try {
            token = await tokens.refresh(creds, token);
          } catch (error) {
            return oauthFailure(error);
          }
          await beforeRequest();
          res = await sendHttp(fetchImpl, build(token), timeoutMs);
        }
      } catch (error) {
        return transportFailure(error);
      }
      return classify(res);
    };

    if (conn.api === 'ads') {
      for (const group of chunk(items, GOOGLE_MAX_BATCH)) {
        record(
          group,
          await sendIsolating(
            group,
            (batch) =>
              withToken(
                (token) => buildGoogleAdsRequest(conn, batch.map((i) => i.plan), token, { baseUrl: urls.googleAds, version: versions.googleAds }),
                (res) => classifyGoogleAdsResponse(res, batch.length, clock(), conn.dry_run === true),
                async () => {},
              ),
            state,
          ),
        );
      }
      return;
    }
    // Data Manager: one destination (conversion action) per request.
    const byAction = new Map<string, Array<{ index: number; plan: GooglePlan }>>();
    for (const it of items) {
      const list = byAction.get(it.plan.conversion_action_id) ?? [];
      list.push(it);
      byAction.set(it.plan.conversion_action_id, list);
    }
    const throttle = async (): Promise<void> => {
      const wait = limiter.take();
      if (wait > 0) await sleep(wait);
    };
    for (const [action, list] of byAction) {
      for (const group of chunk(list, DATA_MANAGER_MAX_BATCH)) {
        record(
          group,
          await sendIsolating(
            group,
            (batch) =>
              withToken(
                (token) =>
                  buildDataManagerRequest(conn, action, batch.map((i) => i.plan), token, { baseUrl: urls.dataManager, version: versions.dataManager }),
                (res) => classifyDataManagerResponse(res, clock(), conn.dry_run === true),
                throttle,
              ),
            state,
          ),
        );
      }
    }
  }

  result.batch.requests = state.requests;
  for (const { index, plan } of planned) {
    const item = results.get(index);
    if (!item) continue;
    const outcome = toOutcome(plan, item, options, startedAt, clock);
    outcomes[index] = outcome;
    if (outcome.pause_connection) result.pause_connection = true;
  }
  return result;
}

function toOutcome(
  plan: Plan,
  item: ItemResult,
  options: SendBatchOptions,
  startedAt: Date,
  clock: () => Date,
): EventOutcome {
  const e = plan.event;
  const o: EventOutcome = { event_id: e.id, status: 'sent' };
  if (item.http_status !== undefined) o.http_status = item.http_status;
  if (item.request_id !== undefined) o.request_id = item.request_id;
  const r = item.result;
  if (r.kind === 'sent') return o;
  if (r.kind === 'validated') {
    return { ...o, status: 'skipped', reason: 'dry_run', message: 'Dry run: built and validated, not delivered.' };
  }
  o.reason = r.reason;
  if (r.error_code !== undefined) o.error_code = r.error_code;
  if (r.error_message !== undefined) o.error_message = r.error_message;
  switch (r.kind) {
    case 'delivered':
      return o; // status sent: the platform already counted it
    case 'fail':
    case 'split':
      return { ...o, status: 'failed' };
    case 'pause':
      return { ...o, status: 'failed', pause_connection: true };
    case 'retry': {
      const history = options.history?.[e.id];
      const clickTs = plan.platform === 'google' && plan.click.ts !== undefined ? new Date(plan.click.ts) : undefined;
      const next = nextAttempt({
        platform: plan.platform,
        attempt: (history?.attempts ?? 0) + 1,
        firstAttemptAt: history?.first_attempt_at !== undefined ? new Date(history.first_attempt_at) : startedAt,
        now: clock(),
        eventTime: new Date(e.event_time),
        ...(clickTs ? { clickTime: clickTs } : {}),
        ...(r.minDelayMs !== undefined ? { minDelayMs: r.minDelayMs } : {}),
        ...(r.retryAfterMs !== undefined ? { retryAfterMs: r.retryAfterMs } : {}),
        ...(options.random ? { random: options.random } : {}),
        ...(options.retryPolicy ? { policy: options.retryPolicy } : {}),
      });
      if (next.status === 'retrying') return { ...o, status: 'retrying', next_attempt_at: next.at.toISOString() };
      return { ...o, status: 'dead', reason: next.reason, message: `${next.message} Last failure: ${r.reason}.` };
    }
  }
}
