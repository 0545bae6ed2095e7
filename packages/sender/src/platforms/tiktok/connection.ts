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
  /**
   * Which events go to TikTok. `any`: an event with a ttclid, or else one TikTok
   * can match by a hashed email or phone or the `_ttp` cookie, as TikTok's own
   * Events API template, Segment and RudderStack send them; `click-id-only`: only
   * events with a ttclid. Defaults to `any`.
   */
  match?: TikTokMatch;
  dry_run?: boolean;
}

/** The values of {@link TikTokConnection.match}. */
export const TIKTOK_MATCH = ['any', 'click-id-only'] as const;
/** Which events a TikTok connection sends. */
export type TikTokMatch = (typeof TIKTOK_MATCH)[number];
/** {@link TikTokConnection.match} when the connection does not say. */
export const TIKTOK_MATCH_DEFAULT: TikTokMatch = 'any';

const schema = z.object({
  platform: z.literal('tiktok'),
  pixel_code: z.string().min(1),
  access_token: z.string().min(1),
  test_event_code: z.string().min(1).optional(),
  // Optional: connections stored before the setting existed send as `any`.
  match: z.enum(TIKTOK_MATCH).optional(),
  dry_run: DRY_RUN_SCHEMA,
});

/** The fields of a TikTok connection and their schema. */
export const TIKTOK_CONNECTION: ConnectionSpec<TikTokConnection> = {
  schema,
  fields: connectionFields<TikTokConnection>(schema, {
    secrets: ['access_token'],
    labels: {
      pixel_code: 'Pixel Code',
      access_token: 'access token',
      test_event_code: 'send as test events under this code',
      match: 'which events to send: any (a ttclid, or else a hashed email or phone or the _ttp cookie; default) or click-id-only (a ttclid only)',
    },
    // TikTok matches without a ttclid, and its own template sends such events (tiktok/gtm-template-eapi, TestGA).
    defaults: { match: TIKTOK_MATCH_DEFAULT },
  }),
};
