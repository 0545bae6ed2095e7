/**
 * The storage boundary of the collector. Routes and the CLI only ever see
 * these interfaces, so a Postgres adapter can be added later by implementing
 * them, without touching a route.
 */

import type { ClickIdName, Touch, UtmName } from '@pruuv/pixel';

/** Click-ID and UTM names, and the ad landing (`Touch`), stored on a funnel event: the pixel's own, so the two cannot drift. */
export type { ClickIdName, Touch, UtmName };

/** An agency's client: one website (or several origins) with a public site key. */
export interface Client {
  id: string;
  name: string;
  /** Public key the pixel sends as `site`. */
  site_key: string;
  /** Page origins (`https://www.example.com`) allowed to send pixel events. Empty: none. */
  origins: string[];
  /** ISO 8601 UTC. */
  created_at: string;
}

/** A funnel stage of a client (`lead`, `sale`…), with its own webhook URL and token. */
export interface Stage {
  /** Random, unguessable id (`stg_` + 22 base62 characters); part of the webhook URL. */
  id: string;
  client_id: string;
  /** Key the pixel sends as `stage`, unique per client. */
  key: string;
  name: string;
  /** Per-platform event-name overrides. */
  event_names: { meta?: string; tiktok?: string; google_conversion_action_id?: string };
  /** ISO 8601 UTC. */
  created_at: string;
}

/** Consent state stored on an event; webhook events without a `consent` field are `unspecified`. */
export type StoredConsent = 'granted' | 'denied' | 'unspecified';

/** Where an event came from. */
export type EventSource = 'pixel' | 'webhook';

/** A funnel event as stored. Email and phone only ever as SHA-256 hashes. */
export interface StoredEvent {
  /** UUID: the dedup key on every ad platform. */
  id: string;
  client_id: string;
  stage_id: string;
  stage_key: string;
  source: EventSource;
  reference: string;
  item_reference?: string;
  revenue_value?: number;
  currency?: string;
  data_timestamp?: string;
  /** When the collector stored the event, ISO 8601 UTC. */
  received_at: string;
  /** The browser's clock at `track()` (pixel events only). */
  client_time?: string;
  consent: StoredConsent;
  clicks: Partial<Record<ClickIdName, { value: string; ts?: string }>>;
  utm: Partial<Record<UtmName, string>>;
  fbc?: string;
  fbp?: string;
  ttp?: string;
  email_sha256?: string;
  email_sha256_google?: string;
  phone_sha256?: string;
  phone_sha256_meta?: string;
  client_ip?: string;
  user_agent?: string;
  page_url?: string;
  referrer?: string;
  /** Anonymous browser id of the pixel (`_pruuv_vid`), pixel events only. */
  visitor_id?: string;
  /** First and latest ad landing the pixel knew of, pixel events only. */
  first_touch?: Touch;
  last_touch?: Touch;
  /** Demographic fields (reporting only). */
  demographics: Record<string, string>;
  /** Attribution fields copied from an earlier event of the same client and reference (or email hash). */
  inherited?: { from_event_id: string; fields: string[] };
}


/** An event ready to be admitted: everything but what the store assigns. `id` is the pixel's `event_id`, or a fresh UUID. */
export type NewEvent = Omit<StoredEvent, 'received_at' | 'inherited'>;

/** What {@link Store.events.admit} did with an event. */
export type Admission =
  /** Stored, with its outbox rows. */
  | { status: 'stored'; event: StoredEvent }
  /** An event with this id is already stored (a pixel resend): nothing stored. */
  | { status: 'duplicate_event_id'; event_id: string }
  /** Same reference at the same stage within the dedup window: nothing stored. */
  | { status: 'duplicate'; of_event_id: string }
  /** The stage took its hourly quota: nothing stored; a slot frees in `retry_after_seconds`. */
  | { status: 'rate_limited'; retry_after_seconds: number };

/** Ad platforms the outbox has a row for, per event. */
export type Platform = 'meta' | 'google' | 'tiktok';

/** One row of the outbox: a pending (or done) send of one event to one platform. */
export interface OutboxRow {
  id: number;
  event_id: string;
  platform: Platform;
  status: string;
  due_at: string;
  attempts: number;
  lease_owner?: string;
  lease_until?: string;
  last_error?: string;
}

/** The storage API the routes, the CLI and the admin API use. */
export interface Store {
  clients: {
    create(input: { name: string; origins?: string[] }): Client;
    get(id: string): Client | undefined;
    bySiteKey(siteKey: string): Client | undefined;
    list(): Client[];
    /** Replaces the allowed origins of a client; returns the updated client, `undefined` for an unknown id. */
    setOrigins(id: string, origins: string[]): Client | undefined;
    /** Whether any client lists this origin (answers CORS preflights before the site key is known). */
    anyAllowsOrigin(origin: string): boolean;
  };
  stages: {
    /** Returns the plaintext token once; only its hash is stored. */
    create(input: { client_id: string; key: string; name: string }): { stage: Stage; token: string };
    get(id: string): Stage | undefined;
    byKey(clientId: string, key: string): Stage | undefined;
    list(clientId?: string): Stage[];
    /** Replaces the stage's webhook token; returns the new plaintext token, `undefined` for an unknown stage. */
    rotateToken(id: string): string | undefined;
    /** Constant-time comparison against the stored hash. */
    verifyToken(id: string, token: string): boolean;
    setEventNames(id: string, names: Stage['event_names']): void;
  };
  events: {
    list(filter: { client_id?: string; stage_id?: string; limit?: number }): StoredEvent[];
    get(id: string): StoredEvent | undefined;
    /**
     * Admits an event in one write transaction: event-id idempotency, the 60-second
     * dedup on (stage, reference), the hourly rate limit of the stage, the
     * attribution join, the insert and its outbox rows. `at` is the receive time.
     */
    admit(event: NewEvent, at: Date): Admission;
    /**
     * {@link admit} with group commit, for request handlers: admissions asked for in
     * the same turn of the event loop share ONE write transaction (each in its own
     * savepoint, so one event's failure rolls back only that event), so one fsync
     * covers them all. Resolves once the transaction is committed: an event is on
     * disk before its caller answers 200. Rejects with a `StorageUnavailableError`
     * when the database is busy, locked or full (nothing of the group is stored).
     */
    admitGrouped(event: NewEvent, at: Date): Promise<Admission>;
  };
  outbox: {
    /** The outbox rows of an event, by platform. */
    forEvent(eventId: string): OutboxRow[];
  };
  /** Closes the database connection. */
  close(): void;
}
