/**
 * zod schemas of what the collector accepts: the funnel webhook payload
 * (webhook-api.md "Payload reference") and the pixel's beacon (`TrackPayload`
 * of `@pruuv/pixel`; a compile-time test keeps the two equal).
 *
 * Decisions, repeated in the README:
 * - unknown fields are rejected (400): a typo such as `gclld` would otherwise
 *   silently lose the attribution;
 * - `reference` is trimmed and NFC-normalised, so the NFC and NFD spellings of
 *   one reference are one reference;
 * - `currency` may be lower case and is upper-cased; it must be an ISO 4217 code
 *   the runtime knows (`Intl.supportedValuesOf('currency')`);
 * - datetimes are ISO 8601 with seconds and an offset or `Z`, stored in UTC;
 * - in webhook payloads `null` and empty strings mean "absent" (CRM templates
 *   render missing values that way);
 * - text never contains lone surrogates (it would not survive UTF-8).
 */
import { z } from 'zod';
import { parseFbc } from '@pruuv/sender/platforms';

/** Longest reference / item reference, in UTF-16 code units after normalisation. */
export const MAX_REFERENCE_LENGTH = 256;
/** Longest free text (UTMs, demographics). */
export const MAX_TEXT_LENGTH = 512;
/** Longest click ID. Meta's browser library ignores fbclids over 500 characters (platforms.md §2.1 rule 9). */
export const MAX_CLICK_ID_LENGTH = 512;
/** Longest page URL or referrer. */
export const MAX_URL_LENGTH = 4096;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const wellFormed = (s: string): boolean => !LONE_SURROGATE.test(s);
const WELL_FORMED = 'Contains a lone surrogate: send valid UTF-8 text';

/** Free text: well-formed, NFC, trimmed, at most `max` characters. */
function text(max: number = MAX_TEXT_LENGTH) {
  return z.string().refine(wellFormed, WELL_FORMED).normalize('NFC').trim().max(max);
}

/** A reference: like {@link text} and not empty. The dedup and join key. */
const reference = text(MAX_REFERENCE_LENGTH).min(1, 'Required: a non-empty reference');

/** Click IDs and browser ids are URL tokens: printable ASCII without spaces. Case is kept (platforms.md §1.8). */
const clickId = z
  .string()
  .trim()
  .max(MAX_CLICK_ID_LENGTH)
  .regex(/^[\x21-\x7E]+$/, 'Expected a click ID: printable ASCII characters without spaces');

/** ISO 8601 date-time with seconds and an offset or `Z`, converted to UTC (`toISOString()`). */
const isoDatetime = z.iso
  .datetime({ offset: true, message: 'Expected an ISO 8601 date-time with offset, e.g. 2026-01-31T14:05:00Z' })
  .transform((s) => new Date(s).toISOString());

/** Currency codes this runtime knows (ISO 4217). */
const CURRENCIES: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency'));

const currency = z
  .string()
  .trim()
  .toUpperCase()
  .refine((c) => CURRENCIES.has(c), 'Expected an ISO 4217 currency code, e.g. GBP, USD, EUR');

const money = z.number().finite().nonnegative('Expected a value of 0 or more');

/** Lowercase hex SHA-256; upper-case hex is accepted and lower-cased. */
const sha256 = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, 'Expected a SHA-256 hash: 64 hex characters')
  .toLowerCase();

/**
 * Whether a value is a valid `_fbc`/`_fbp` (platforms.md §2.1 rules 1-3):
 * `fb.{subdomainIndex}.{creationTimeMs}.{value}` plus an optional appendix, one
 * of the legacy 2-character tokens or 8 base64url characters (`[A-Za-z0-9_-]`),
 * kept verbatim. The sender's `parseFbc` decides, so the collector, the sender
 * and the pixel accept the same appendix (issue 13, item 6).
 */
export function isMetaCookie(value: string): boolean {
  return parseFbc(value) !== undefined;
}

