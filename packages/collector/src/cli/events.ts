import { beaconSummary, releaseHeld, type BeaconSummary } from '../domain/held-events.js';
import { listEvents } from '../domain/operations.js';
import type { Store, StoredEvent } from '../store/types.js';
import { clip, emit, table, type CliOutput } from './output.js';

/** Options of `pruuv events list`. */
export interface EventsListOptions {
  /** Only this client's events. */
  client?: string;
  /** Only this stage's events. */
  stage?: string;
  /** Only held events not yet released. */
  held?: boolean;
  /** How many of the newest events, 1 to 1000. Defaults to `50`. */
  limit?: string | number;
}

/** One line per site with held or throttled beacons, for the foot of `events list` and for `events held`. */
function siteLines(summary: BeaconSummary): string {
  return table(
    ['CLIENT', 'NAME', 'HELD', 'OLDEST HELD', 'THROTTLED (ADDRESS)', 'THROTTLED (SITE)'],
    summary.sites.map((s) => [s.client_id, clip(s.client_name, 30), String(s.held), s.oldest_held ?? '', String(s.throttled_address), String(s.throttled_site)]),
  );
}

/**
 * `pruuv events list [--client ID] [--stage ID] [--held] [--limit N]`: the newest events as a table
 * (time, stage, reference, source, click ids present, inherited fields, why held), then the sites
 * with held events or beacons throttled in the last 24 hours. JSON: `{ events, beacons }`, the full
 * stored records (which hold no secrets: tokens live on stages, email and phone only as hashes)
 * and the summary of `events held`.
 */
export async function eventsList(store: Store, options: EventsListOptions, output: CliOutput, now: Date = new Date()): Promise<StoredEvent[]> {
  const filter: { client?: string; stage?: string; held?: boolean; limit?: string | number } = {};
  if (options.client !== undefined) filter.client = options.client;
  if (options.stage !== undefined) filter.stage = options.stage;
  if (options.held === true) filter.held = true;
  if (options.limit !== undefined) filter.limit = options.limit;
  const [events, beacons] = await Promise.all([listEvents(store, filter), beaconSummary(store, now)]);
  emit(output, { events, beacons }, () => {
    const list =
      events.length === 0
        ? options.held === true
          ? 'No held events.'
          : 'No events yet.'
        : table(
            ['TIME', 'STAGE', 'REFERENCE', 'SOURCE', 'CLICK IDS', 'INHERITED', 'HELD'],
            events.map((e) => [
              e.received_at,
              e.stage_key,
              clip(e.reference, 36),
              e.source,
              Object.keys(e.clicks).join(','),
              e.inherited !== undefined ? e.inherited.fields.join(',') : '',
              e.held_reason === undefined ? '' : e.released_at === undefined ? e.held_reason : `released (${e.held_reason})`,
            ]),
          );
    if (beacons.sites.length === 0) return list;
    return `${list}\n\nBeacons held (until released: pruuv events release) or throttled (429) in the last 24 hours:\n${siteLines(beacons)}`;
  });
  return events;
}

/** Options of `pruuv events held`. */
export interface EventsHeldOptions {
  /** Hours of throttle counts, 1 to 2160. Defaults to `24`. */
  hours?: string;
}

/**
 * `pruuv events held [--hours N]`: per site, the held events waiting for a release and the
 * beacons throttled in the last N hours. JSON: `{ since, sites }`.
 */
export async function eventsHeld(store: Store, options: EventsHeldOptions, output: CliOutput, now: Date = new Date()): Promise<BeaconSummary> {
  const summary = await beaconSummary(store, now, options.hours);
  emit(output, summary, () => (summary.sites.length === 0 ? `Nothing held or throttled since ${summary.since}.` : siteLines(summary)));
  return summary;
}

/** Options of `pruuv events release`. */
export interface EventsReleaseOptions {
  /** Every held event of this client. */
  client?: string;
  /** These events (of `client`, when both are given). */
  event?: string[];
}

/**
 * `pruuv events release (--client ID | --event ID...)`: releases held events; their sends are
 * due at once (the next send pass takes them). JSON: `{ released }`, the ids.
 */
export async function eventsRelease(store: Store, options: EventsReleaseOptions, output: CliOutput, now: Date = new Date()): Promise<string[]> {
  const input: { client?: string; event_ids?: string[] } = {};
  if (options.client !== undefined) input.client = options.client;
  if (options.event !== undefined && options.event.length > 0) input.event_ids = options.event;
  const { released } = await releaseHeld(store, input, now);
  emit(output, { released }, () =>
    released.length === 0
      ? 'No held event matched: nothing released.'
      : `Released ${released.length} held event${released.length === 1 ? '' : 's'}; the next send pass sends them.`,
  );
  return released;
}
