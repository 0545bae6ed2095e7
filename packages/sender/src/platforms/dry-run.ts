/**
 * The switch every connection has (`ConnectionBase.dry_run`): validate only,
 * deliver nothing. How a platform honours it is its adapter's `dryRun`.
 */
import { z } from 'zod';
import type { ConnectionField } from './adapter.js';

/** Schema of `dry_run`, for each connection's `z.object`. */
export const DRY_RUN_SCHEMA = z.boolean().optional();

/** The `dry_run` field, last in each connection's field list. */
export const DRY_RUN_FIELD: ConnectionField<'dry_run'> = { name: 'dry_run', kind: 'setting', required: false };
