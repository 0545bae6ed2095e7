/**
 * The list filters shared by the CLI and the admin API (`pruuv sends list` and
 * `GET /api/admin/sends`, `pruuv sends google-status` and `GET /api/admin/google-status`):
 * one schema checks the flags and the query string alike; the store turns each
 * given filter into an equality on an indexed column.
 */
import type { z } from 'zod';
import { DEFAULT_EVENT_LIMIT } from './admin-input.js';
import { OperationError } from './operations.js';
import { validationDetails } from './schemas.js';

/**
 * `filter` (strings, as flags and query strings give them) checked by `schema`, the limit
 * defaulting to 50.
 *
 * @throws {OperationError} `invalid`, naming the first problem, with the details per field.
 */
export function parseListFilter<S extends z.ZodType<{ limit?: number }>>(
  schema: S,
  filter: { limit?: unknown },
): z.output<S> & { limit: number } {
  const parsed = schema.safeParse({ ...filter, limit: filter.limit ?? DEFAULT_EVENT_LIMIT });
  if (!parsed.success) {
    throw new OperationError('invalid', parsed.error.issues[0]?.message ?? 'Invalid filter', { details: validationDetails(parsed.error) });
  }
  return { ...parsed.data, limit: parsed.data.limit ?? DEFAULT_EVENT_LIMIT };
}
