/**
 * A TikTok Events API connection: the Pixel Code (event source id) and an
 * access token (platforms.md §4.1).
 */
import { z } from 'zod';
import type { ConnectionSpec } from '../adapter.js';
import { connectionFields, DRY_RUN_SCHEMA } from '../connection-fields.js';

/** TikTok Events API 2.0 connection (platforms.md §4). */
export interface TikTokConnection {
  platform: 'tiktok';
  pixel_code: string;
  access_token: string;
  test_event_code?: string;
  dry_run?: boolean;
}

const schema = z.object({
  platform: z.literal('tiktok'),
  pixel_code: z.string().min(1),
  access_token: z.string().min(1),
  test_event_code: z.string().min(1).optional(),
  dry_run: DRY_RUN_SCHEMA,
});

/** The fields of a TikTok connection and their schema. */
export const TIKTOK_CONNECTION: ConnectionSpec<TikTokConnection> = {
  schema,
  fields: connectionFields<TikTokConnection>(schema, {
    secrets: ['access_token'],
    labels: { pixel_code: 'Pixel Code', access_token: 'access token', test_event_code: 'send as test events under this code' },
  }),
};
