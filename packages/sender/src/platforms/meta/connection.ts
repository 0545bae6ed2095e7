/**
 * A Meta Conversions API connection: the dataset (Pixel) and a system-user
 * access token (platforms.md §1.1).
 */
import { z } from 'zod';
import type { ConnectionField, ConnectionSpec, FieldName } from '../adapter.js';
import { DRY_RUN_FIELD, DRY_RUN_SCHEMA } from '../dry-run.js';

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
  test_event_code: z.string().min(1).optional(),
  dry_run: DRY_RUN_SCHEMA,
});

/** The fields of a Meta connection and their schema. */
export const META_CONNECTION: ConnectionSpec<MetaConnection> = {
  schema,
  fields: [
    { name: 'pixel_id', kind: 'setting', required: true },
    { name: 'access_token', kind: 'secret', required: true },
    // Test events are not dropped: "They flow into Events Manager and are used for targeting and ads measurement" (platforms.md §1.2).
    { name: 'test_event_code', kind: 'setting', required: false },
    DRY_RUN_FIELD,
  ] satisfies readonly ConnectionField<FieldName<MetaConnection>>[],
};
