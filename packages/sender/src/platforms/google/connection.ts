/**
 * A Google connection: the Ads customer and conversion action, and an OAuth
 * client with a refresh token; Data Manager `events:ingest` by default, the
 * Ads API `uploadClickConversions` for allow-listed accounts
 * (platforms.md §3.1, google-data-manager.md §1–2).
 */
import { z } from 'zod';
import type { ConnectionSpec } from '../adapter.js';
import { connectionFields, DRY_RUN_SCHEMA } from '../connection-fields.js';

/** Google connection: Data Manager `events:ingest` (default) or Ads `uploadClickConversions`. */
export interface GoogleConnection {
  platform: 'google';
  api: 'data-manager' | 'ads';
  /** Customer (operating account) id, 10 digits, no hyphens. */
  customer_id: string;
  conversion_action_id: string;
  login_customer_id?: string;
  client_id: string;
  client_secret: string;
  refresh_token: string;
  developer_token?: string;
  dry_run?: boolean;
}

/** Google ids are often copied as `123-456-7890`; the APIs want digits only (platforms.md §3.1). */
const googleAccountId = z
  .string()
  .transform((s) => s.replace(/-/g, ''))
  .pipe(z.string().regex(/^\d{10}$/, 'must be a 10-digit Google Ads customer id'));

const schema = z.object({
  platform: z.literal('google'),
  api: z.enum(['data-manager', 'ads']),
  customer_id: googleAccountId,
  conversion_action_id: z.string().regex(/^\d+$/, 'must be the numeric conversion action id'),
  login_customer_id: googleAccountId.optional(),
  client_id: z.string().min(1),
  client_secret: z.string().min(1),
  refresh_token: z.string().min(1),
  // Optional and ignored since 2026-09-09; sent only when set (platforms.md §3.1).
  developer_token: z.string().min(1).optional(),
  dry_run: DRY_RUN_SCHEMA,
});

/** The fields of a Google connection and their schema; account ids lose their hyphens. */
export const GOOGLE_CONNECTION: ConnectionSpec<GoogleConnection> = {
  schema,
  fields: connectionFields<GoogleConnection>(schema, {
    secrets: ['client_secret', 'refresh_token', 'developer_token'],
    labels: {
      api: 'API to upload with (default data-manager)',
      customer_id: 'customer (operating account) id, 10 digits, hyphens allowed',
      conversion_action_id: 'conversion action id',
      login_customer_id: 'manager account id',
      client_id: 'OAuth client id',
      client_secret: 'OAuth client secret',
      refresh_token: 'OAuth refresh token',
      developer_token: 'Ads API developer token',
    },
    // Data Manager unless the account is allow-listed for the Ads API (google-data-manager.md §1).
    defaults: { api: 'data-manager' },
  }),
};
