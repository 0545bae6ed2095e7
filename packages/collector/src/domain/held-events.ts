/**
 * Held beacons and throttled ones, for the operator: the per-site summary (`pruuv events held`,
 * `GET /api/admin/beacons`, the dashboard's "needs action") and the release of held events
 * (`pruuv events release`, `POST /api/admin/events/release`). Inputs are validated here, as in
 * `operations.ts`, so the CLI and the admin API fail the same way.
 */
import { z } from 'zod';
import type { Store } from '../store/types.js';
import { invalid, requireClient } from './operations.js';

/** Hours of throttle counts a summary covers unless asked otherwise. */
export const DEFAULT_SUMMARY_HOURS = 24;

/** One site's held and throttled beacons. */
export interface BeaconSiteSummary {
  client_id: string;
  client_name: string;
  /** Held events waiting for a release (all of them, whenever received). */
  held: number;
  /** Receive time of the oldest held event, ISO 8601 UTC. */
  oldest_held?: string;
  /** Beacons answered 429 by the per-address bucket since `since`. */
  throttled_address: number;
  /** Beacons answered 429 by the site's budget since `since`. */
  throttled_site: number;
}

/** What {@link beaconSummary} answers. */
export interface BeaconSummary {
  /** Start of the throttle counts, ISO 8601 UTC. */
  since: string;
  /** Sites with anything held or throttled, in client order. */
  sites: BeaconSiteSummary[];
}

/** `hours` of a summary: a whole number from 1 to 2160 (90 days), as text (query string, CLI flag) or a number. */
export const summaryHoursSchema = z.coerce
  .number({ message: 'hours must be a number' })
  .int('hours must be a whole number')
  .min(1, 'hours must be from 1 to 2160')
  .max(2160, 'hours must be from 1 to 2160');

/**
 * Held events per site, and beacons throttled in the last `hours` (throttle counts are written
 * by each collector once a minute, so the last minute may be missing).
 */
export async function beaconSummary(store: Store, now: Date, hours: unknown = DEFAULT_SUMMARY_HOURS): Promise<BeaconSummary> {
  const parsed = summaryHoursSchema.safeParse(hours);
  if (!parsed.success) throw invalid(parsed.error);
  const since = new Date(now.getTime() - parsed.data * 3_600_000);
  const [held, throttled, clients] = await Promise.all([store.events.heldCounts(), store.throttles.counts(since), store.clients.list()]);
  const heldBy = new Map(held.map((h) => [h.client_id, h]));
  const throttledBy = new Map(throttled.map((t) => [t.client_id, t]));
  const sites: BeaconSiteSummary[] = [];
  for (const client of clients) {
    const h = heldBy.get(client.id);
    const t = throttledBy.get(client.id);
    if (h === undefined && t === undefined) continue;
    const site: BeaconSiteSummary = {
      client_id: client.id,
      client_name: client.name,
      held: h?.held ?? 0,
      throttled_address: t?.address ?? 0,
      throttled_site: t?.site ?? 0,
    };
    if (h !== undefined) site.oldest_held = h.oldest;
    sites.push(site);
  }
  return { since: since.toISOString(), sites };
}

/** The input of {@link releaseHeld}: a client's held events, or these ids (of that client when both are given). */
export const releaseInputSchema = z
  .object({
    client: z.string().min(1, 'client must not be empty').optional(),
    event_ids: z.array(z.string().min(1).max(64), { message: 'event_ids must be a list of event ids' }).min(1, 'event_ids must not be empty').max(1000, 'at most 1000 event_ids at once').optional(),
  })
  .strict()
  .refine((input) => input.client !== undefined || input.event_ids !== undefined, { message: 'Give a client or event_ids to release' });

/** Releases held events: their sends become due at `at`. Returns the ids released (unknown or already released ids are left out). */
export async function releaseHeld(store: Store, input: unknown, at: Date): Promise<{ released: string[] }> {
  const parsed = releaseInputSchema.safeParse(input);
  if (!parsed.success) throw invalid(parsed.error);
  if (parsed.data.client !== undefined) await requireClient(store, parsed.data.client);
  const filter: { client_id?: string; ids?: string[] } = {};
  if (parsed.data.client !== undefined) filter.client_id = parsed.data.client;
  if (parsed.data.event_ids !== undefined) filter.ids = parsed.data.event_ids;
  return { released: await store.events.release(filter, at) };
}
