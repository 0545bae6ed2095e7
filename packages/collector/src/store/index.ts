/**
 * The SQLite store: clients, stages, events and the outbox behind the
 * {@link Store} interface, so routes never touch SQL and a Postgres adapter can
 * be added by implementing the same interface.
 */
import type { Db } from '../db.js';
import { createCatalogVersion } from './catalog-version.js';
import { createClients } from './clients.js';
import { createEvents, type EventsOptions } from './events.js';
import { createOutbox } from './outbox.js';
import { createStages } from './stages.js';
import type { Store } from './types.js';

export { normalizeOrigin } from './clients.js';
export { PLATFORMS } from './outbox.js';
export type {
  Admission,
  Client,
  ClickIdName,
  EventSource,
  NewEvent,
  OutboxRow,
  Platform,
  Stage,
  StoredConsent,
  StoredEvent,
  Store,
  Touch,
  UtmName,
} from './types.js';

/** Settings of {@link createStore}. */
export interface StoreOptions extends EventsOptions {
  /** Clock for `created_at` times. Defaults to `() => new Date()`. */
  now?: () => Date;
}

/** Creates the store over an open database (see `openDb`). Statements are prepared once, here. */
export function createStore(db: Db, options: StoreOptions = {}): Store {
  const now = options.now ?? (() => new Date());
  const outbox = createOutbox(db);
  const catalog = createCatalogVersion(db);
  return {
    clients: createClients(db, now, catalog),
    stages: createStages(db, now, catalog),
    events: createEvents(db, outbox, options),
    outbox: { forEvent: (eventId) => outbox.forEvent(eventId) },
    close: () => db.close(),
  };
}
