/**
 * The UET Conversions API request for a batch (microsoft-ads.md §8):
 * `POST {capi}/v1/{tagId}/events` with the tag's bearer token. Pure: every
 * field is a function of the stored event, so a retry sends the same
 * `eventId` (the funnel event UUID, Microsoft's dedup key with `eventName`,
 * §5) and the same `eventTime`.
 */
import type { HttpRequest } from '../../http.js';
import type { ConversionEvent } from '../../types.js';
import type { MicrosoftConnection } from './connection.js';

/** The UET Conversions API host (MS-CAPI). No sandbox host is documented (UNCONFIRMED, microsoft-ads.md §8). */
export const MICROSOFT_CAPI_URL = 'https://capi.uet.microsoft.com';
/** Events per call (MS-CAPI). Defaults to `1000`. */
export const MICROSOFT_CAPI_MAX_BATCH = 1000;
/** `eventTime` must lie within the last 7 days (MS-CAPI). */
export const MICROSOFT_CAPI_MAX_AGE_MS = 7 * 24 * 3_600_000;
/** `dataProvider`: "required for third-party senders" (MS-CAPI). */
export const MICROSOFT_CAPI_DATA_PROVIDER = 'pruuv';

/** A Conversions API send: the event and its msclkid when it has one. */
export interface MicrosoftCapiPlan {
  platform: 'microsoft';
  /** Marks a plan of the UET path; offline plans have none. */
  api: 'uet-capi';
  event: ConversionEvent;
  /** The msclkid without `_uet` prefix or `-0`/`-1` suffix, when the event has one. */
  msclkid?: string;
  // No `click`: the offline path's 90-day click deadline does not apply; the 7 days are
  // checked by the eligibility on every attempt (capi-eligibility.ts).
}

/** `userData` of one event (MS-CAPI). Unset fields are omitted. */
export interface CapiUserData {
  msclkid?: string;
  /** SHA-256 of the email in Microsoft's form (§3.1). */
  em?: string;
  /** SHA-256 of the E.164 phone with `+` (§3.1). */
  ph?: string;
  // No `externalId`: Pruuv holds no user id of the advertiser's. The event's reference names a lead
  // or an order, not a person, and whether Microsoft wants it hashed is not documented.
  clientIpAddress?: string;
  clientUserAgent?: string;
}

/** One event of the `data` array (MS-CAPI). */
export interface CapiEvent {
  eventType: 'custom';
  /** The funnel event UUID: the same on every retry. */
  eventId: string;
  eventName: string;
  /** Seconds since the epoch, from the stored event time. */
  eventTime: number;
  /** `G` granted, `D` denied; left out when the site did not ask (Microsoft's default then applies). */
  adStorageConsent?: 'G' | 'D';
  userData: CapiUserData;
  customData: { value?: number; currency?: string; transactionId: string };
}

/** The JSON body of `POST /v1/{tagId}/events`. */
export interface CapiBody {
  data: CapiEvent[];
  continueOnValidationError: boolean;
  dataProvider: string;
}

/**
 * The event name a stage goes under: the stage key as it is (`lead`, `sale`).
 * UET goals match on the event action, so the advertiser's goal reads
 * "Action equals lead"; a stable name also keeps `eventId` dedup with UET JS
 * working when the page pushes the same name (MS-CAPI: same `eventId` and
 * compatible `eventName`).
 */
export function capiEventName(event: Pick<ConversionEvent, 'stage_key'>): string {
  return event.stage_key;
}

/** One event in the Conversions API's shape. */
export function capiEvent(plan: MicrosoftCapiPlan): CapiEvent {
  const e = plan.event;
  const user: CapiUserData = {};
  if (plan.msclkid !== undefined) user.msclkid = plan.msclkid;
  // Microsoft's email form when the collector made it, else the plain normalised hash (valid, may match less).
  const email = e.email_sha256_microsoft ?? e.email_sha256;
  if (email !== undefined) user.em = email;
  if (e.phone_sha256 !== undefined) user.ph = e.phone_sha256;
  if (e.client_ip !== undefined) user.clientIpAddress = e.client_ip;
  if (e.user_agent !== undefined) user.clientUserAgent = e.user_agent;
  const out: CapiEvent = {
    eventType: 'custom',
    eventId: e.id,
    eventName: capiEventName(e),
    eventTime: Math.floor(Date.parse(e.event_time) / 1000),
    userData: user,
    customData: { transactionId: e.id },
  };
  // Denied consent never gets here (every platform skips it); `unspecified` leaves the field out,
  // as Google's adapters leave their consent out, rather than claim a consent the site never asked for.
  if (e.consent === 'granted') out.adStorageConsent = 'G';
  else if (e.consent === 'denied') out.adStorageConsent = 'D';
  if (e.revenue_value !== undefined && e.currency !== undefined) {
    out.customData = { value: e.revenue_value, currency: e.currency, transactionId: e.id };
  }
  return out;
}

/** The connection's Conversions API URL for its tag. */
export function capiEventsUrl(base: string, tagId: string): string {
  return `${base.replace(/\/+$/, '')}/v1/${encodeURIComponent(tagId)}/events`;
}

/**
 * `POST {capi}/v1/{tagId}/events`. `continueOnValidationError: true`: Microsoft
 * stores the valid events and names the invalid ones (at most 10 details); with
 * `false` one bad event would make it store nothing (MS-CAPI), holding every
 * other conversion of the batch back until the bad one is found.
 */
export function buildCapiRequest(connection: MicrosoftConnection, plans: readonly MicrosoftCapiPlan[], base: string): HttpRequest {
  const body: CapiBody = { data: plans.map(capiEvent), continueOnValidationError: true, dataProvider: MICROSOFT_CAPI_DATA_PROVIDER };
  return {
    method: 'POST',
    url: capiEventsUrl(base, connection.uet_tag_id ?? ''),
    headers: { authorization: `Bearer ${connection.uet_api_token ?? ''}`, 'content-type': 'application/json' },
    body,
  };
}
