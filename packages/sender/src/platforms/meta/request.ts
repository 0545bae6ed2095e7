/**
 * Meta Conversions API: the request for a batch of events (platforms.md §1).
 * Pure: no I/O.
 */
import type { HttpRequest } from '../../http.js';
import type { MetaConnection } from './connection.js';
import { metaExternalId } from './external-id.js';
import type { MetaPlan } from './eligibility.js';

/** Real Graph API host. */
export const META_BASE_URL = 'https://graph.facebook.com';
/** Graph API version. Defaults to `v26.0` (latest, 2026-07-29; platforms.md §1.1). */
export const META_API_VERSION = 'v26.0';
/** Events per request: "the only limit is 1,000 events per request" (platforms.md §1.1). */
export const META_MAX_BATCH = 1000;

/** A server event as Meta reads it (platforms.md §1.3–1.5). */
export interface MetaServerEvent {
  event_name: string;
  /** Unix seconds. */
  event_time: number;
  /** The funnel event id: Meta deduplicates on (`event_name`, `event_id`) for 48 h. */
  event_id: string;
  action_source: 'website' | 'system_generated';
  event_source_url?: string;
  user_data: {
    em?: string;
    ph?: string;
    external_id?: string;
    fbc: string;
    fbp?: string;
    client_ip_address?: string;
    client_user_agent?: string;
  };
  custom_data?: { value?: number; currency?: string; order_id?: string; event_source?: 'crm' };
}

/** The JSON body POSTed to `/{version}/{pixel_id}/events`. */
export interface MetaEventsBody {
  data: MetaServerEvent[];
  test_event_code?: string;
  access_token: string;
}

/** One event in Meta's shape. */
export function metaServerEvent(plan: MetaPlan): MetaServerEvent {
  const e = plan.event;
  // Website events need event_source_url and client_user_agent (platforms.md §1.3);
  // a pixel event without both, and every webhook event, goes as a CRM event:
  // action_source has no `crm` value, so `system_generated` + custom_data.event_source (§1.3, M-CRM).
  const website = e.source === 'pixel' && e.page_url !== undefined && e.user_agent !== undefined;
  const user: MetaServerEvent['user_data'] = { fbc: plan.fbc };
  if (e.email_sha256) user.em = e.email_sha256;
  // Meta's phone hash is of the digits without `+` (platforms.md §1.4).
  if (e.phone_sha256_meta) user.ph = e.phone_sha256_meta;
  // Meta's own normalisation: all whitespace removed, lower-cased (external-id.ts).
  const externalId = metaExternalId(e.reference);
  if (externalId) user.external_id = externalId;
  if (e.fbp) user.fbp = e.fbp;
  if (e.client_ip) user.client_ip_address = e.client_ip;
  if (e.user_agent) user.client_user_agent = e.user_agent;

  const custom: NonNullable<MetaServerEvent['custom_data']> = {};
  // value only with its currency: a bare number has no meaning for value optimisation (platforms.md §1.5).
  if (e.revenue_value !== undefined && e.currency !== undefined) {
    custom.value = e.revenue_value;
    custom.currency = e.currency;
  }
  if (e.item_reference) custom.order_id = e.item_reference;
  if (!website) custom.event_source = 'crm';

  const event: MetaServerEvent = {
    event_name: plan.event_name,
    event_time: Math.floor(Date.parse(e.event_time) / 1000),
    event_id: e.id,
    action_source: website ? 'website' : 'system_generated',
    user_data: user,
  };
  if (website) event.event_source_url = e.page_url as string;
  if (Object.keys(custom).length > 0) event.custom_data = custom;
  return event;
}

/**
 * `POST {baseUrl}/{version}/{pixel_id}/events` with a JSON body. The token goes
 * in the body, as Meta's SDK sends it (platforms.md §1.1), not in the query
 * string, where proxies and access logs would keep it.
 */
export function buildMetaRequest(
  connection: MetaConnection,
  plans: readonly MetaPlan[],
  options: { baseUrl?: string; version?: string } = {},
): HttpRequest {
  const base = (options.baseUrl ?? META_BASE_URL).replace(/\/+$/, '');
  const body: MetaEventsBody = { data: plans.map(metaServerEvent), access_token: connection.access_token };
  if (connection.test_event_code) body.test_event_code = connection.test_event_code;
  return {
    method: 'POST',
    url: `${base}/${options.version ?? META_API_VERSION}/${encodeURIComponent(connection.pixel_id)}/events`,
    headers: { 'content-type': 'application/json' },
    body,
  };
}
