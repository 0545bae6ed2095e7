/**
 * zod schemas for the sender's inputs: the events the collector hands over and
 * the per-stage overrides. `sendBatch` checks each event before building a
 * request, so a malformed hash is reported per event instead of making a
 * platform reject a whole batch. Each platform's connection schema lives with
 * its adapter; `connectionSchema`, their union, with the registry.
 */
import { z } from 'zod';
import { CLICK_ID_NAMES, type ClickIdName } from './click-ids.js';

/** Lower-case hex SHA-256, the only form in which email, phone and ids leave Pruuv (platforms.md §1.4). */
const sha256Hex = z.string().regex(/^[a-f0-9]{64}$/, 'must be a lower-case hex SHA-256');

const isoTime = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 date-time');

const clickRef = z.object({ value: z.string().min(1), ts: isoTime.optional() });

/** One optional entry per click ID of the one list (`click-ids.ts`). */
const clicks = z.object(
  Object.fromEntries(CLICK_ID_NAMES.map((name) => [name, clickRef.optional()])) as Record<ClickIdName, z.ZodOptional<typeof clickRef>>,
);

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
  clicks,
  fbc: z.string().optional(),
  fbp: z.string().optional(),
  ttp: z.string().optional(),
  email_sha256: sha256Hex.optional(),
  email_sha256_google: sha256Hex.optional(),
  email_sha256_microsoft: sha256Hex.optional(),
  phone_sha256: sha256Hex.optional(),
  phone_sha256_meta: sha256Hex.optional(),
  email_rejected: z.string().regex(/^[a-z_]{1,64}$/, 'must be a reason code').optional(),
  phone_rejected: z.string().regex(/^[a-z_0-9]{1,64}$/, 'must be a reason code').optional(),
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

/** One line per problem: `path: message`. */
export function formatIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}
