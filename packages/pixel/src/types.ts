/**
 * Public types of the Pruuv pixel, and the wire shape of the beacon it sends.
 *
 * The collector validates the beacon with a zod schema whose `z.infer` must
 * equal {@link TrackPayload}; a compile-time test in the collector keeps the
 * two from drifting. Change both together.
 */

/** Click-ID query parameters the pixel captures, in the order they are read. */
export type ClickIdName = 'fbclid' | 'gclid' | 'wbraid' | 'gbraid' | 'ttclid' | 'msclkid';

/** UTM query parameters the pixel captures. */
export type UtmName = 'utm_source' | 'utm_medium' | 'utm_campaign' | 'utm_content' | 'utm_term';

/** Every query parameter the pixel captures. */
export type CapturedParam = ClickIdName | UtmName;

/** One click ID in the ledger: its value and when this device first saw that value. */
export interface ClickEntry {
  /** The click ID exactly as it arrived (decoded once, case kept). */
  value: string;
  /** ISO 8601 UTC time the value was first seen on this device, e.g. `2026-11-23T17:13:39.000Z`. */
  ts: string;
}

/** The click ledger: at most one entry per click ID, the latest value with its first-seen time. */
export type ClickLedger = Partial<Record<ClickIdName, ClickEntry>>;

/** A touch: the captured parameters of one ad landing, with its URL and time. */
export interface Touch {
  /** Captured click IDs and UTMs of this landing. */
  params: Partial<Record<CapturedParam, string>>;
  /** The landing page URL. */
  url: string;
  /** ISO 8601 UTC time of the landing. */
  ts: string;
}

/** What the pixel knows about the visitor's ad attribution, as returned by `getAttribution()`. */
export interface Attribution {
  /** Click IDs with the time each was first seen. */
  clicks: ClickLedger;
  /** The first landing with a click ID or UTM on this device. Never overwritten. */
  first_touch?: Touch;
  /** The latest landing that brought a new click ID or UTM set. */
  last_touch?: Touch;
  /** Meta's `_fbc` cookie value (`fb.{subdomainIndex}.{creationTimeMs}.{fbclid}`). */
  fbc?: string;
  /** Meta's `_fbp` cookie value (`fb.{subdomainIndex}.{creationTimeMs}.{random}`). */
  fbp?: string;
  /** TikTok's `_ttp` browser id, when TikTok's pixel set it. */
  ttp?: string;
}

/** Consent state sent with every event. `unspecified` means the site did not ask (`requireConsent: false`). */
export type ConsentState = 'granted' | 'unspecified';

/** Options of `init()`. */
export interface InitOptions {
  /** The public site key of the client, from `pruuv clients add`. Required. */
  site: string;
  /**
   * Base URL of the collector, e.g. `https://collect.example.com`.
   * Defaults to the origin of the script tag that loaded `pruuv.min.js`; required with the npm package.
   */
  endpoint?: string;
  /**
   * Path of the ingest endpoint on the collector. Defaults to `/e`.
   */
  ingestPath?: string;
  /**
   * Domain to write cookies on, e.g. `example.co.uk`.
   * Defaults to the registrable domain, found by probe-writing a cookie at each level.
   */
  cookieDomain?: string;
  /** Cookie lifetime in days. Defaults to `90`. */
  cookieDays?: number;
  /**
   * When `true`, nothing is written to cookies or localStorage and nothing is sent until
   * `consent(true)`. Defaults to `false`.
   */
  requireConsent?: boolean;
  /**
   * Country calling code used for phone numbers written without one, digits only (`'44'`, `'1'`).
   * Defaults to none: a national number without a country code is dropped.
   */
  defaultCountryCode?: string;
  /** Log what the pixel does to the console, tagged `[pruuv]`. Defaults to `false`. */
  debug?: boolean;
}

/** Demographic fields of the webhook payload, for reporting only. */
export interface Demographics {
  gender?: string;
  age_range?: string;
  location_country?: string;
  location_region?: string;
  job_title?: string;
  company_size?: string;
  industry?: string;
}

/** Properties of `track()`: the webhook payload fields plus raw `email` and `phone`, which are hashed in the browser. */
export interface TrackProps extends Demographics {
  /** Unique identifier of the contact or conversion. Defaults to the anonymous visitor id. */
  reference?: string;
  /** Secondary reference: deal ID, order number… */
  item_reference?: string;
  /** Conversion value. */
  revenue_value?: number;
  /** ISO 4217 currency code, e.g. `GBP`. */
  currency?: string;
  /** Conversion time, ISO 8601. Defaults to now. */
  data_timestamp?: string;
  /** Email address. Normalised and SHA-256 hashed in the browser; only the hash leaves the page. */
  email?: string;
  /** Phone number. Normalised to E.164 and SHA-256 hashed in the browser; only the hashes leave the page. */
  phone?: string;
}

/** What `track()` resolves to. */
export interface TrackResult {
  /** The event's UUID: pass it as `eventID` to Meta's browser pixel so the two deduplicate. */
  event_id: string;
}

/**
 * The beacon body `track()` POSTs to the collector (`text/plain` JSON).
 * Hashes are lowercase hex SHA-256.
 */
export interface TrackPayload extends Demographics {
  /** Payload version. */
  v: 1;
  /** Site key. */
  site: string;
  /** Funnel stage key (`lead`, `sale`…). */
  stage: string;
  /** UUID of the event, the dedup key on every platform. */
  event_id: string;
  /** Stable anonymous id of this browser (first-party cookie `_pruuv_vid`). */
  visitor_id: string;
  /** `props.reference`, or the visitor id when none was given. */
  reference: string;
  item_reference?: string;
  revenue_value?: number;
  currency?: string;
  data_timestamp?: string;
  /** SHA-256 of the trimmed, lower-cased email (Meta, TikTok, Google). */
  email_sha256?: string;
  /** SHA-256 of the Gmail-canonical email (dots and `+tag` removed), for Google only; present only when it differs. */
  email_sha256_google?: string;
  /** SHA-256 of the phone in E.164 with `+` (Google, TikTok). */
  phone_sha256?: string;
  /** SHA-256 of the phone as digits with country code and no `+` (Meta). */
  phone_sha256_meta?: string;
  /** The click ledger. */
  clicks: ClickLedger;
  /** UTMs of the last touch. */
  utm: Partial<Record<UtmName, string>>;
  first_touch?: Touch;
  last_touch?: Touch;
  fbc?: string;
  fbp?: string;
  ttp?: string;
  /** The page URL when `track()` was called. */
  url: string;
  /** `document.referrer`, when there is one. */
  referrer?: string;
  /** The browser's clock when `track()` was called, ISO 8601. */
  client_time: string;
  consent: ConsentState;
}
