/**
 * From the collector's stored shapes to the sender's: a stored funnel event
 * becomes a `ConversionEvent`, a stage's event-name overrides become the
 * sender's `StageOverrides`. Pure.
 */
import type { ConversionEvent, StageOverrides } from '@pruuv/sender';
import type { Stage, StoredEvent } from '../store/types.js';

/**
 * The sender's view of a stored event. `event_time` is the payload's
 * `data_timestamp` (webhook-api.md: when the conversion happened), else the
 * receive time. Reporting-only fields (UTMs, touches, demographics) stay behind.
 */
export function toConversionEvent(e: StoredEvent): ConversionEvent {
  const event: ConversionEvent = {
    id: e.id,
    client_id: e.client_id,
    stage_id: e.stage_id,
    stage_key: e.stage_key,
    reference: e.reference,
    event_time: e.data_timestamp ?? e.received_at,
    source: e.source,
    consent: e.consent,
    clicks: { ...e.clicks },
  };
  if (e.item_reference !== undefined) event.item_reference = e.item_reference;
  if (e.revenue_value !== undefined) event.revenue_value = e.revenue_value;
  if (e.currency !== undefined) event.currency = e.currency;
  if (e.fbc !== undefined) event.fbc = e.fbc;
  if (e.fbp !== undefined) event.fbp = e.fbp;
  if (e.ttp !== undefined) event.ttp = e.ttp;
  if (e.email_sha256 !== undefined) event.email_sha256 = e.email_sha256;
  if (e.email_sha256_google !== undefined) event.email_sha256_google = e.email_sha256_google;
  if (e.email_sha256_microsoft !== undefined) event.email_sha256_microsoft = e.email_sha256_microsoft;
  if (e.phone_sha256 !== undefined) event.phone_sha256 = e.phone_sha256;
  if (e.phone_sha256_meta !== undefined) event.phone_sha256_meta = e.phone_sha256_meta;
  if (e.email_rejected !== undefined) event.email_rejected = e.email_rejected;
  if (e.phone_rejected !== undefined) event.phone_rejected = e.phone_rejected;
  if (e.client_ip !== undefined) event.client_ip = e.client_ip;
  if (e.user_agent !== undefined) event.user_agent = e.user_agent;
  if (e.page_url !== undefined) event.page_url = e.page_url;
  if (e.referrer !== undefined) event.referrer = e.referrer;
  return event;
}

/** A stage's `event_names` as the sender's overrides; `undefined` when the stage has none. */
export function toStageOverrides(names: Stage['event_names']): StageOverrides | undefined {
  const o: StageOverrides = {};
  if (names.meta !== undefined) o.meta_event_name = names.meta;
  if (names.tiktok !== undefined) o.tiktok_event_name = names.tiktok;
  if (names.google_conversion_action_id !== undefined) o.google_conversion_action_id = names.google_conversion_action_id;
  return Object.keys(o).length > 0 ? o : undefined;
}
