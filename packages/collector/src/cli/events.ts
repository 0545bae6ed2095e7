import { listEvents } from '../domain/operations.js';
import type { Store, StoredEvent } from '../store/types.js';
import { clip, emit, table, type CliOutput } from './output.js';

/** Options of `pruuv events list`. */
export interface EventsListOptions {
  /** Only this client's events. */
  client?: string;
  /** Only this stage's events. */
  stage?: string;
  /** How many of the newest events, 1 to 1000. Defaults to `50`. */
  limit?: string | number;
}

/**
 * `pruuv events list [--client ID] [--stage ID] [--limit N]`: the newest events as a table
 * (time, stage, reference, source, click ids present, inherited fields). JSON: `{ events }`,
 * the full stored records (which hold no secrets: tokens live on stages, email and phone only
 * as hashes).
 */
export async function eventsList(store: Store, options: EventsListOptions, output: CliOutput): Promise<StoredEvent[]> {
  const filter: { client?: string; stage?: string; limit?: string | number } = {};
  if (options.client !== undefined) filter.client = options.client;
  if (options.stage !== undefined) filter.stage = options.stage;
  if (options.limit !== undefined) filter.limit = options.limit;
  const events = await listEvents(store, filter);
  emit(output, { events }, () =>
    events.length === 0
      ? 'No events yet.'
      : table(
          ['TIME', 'STAGE', 'REFERENCE', 'SOURCE', 'CLICK IDS', 'INHERITED'],
          events.map((e) => [
            e.received_at,
            e.stage_key,
            clip(e.reference, 36),
            e.source,
            Object.keys(e.clicks).join(','),
            e.inherited !== undefined ? e.inherited.fields.join(',') : '',
          ]),
        ),
  );
  return events;
}
