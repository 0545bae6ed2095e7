/**
 * A Meta Conversions API connection: the dataset (Pixel) and a system-user
 * access token (platforms.md §1.1).
 */
import { z } from 'zod';
import type { ConnectionSpec } from '../adapter.js';
import { connectionFields, DRY_RUN_SCHEMA } from '../connection-fields.js';

/** Meta CAPI connection (platforms.md §1). */
export interface MetaConnection {
  platform: 'meta';
  pixel_id: string;
  access_token: string;
  test_event_code?: string;
  /** Validate only: build and audit, do not deliver. */
  dry_run?: boolean;
}

const schema = z.object({
  platform: z.literal('meta'),
  pixel_id: z.string().regex(/^\d+$/, 'must be the numeric Pixel (dataset) id from Events Manager'),
  access_token: z.string().min(1),
  // Test events are not dropped: "They flow into Events Manager and are used for targeting and ads measurement" (platforms.md §1.2).
  test_event_code: z.string().min(1).optional(),
  dry_run: DRY_RUN_SCHEMA,
});

/** The fields of a Meta connection and their schema. */
export const META_CONNECTION: ConnectionSpec<MetaConnection> = {
  schema,
  fields: connectionFields<MetaConnection>(schema, {
    secrets: ['access_token'],
    labels: { pixel_id: 'Pixel (dataset) id', access_token: 'access token', test_event_code: 'send as test events under this code' },
  }),
};