const metaCookie = z
  .string()
  .trim()
  .max(MAX_CLICK_ID_LENGTH + 64)
  .regex(/^[\x21-\x7E]+$/, 'Expected a Meta cookie value: printable ASCII without spaces')
  .refine(isMetaCookie, 'Expected fb.{subdomainIndex}.{creationTimeMs}.{id}, e.g. fb.1.1554763741205.AbCdEf');

const pageUrl = z
  .string()
  .max(MAX_URL_LENGTH)
  .refine(wellFormed, WELL_FORMED)
  .refine((s) => /^https?:\/\//i.test(s) && URL.canParse(s), 'Expected an http(s) URL');

const demographics = {
  gender: text(),
  age_range: text(),
  location_country: text(),
  location_region: text(),
  job_title: text(),
  company_size: text(),
  industry: text(),
};

/** Names of the demographic fields (reporting only). */
export const DEMOGRAPHIC_FIELDS = Object.keys(demographics) as (keyof typeof demographics)[];

// ---------------------------------------------------------------------------
// Webhook

/** An optional webhook field: `null`, `""` and whitespace-only strings count as absent. */
function optional<T extends z.ZodType>(schema: T) {
  return z.preprocess(
    (v) => (v === null || (typeof v === 'string' && v.trim() === '') ? undefined : v),
    schema.optional(),
  );
}

const consent = z.enum(['granted', 'denied']);

/** The default country code for `phone`: 1 to 3 digits, with or without `+`, as a string or a number. */
const countryCode = z
  .union([z.string(), z.number().int()])
  .transform((v) => String(v).trim().replace(/^\+/, ''))
  .refine((v) => /^[1-9]\d{0,2}$/.test(v), 'Expected a country calling code, e.g. "44" or "+1"');

/**
 * The funnel webhook's payload: every field of webhook-api.md's table, plus
 * `email`/`phone` (hashed at ingest, never stored raw), their pre-hashed forms,
 * `consent`, `fbclid` and `ttp`.
 */
export const webhookPayloadSchema = z
  .strictObject({
    reference,
    item_reference: optional(text(MAX_REFERENCE_LENGTH)),
    utm_source: optional(text()),
    utm_medium: optional(text()),
    utm_campaign: optional(text()),
    utm_content: optional(text()),
    utm_term: optional(text()),
    fbclid: optional(clickId),
    gclid: optional(clickId),
    wbraid: optional(clickId),
    gbraid: optional(clickId),
    ttclid: optional(clickId),
    msclkid: optional(clickId),
    fbc: optional(metaCookie),
    fbp: optional(metaCookie),
    ttp: optional(clickId),
    click_timestamp: optional(isoDatetime),
    revenue_value: optional(money),
    currency: optional(currency),
    data_timestamp: optional(isoDatetime),
    ...Object.fromEntries(Object.entries(demographics).map(([k, v]) => [k, optional(v)])) as {
      [K in keyof typeof demographics]: ReturnType<typeof optional<(typeof demographics)[K]>>;
    },
    // Not refused when it is not an address: the event is stored without it (identity.ts).
    email: optional(z.string().max(320).refine(wellFormed, WELL_FORMED)),
    // Not refused when it cannot be made E.164: the event is stored without it (identity.ts).
    phone: optional(z.string().max(64).refine(wellFormed, WELL_FORMED)),
    phone_country_code: optional(countryCode),
    email_sha256: optional(sha256),
    email_sha256_google: optional(sha256),
    phone_sha256: optional(sha256),
    phone_sha256_meta: optional(sha256),
    consent: optional(consent),
  })
  .superRefine((p, ctx) => {
    if (p.email !== undefined && p.email_sha256 !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['email_sha256'], message: 'Send either email or email_sha256, not both' });
    }
    if (p.phone !== undefined && (p.phone_sha256 !== undefined || p.phone_sha256_meta !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['phone_sha256'], message: 'Send either phone or phone_sha256/phone_sha256_meta, not both' });
    }
    if (p.wbraid !== undefined && p.gbraid !== undefined) {
      // platforms.md §6: gbraid and wbraid are mutually exclusive.
      ctx.addIssue({ code: 'custom', path: ['gbraid'], message: 'Send either wbraid or gbraid, not both' });
    }
  });

