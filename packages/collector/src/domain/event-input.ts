/**
 * Turns a validated webhook payload or pixel beacon into the event the store
 * admits. Pure, apart from hashing raw email/phone (WebCrypto, with the pixel's
 * own normalisation so browser and server produce the same hashes).
 */
import type { z } from 'zod';
import type { Client, NewEvent, Stage } from '../store/types.js';
import { hashIdentity } from './identity.js';
import { CLICK_IDS, UTMS } from './join.js';
import { DEMOGRAPHIC_FIELDS, type WebhookPayload } from './schemas.js';
import type { trackPayloadSchema } from './schemas.js';
import { newEventId } from './tokens.js';
const HASHES = ['email_sha256', 'email_sha256_google', 'phone_sha256', 'phone_sha256_meta'] as const;

/** A validated pixel beacon. */
export type TrackInput = z.output<typeof trackPayloadSchema>;

/** Facts of the HTTP request stored with pixel events. */
export interface RequestFacts {
  client_ip?: string;
  user_agent?: string;
}

function pickDemographics(p: Partial<Record<(typeof DEMOGRAPHIC_FIELDS)[number], string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of DEMOGRAPHIC_FIELDS) {
    const value = p[k];
    if (value !== undefined) out[k] = value;
  }
  return out;
}

function copyDefined<T extends object, K extends keyof T & keyof NewEvent>(from: T, to: NewEvent, keys: readonly K[]): void {
  for (const k of keys) {
    const value = from[k];
    if (value !== undefined) (to as Record<K, unknown>)[k] = value;
  }
}

/**
 * The event of a webhook call. Raw `email`/`phone` are hashed here and dropped
 * (an email that is not an address, or a phone that cannot be made E.164, is left
 * out, with `email_rejected`/`phone_rejected` saying why; `client` gives the
 * default country of a phone number written without `+`);
 * `click_timestamp` becomes the click time of every click ID of the payload
 * (without a click ID it has nothing to date and is dropped).
 */
export async function eventFromWebhook(p: WebhookPayload, stage: Stage, client: Pick<Client, 'default_country'> = {}): Promise<NewEvent> {
  const event: NewEvent = {
    // Time-ordered (UUID v7): cheaper to index than a random one (tokens.ts).
    id: newEventId(),
    client_id: stage.client_id,
    stage_id: stage.id,
    stage_key: stage.key,
    source: 'webhook',
    reference: p.reference,
    consent: p.consent ?? 'unspecified',
    clicks: {},
    utm: {},
    demographics: pickDemographics(p),
  };
  copyDefined(p, event, ['item_reference', 'revenue_value', 'currency', 'data_timestamp', 'fbc', 'fbp', 'ttp', ...HASHES]);
  for (const k of CLICK_IDS) {
    const value = p[k];
    if (value !== undefined) event.clicks[k] = p.click_timestamp === undefined ? { value } : { value, ts: p.click_timestamp };
  }
  for (const k of UTMS) {
    const value = p[k];
    if (value !== undefined) event.utm[k] = value;
  }
  if (p.email !== undefined || p.phone !== undefined) {
    // Only hashes are kept, and why a value was left out (identity.ts).
    // The payload's calling code, else the client's default country, for a number without `+` (phone.ts).
    const fallback = p.phone_country_code !== undefined ? { callingCode: p.phone_country_code } : client.default_country !== undefined ? { country: client.default_country } : {};
    Object.assign(event, await hashIdentity(p.email, p.phone, fallback));
  }
  return event;
}

/** The event of a pixel beacon; its `event_id` is the event's id (the dedup key on every platform). */
export function eventFromBeacon(p: TrackInput, stage: Stage, facts: RequestFacts): NewEvent {
  const event: NewEvent = {
    id: p.event_id,
    client_id: stage.client_id,
    stage_id: stage.id,
    stage_key: stage.key,
    source: 'pixel',
    reference: p.reference,
    consent: p.consent,
    clicks: {},
    utm: { ...p.utm },
    demographics: pickDemographics(p),
    visitor_id: p.visitor_id,
    page_url: p.url,
    client_time: p.client_time,
  };
  copyDefined(p, event, ['item_reference', 'revenue_value', 'currency', 'data_timestamp', 'fbc', 'fbp', 'ttp', 'referrer', 'first_touch', 'last_touch', ...HASHES]);
  for (const k of CLICK_IDS) {
    const entry = p.clicks[k];
    if (entry !== undefined) event.clicks[k] = { value: entry.value, ts: entry.ts };
  }
  copyDefined(facts, event, ['client_ip', 'user_agent']);
  return event;
}

/** `data_timestamp` defaults to the receive time (webhook-api.md: "Defaults to now if omitted"). */
export function withDataTimestamp(event: NewEvent, at: Date): NewEvent {
  return event.data_timestamp === undefined ? { ...event, data_timestamp: at.toISOString() } : event;
}
