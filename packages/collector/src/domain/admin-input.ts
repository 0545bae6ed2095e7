import { z } from 'zod';
import { normalizeOrigin } from './origins.js';
import { isPhoneCountry } from './phone.js';

/**
 * Validation of what operators type (CLI options) or post (admin API bodies): client names,
 * page origins, stage keys, list limits. Shared so the CLI and the admin API accept exactly
 * the same inputs.
 */

/** Largest page of events the CLI and the admin API return. */
export const MAX_EVENT_LIMIT = 1000;

/** Page size of event lists when none is given. Defaults to `50`. */
export const DEFAULT_EVENT_LIMIT = 50;

/**
 * A page origin (`https://www.site.example`, port allowed, a trailing `/` tolerated), normalised
 * to the form browsers send in the `Origin` header by the store's own `normalizeOrigin`, so the
 * CLI, the admin API and the store accept exactly the same origins.
 */
export const originSchema = z.string().transform((raw, ctx) => {
  try {
    return normalizeOrigin(raw);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : `Invalid origin "${raw}"` });
    return z.NEVER;
  }
});

/** A client or stage display name: 1 to 200 characters after trimming. */
export const nameSchema = z.string().trim().min(1, 'Name must not be empty').max(200, 'Name must be at most 200 characters');

/**
 * A stage key: what the pixel sends as `stage` (`lead`, `sale`, `demo-booked`). Lowercase so
 * `Lead` and `lead` cannot become two stages.
 */
export const stageKeySchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'Stage key must be 1-64 characters: lowercase letters, digits, - and _, starting with a letter or digit (e.g. lead)');

/**
 * A client's default country for phone numbers written without `+`: an ISO 3166-1
 * alpha-2 code with a numbering plan in libphonenumber-js (`gb` is taken as `GB`).
 */
export const defaultCountrySchema = z
  .string()
  .trim()
  .toUpperCase()
  .refine(isPhoneCountry, 'Expected an ISO 3166-1 alpha-2 country code, e.g. GB, US, DE');

/** Body of `POST /api/admin/clients` and options of `pruuv clients add`. */
export const clientInputSchema = z.strictObject({
  name: nameSchema,
  origins: z.array(originSchema).max(50, 'At most 50 origins').default([]),
  default_country: defaultCountrySchema.optional(),
});

/** Body of `PATCH /api/admin/clients/:id` and options of `pruuv clients set`: `null` clears the default country. */
export const clientSettingsSchema = z.strictObject({
  default_country: defaultCountrySchema.nullable(),
});

/** Body of `POST /api/admin/clients/:id/stages` and options of `pruuv stages add`. */
export const stageInputSchema = z.strictObject({
  key: stageKeySchema,
  name: nameSchema,
});

/** An event-list limit: an integer from 1 to {@link MAX_EVENT_LIMIT}. */
export const limitSchema = z.coerce
  .number({ error: `Limit must be an integer from 1 to ${MAX_EVENT_LIMIT}` })
  .int(`Limit must be an integer from 1 to ${MAX_EVENT_LIMIT}`)
  .min(1, `Limit must be an integer from 1 to ${MAX_EVENT_LIMIT}`)
  .max(MAX_EVENT_LIMIT, `Limit must be an integer from 1 to ${MAX_EVENT_LIMIT}`);

/** Query of `GET /api/admin/events` (`limit` is checked by {@link limitSchema}). */
export const eventQuerySchema = z.object({
  client: z.string().min(1, 'client must not be empty').optional(),
  stage: z.string().min(1, 'stage must not be empty').optional(),
  limit: z.string().optional(),
  held: z.enum(['true', 'false'], { message: 'held must be true or false' }).optional(),
});

/** Webhook URL of a stage: `{baseUrl}/api/webhooks/funnel/{stageId}` (webhook-api.md "Endpoint"). */
export function webhookUrl(baseUrl: string, stageId: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/api/webhooks/funnel/${encodeURIComponent(stageId)}`;
}

/** A ready-to-paste curl line posting a test event to a stage's webhook. */
export function curlExample(url: string, token: string, reference = 'TEST-001'): string {
  const body = JSON.stringify({ reference, utm_source: 'google', gclid: 'TeSter-123', revenue_value: 250, currency: 'GBP' });
  return `curl -X POST ${url} -H "Authorization: Bearer ${token}" -H "Content-Type: application/json" -d '${body}'`;
}
