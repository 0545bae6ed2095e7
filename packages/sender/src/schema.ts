/**
 * zod schemas for the sender's inputs: the events the collector hands over and
 * the connection settings. `sendBatch` checks both before building a request,
 * so a malformed hash or a mistyped customer id is reported per event instead
 * of making a platform reject a whole batch.
 */
import { z } from 'zod';

/** Lower-case hex SHA-256, the only form in which email, phone and ids leave Pruuv (platforms.md §1.4). */
const sha256Hex = z.string().regex(/^[a-f0-9]{64}$/, 'must be a lower-case hex SHA-256');

const isoTime = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 date-time');

const clickRef = z.object({ value: z.string().min(1), ts: isoTime.optional() });

/** Schema of {@link ConversionEvent}. */
export const conversionEventSchema = z.object({
  id: z.string().min(1),
  client_id: z.string().min(1),
  stage_id: z.string().min(1),
  stage_key: z.string().min(1),
  reference: z.string().min(1),
  item_reference: z.string().min(1).optional(),
  revenue_value: z.number().finite().optional(),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an upper-case ISO 4217 code').optional(),
  event_time: isoTime,
  source: z.enum(['pixel', 'webhook']),
  consent: z.enum(['granted', 'denied', 'unspecified']),
  clicks: z
    .object({
      fbclid: clickRef.optional(),
      gclid: clickRef.optional(),
      wbraid: clickRef.optional(),
      gbraid: clickRef.optional(),
      ttclid: clickRef.optional(),
      msclkid: clickRef.optional(),
    }),
  fbc: z.string().optional(),
  fbp: z.string().optional(),
  ttp: z.string().optional(),
  email_sha256: sha256Hex.optional(),
  email_sha256_google: sha256Hex.optional(),
  phone_sha256: sha256Hex.optional(),
  phone_sha256_meta: sha256Hex.optional(),
  client_ip: z.union([z.ipv4(), z.ipv6()]).optional(),
  user_agent: z.string().optional(),
  page_url: z.string().optional(),
  referrer: z.string().optional(),
});

/** Schema of {@link StageOverrides}. */
export const stageOverridesSchema = z.object({
  meta_event_name: z.string().min(1).max(50).optional(),
  tiktok_event_name: z.string().min(1).max(50).optional(),
  google_conversion_action_id: z.string().regex(/^\d+$/, 'must be the numeric conversion action id').optional(),
});

const metaConnectionSchema = z.object({
  platform: z.literal('meta'),
  pixel_id: z.string().regex(/^\d+$/, 'must be the numeric Pixel (dataset) id from Events Manager'),
  access_token: z.string().min(1),
  test_event_code: z.string().min(1).optional(),
  dry_run: z.boolean().optional(),
});

/** Google ids are often copied as `123-456-7890`; the APIs want digits only (platforms.md §3.1). */
const googleAccountId = z
  .string()
  .transform((s) => s.replace(/-/g, ''))
  .pipe(z.string().regex(/^\d{10}$/, 'must be a 10-digit Google Ads customer id'));

const googleConnectionSchema = z.object({
  platform: z.literal('google'),
  api: z.enum(['data-manager', 'ads']),
  customer_id: googleAccountId,
  conversion_action_id: z.string().regex(/^\d+$/, 'must be the numeric conversion action id'),
  login_customer_id: googleAccountId.optional(),
  client_id: z.string().min(1),
  client_secret: z.string().min(1),
  refresh_token: z.string().min(1),
  developer_token: z.string().min(1).optional(),
  dry_run: z.boolean().optional(),
});

const tiktokConnectionSchema = z.object({
  platform: z.literal('tiktok'),
  pixel_code: z.string().min(1),
  access_token: z.string().min(1),
  test_event_code: z.string().min(1).optional(),
  dry_run: z.boolean().optional(),
});

/** Schema of {@link Connection}; Google account ids lose their hyphens. */
export const connectionSchema = z.discriminatedUnion('platform', [
  metaConnectionSchema,
  googleConnectionSchema,
  tiktokConnectionSchema,
]);

/** One line per problem: `path: message`. */
export function formatIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}
