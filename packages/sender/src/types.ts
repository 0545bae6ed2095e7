/**
 * The sender's input: a stored funnel event after the attribution join, as the
 * collector hands it over, and the per-stage overrides. Each platform's
 * connection type lives with its adapter (`platforms/<name>/connection.ts`);
 * `Platform` and `Connection` are derived from the registry.
 * The sender never sees raw email or phone: only their SHA-256 hashes.
 */
import type { ClickIdName } from './click-ids.js';

export type { ClickIdName, CookieIdName } from './click-ids.js';
export type { Connection, Platform } from './platforms/index.js';

/** A click ID and, when known, when it was first seen (ISO 8601 UTC). */
export interface ClickRef {
  value: string;
  /** First-seen time of the click. Webhook events carry it only when the caller sent `click_timestamp`. */
  ts?: string;
}

/** Consent for ad use of the user's data. `unspecified`: the site did not ask. */
export type Consent = 'granted' | 'denied' | 'unspecified';

/** A funnel event ready to be sent: what the collector's outbox yields. */
export interface ConversionEvent {
  /** The funnel event UUID: the dedup key on every platform (Meta/TikTok `event_id`, Google `orderId`/`transactionId`). */
  id: string;
  client_id: string;
  stage_id: string;
  /** The stage key (`lead`, `sale`…), from which default event names come. */
  stage_key: string;
  reference: string;
  item_reference?: string;
  revenue_value?: number;
  /** ISO 4217, upper case. */
  currency?: string;
  /** When the conversion happened, ISO 8601 (the payload's `data_timestamp`, else the receive time). */
  event_time: string;
  source: 'pixel' | 'webhook';
  consent: Consent;
  clicks: Partial<Record<ClickIdName, ClickRef>>;
  /** Meta `_fbc` as captured (4 or 5 segments). */
  fbc?: string;
  /** Meta `_fbp` as captured. */
  fbp?: string;
  /** TikTok `_ttp`. */
  ttp?: string;
  email_sha256?: string;
  /** Gmail-canonical email hash for Google, when it differs from `email_sha256`. */
  email_sha256_google?: string;
  /**
   * Microsoft's email hash (every domain: dots and `+alias` removed from the local part), when it
   * differs from `email_sha256`; made by the collector where it has the raw address (microsoft-ads.md §3.1).
   */
  email_sha256_microsoft?: string;
  /** SHA-256 of E.164 with `+` (Google, TikTok, Microsoft). */
  phone_sha256?: string;
  /** SHA-256 of the digits without `+` (Meta). */
  phone_sha256_meta?: string;
  /**
   * Why the collector left the event's raw email out (it was not an address:
   * `no_at`, `no_dot_in_domain`…). Only the reason; a platform that had nothing
   * else to match the event by names it in its skip.
   */
  email_rejected?: string;
  /** Why the collector left the event's raw phone out (it could not be made E.164: `not_e164`, `no_digits`). Only the reason. */
  phone_rejected?: string;
  /** Client IP as the collector saw it on a pixel event. */
  client_ip?: string;
  /** Browser user agent as the collector saw it on a pixel event. */
  user_agent?: string;
  /** The page URL of a pixel event (Meta `event_source_url`, TikTok `page.url`). */
  page_url?: string;
  referrer?: string;
}

/** Per-stage settings that override the defaults derived from the stage key. */
export interface StageOverrides {
  meta_event_name?: string;
  tiktok_event_name?: string;
  /** Google conversion action for this stage, overriding the connection's. */
  google_conversion_action_id?: string;
}
