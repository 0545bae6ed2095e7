/**
 * TikTok Events API 2.0 (`/open_api/v1.3/event/track/`): the request for a
 * batch of events (platforms.md §4). Pure.
 */
import type { HttpRequest } from '../../http.js';
import type { TikTokConnection } from './connection.js';
import { tiktokExternalId } from './external-id.js';
import type { TikTokPlan } from './eligibility.js';

/** Real TikTok Business API host. */
export const TIKTOK_BASE_URL = 'https://business-api.tiktok.com';
/** TikTok Business API version. Defaults to `v1.3`. */
export const TIKTOK_API_VERSION = 'v1.3';
/** Events per request; more rejects the whole request (platforms.md §4.2). */
export const TIKTOK_MAX_BATCH = 1000;

/** One event (platforms.md §4.2). */
export interface TikTokEvent {
  event: string;
  /** Unix seconds, UTC. */
  event_time: number;
  /** The funnel event id: TikTok deduplicates on (`event_source_id`, `event_id`, `event`). */
  event_id: string;
  user: {
    /** Absent when TikTok matches the event by `email`, `phone` or `ttp`. */
    ttclid?: string;
    ttp?: string;
    email?: string;
    /** SHA-256 of E.164 with `+`. */
    phone?: string;
    external_id?: string;
    ip?: string;
    user_agent?: string;
  };
  properties?: { value?: number; currency?: string; order_id?: string };
  page?: { url?: string; referrer?: string };
}

/** The JSON body of `event/track/`. */
export interface TikTokTrackBody {
  /**
   * Always `web`, with the pixel code as `event_source_id`: the connection is a
   * pixel code (`crm` and `offline` need event-set ids we do not have), and the
   * dedup key includes `event_source_id`, so webhook conversions sent under the
   * pixel deduplicate against the browser pixel's own events (platforms.md §4.2).
   */
  event_source: 'web';
  event_source_id: string;
  test_event_code?: string;
  data: TikTokEvent[];
}

/** One event in TikTok's shape. */
export function tiktokEvent(plan: TikTokPlan): TikTokEvent {
  const e = plan.event;
  const user: TikTokEvent['user'] = {};
  if (plan.ttclid) user.ttclid = plan.ttclid;
  if (e.ttp) user.ttp = e.ttp;
  if (e.email_sha256) user.email = e.email_sha256;
  if (e.phone_sha256) user.phone = e.phone_sha256;
  // TikTok's own normalisation: trimmed, case kept (external-id.ts).
  const externalId = tiktokExternalId(e.reference);
  if (externalId) user.external_id = externalId;
  if (e.client_ip) user.ip = e.client_ip;
  if (e.user_agent) user.user_agent = e.user_agent;
  const event: TikTokEvent = {
    event: plan.event_name,
    event_time: Math.floor(Date.parse(e.event_time) / 1000),
    event_id: e.id,
    user,
  };
  const properties: NonNullable<TikTokEvent['properties']> = {};
  if (e.revenue_value !== undefined && e.currency !== undefined) {
    properties.value = e.revenue_value;
    properties.currency = e.currency;
  }
  if (e.item_reference) properties.order_id = e.item_reference;
  if (Object.keys(properties).length > 0) event.properties = properties;
  if (e.page_url || e.referrer) {
    event.page = {};
    if (e.page_url) event.page.url = e.page_url;
    if (e.referrer) event.page.referrer = e.referrer;
  }
  return event;
}

/** `POST {baseUrl}/open_api/{version}/event/track/` (trailing slash) with the `Access-Token` header. */
export function buildTikTokRequest(
  connection: TikTokConnection,
  plans: readonly TikTokPlan[],
  options: { baseUrl?: string; version?: string } = {},
): HttpRequest {
  const base = (options.baseUrl ?? TIKTOK_BASE_URL).replace(/\/+$/, '');
  const body: TikTokTrackBody = { event_source: 'web', event_source_id: connection.pixel_code, data: plans.map(tiktokEvent) };
  if (connection.test_event_code) body.test_event_code = connection.test_event_code;
  return {
    method: 'POST',
    url: `${base}/open_api/${options.version ?? TIKTOK_API_VERSION}/event/track/`,
    headers: { 'access-token': connection.access_token, 'content-type': 'application/json' },
    body,
  };
}