/** A validated webhook payload (raw `email`/`phone` still present: hash before storing). */
export type WebhookPayload = z.output<typeof webhookPayloadSchema>;

/** Every field name the webhook accepts. */
export const WEBHOOK_FIELDS = Object.keys(webhookPayloadSchema.shape) as (keyof WebhookPayload)[];

// ---------------------------------------------------------------------------
// Pixel beacon

const clickEntry = z.strictObject({ value: clickId, ts: isoDatetime });

const utm = {
  utm_source: text().optional(),
  utm_medium: text().optional(),
  utm_campaign: text().optional(),
  utm_content: text().optional(),
  utm_term: text().optional(),
};

const touch = z.strictObject({
  params: z.strictObject({
    fbclid: clickId.optional(),
    gclid: clickId.optional(),
    wbraid: clickId.optional(),
    gbraid: clickId.optional(),
    ttclid: clickId.optional(),
    msclkid: clickId.optional(),
    ...utm,
  }),
  url: pageUrl,
  ts: isoDatetime,
});

/** Site keys, stage keys and visitor ids: short printable ASCII tokens. */
const key = z
  .string()
  .max(128)
  .regex(/^[\x21-\x7E]+$/, 'Expected a key: printable ASCII characters without spaces');

/** The pixel's beacon, `TrackPayload` of `@pruuv/pixel`. */
export const trackPayloadSchema = z.strictObject({
  v: z.literal(1),
  site: key,
  stage: key,
  event_id: z.uuid('Expected a UUID'),
  visitor_id: key,
  reference,
  item_reference: text(MAX_REFERENCE_LENGTH).optional(),
  revenue_value: money.optional(),
  currency: currency.optional(),
  data_timestamp: isoDatetime.optional(),
  email_sha256: sha256.optional(),
  email_sha256_google: sha256.optional(),
  phone_sha256: sha256.optional(),
  phone_sha256_meta: sha256.optional(),
  clicks: z.strictObject({
    fbclid: clickEntry.optional(),
    gclid: clickEntry.optional(),
    wbraid: clickEntry.optional(),
    gbraid: clickEntry.optional(),
    ttclid: clickEntry.optional(),
    msclkid: clickEntry.optional(),
  }),
  utm: z.strictObject(utm),
  first_touch: touch.optional(),
  last_touch: touch.optional(),
  fbc: metaCookie.optional(),
  fbp: metaCookie.optional(),
  ttp: clickId.optional(),
  url: pageUrl,
  referrer: z.string().max(MAX_URL_LENGTH).refine(wellFormed, WELL_FORMED).optional(),
  client_time: isoDatetime,
  consent: z.enum(['granted', 'unspecified']),
  gender: demographics.gender.optional(),
  age_range: demographics.age_range.optional(),
  location_country: demographics.location_country.optional(),
  location_region: demographics.location_region.optional(),
  job_title: demographics.job_title.optional(),
  company_size: demographics.company_size.optional(),
  industry: demographics.industry.optional(),
});

// ---------------------------------------------------------------------------
// Error details

/** `details` of a 400: field path (dot-joined; `body` for the whole body) → messages. */
export type ValidationDetails = Record<string, string[]>;

/**
 * Turns zod issues into `details`. Unknown keys are listed one per field as
 * "Unknown field". Messages never echo the input (it may hold personal data).
 * Built with a Map so keys such as `__proto__` stay plain data.
 */
export function validationDetails(error: z.ZodError): ValidationDetails {
  const details = new Map<string, string[]>();
  const add = (path: PropertyKey[], message: string): void => {
    const field = path.length === 0 ? 'body' : path.map(String).join('.');
    const messages = details.get(field) ?? [];
    if (!messages.includes(message)) messages.push(message);
    details.set(field, messages);
  };
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) add([...issue.path, k], 'Unknown field: check the spelling against the payload reference');
    } else if (issue.code === 'invalid_type' && issue.path.length === 0) {
      add([], 'Expected a JSON object');
    } else {
      add(issue.path, issue.message);
    }
  }
  return Object.fromEntries(details);
}
