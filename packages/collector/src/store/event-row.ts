/**
 * An event as a row of the `events` table, for both engines: the columns an
 * admission writes and the mapping each way.
 */
import { CLICK_IDS, UTMS } from '../domain/join.js';
import type { ClickIdName, StoredEvent, Touch, UtmName } from './types.js';

/** Plain optional text columns, same name on the row and on {@link StoredEvent}. */
const TEXT_FIELDS = [
  'item_reference',
  'currency',
  'data_timestamp',
  'client_time',
  'fbc',
  'fbp',
  'ttp',
  'email_sha256',
  'email_sha256_google',
  'email_sha256_microsoft',
  'phone_sha256',
  'phone_sha256_meta',
  'email_rejected',
  'phone_rejected',
  'visitor_id',
  'client_ip',
  'user_agent',
  'page_url',
  'referrer',
  'held_reason',
] as const;

type TextField = (typeof TEXT_FIELDS)[number];

/** The hash columns: 64 lowercase hex characters each (`domain/schemas.ts`), or 32 bytes ({@link HashEncoding}). */
const HASH_FIELDS = ['email_sha256', 'email_sha256_google', 'email_sha256_microsoft', 'phone_sha256', 'phone_sha256_meta'] as const;

type HashField = (typeof HASH_FIELDS)[number];

/**
 * How a row holds a hash: `text`, its 64 hex characters (PostgreSQL's `text` columns, and every
 * SQLite row written before), or `binary`, its 32 bytes (SQLite, whose columns take either: half
 * the bytes in the row and in `events_client_email`). Readers take either.
 */
export type HashEncoding = 'text' | 'binary';

const LOWER_HEX_SHA256 = /^[0-9a-f]{64}$/;

/** A row of the `events` table. JSON columns are text (SQLite) or parsed (PostgreSQL); times text or `Date`. */
export type EventRow = {
  id: string;
  client_id: string;
  stage_id: string;
  stage_key: string;
  source: StoredEvent['source'];
  reference: string;
  revenue_value: number | null;
  received_at: string | Date;
  received_ms: number | string;
  consent: StoredEvent['consent'];
  first_touch: unknown;
  last_touch: unknown;
  demographics: unknown;
  inherited_from: string | null;
  inherited_fields: unknown;
  /** The user agent's key in `user_agents` when `user_agent` is stored there (NULL: inline or none). */
  user_agent_key: number | null;
  /** The text of `user_agent_key`, read with {@link eventSelectSql}; not a column. */
  user_agent_text?: string | null;
  /** Set by a release only, never by an admission: not in {@link EVENT_COLUMNS}. */
  released_at?: string | Date | null;
} & Record<Exclude<TextField, HashField> | ClickIdName | `${ClickIdName}_ts` | UtmName, string | null> &
  Record<HashField, string | Uint8Array | null>;

/** A hash as a row of `encoding` holds it: only a lowercase hex hash (every hash stored) becomes bytes. */
export function storedHash(hash: string, encoding: HashEncoding): string | Uint8Array {
  return encoding === 'binary' && LOWER_HEX_SHA256.test(hash) ? Buffer.from(hash, 'hex') : hash;
}

/** A text column's value; a stored hash as hex, whichever {@link HashEncoding} wrote it. */
function textOf(stored: string | Uint8Array): string {
  return typeof stored === 'string' ? stored : Buffer.from(stored).toString('hex');
}

/** The columns of `events` an admission writes, in the order of {@link eventToRow}'s keys. */
export const EVENT_COLUMNS = [
  'id',
  'client_id',
  'stage_id',
  'stage_key',
  'source',
  'reference',
  'revenue_value',
  'received_at',
  'received_ms',
  'consent',
  'first_touch',
  'last_touch',
  'demographics',
  'inherited_from',
  'inherited_fields',
  ...TEXT_FIELDS,
  ...CLICK_IDS.flatMap((k) => [k, `${k}_ts`]),
  ...UTMS,
  'user_agent_key',
] as const;

/**
 * The columns of `events` a reader selects (`SELECT *` and the text of the row's user agent key):
 * `alias` is the table's name or alias in the statement.
 */
export function eventSelectSql(alias = 'events'): string {
  return `${alias}.*, (SELECT ua.user_agent FROM user_agents ua WHERE ua.id = ${alias}.user_agent_key) AS user_agent_text`;
}

/**
 * A time column that holds the same instant as the one it is read from (`data_timestamp` and
 * `client_time` equal to the receive time, `received_at` equal to `received_ms`, a click's time
 * equal to the click before it), or a platform's hash equal to the base hash: the empty string,
 * which no accepted value is (times are ISO 8601, hashes 64 hex characters, `domain/schemas.ts`).
 */
const SAME = '';

/** The receive time of a row as the store wrote it: its `received_ms` as ISO 8601 when `received_at` is {@link SAME}. */
function receivedAt(row: EventRow): string {
  if (typeof row.received_at !== 'string') return row.received_at.toISOString();
  return row.received_at === SAME ? new Date(Number(row.received_ms)).toISOString() : row.received_at;
}

/** The platform variants of a hash, each with its base: stored as {@link SAME} when equal to it. */
const HASH_VARIANTS = [
  ['email_sha256_google', 'email_sha256'],
  ['email_sha256_microsoft', 'email_sha256'],
  ['phone_sha256_meta', 'phone_sha256'],
] as const;

/**
 * `last_touch` when it is the first touch (a visit that converts on its landing, and every event
 * of a visitor who came once): the JSON number `0`, never a touch, instead of the same object
 * again (about 250 bytes of a pixel event: URL, time, click ID and UTM parameters).
 */
const SAME_AS_FIRST = '0';

/**
 * Meta's `fbc` when it ends with the event's fbclid (`fb.1.{ms}.{fbclid}`, as the pixel writes it):
 * stored without the fbclid and with a space in its place, which no accepted `fbc` holds (printable
 * ASCII without spaces, `domain/schemas.ts`), and read back with the event's fbclid (about 60 bytes).
 */
const FBCLID_HERE = ' ';

function storedFbc(fbc: string | undefined, fbclid: string | undefined): string | null {
  if (fbc === undefined) return null;
  if (fbclid === undefined || !fbc.endsWith(`.${fbclid}`)) return fbc;
  return `${fbc.slice(0, fbc.length - fbclid.length)}${FBCLID_HERE}`;
}

function readFbc(stored: string, fbclid: string | null): string {
  return stored.endsWith(FBCLID_HERE) && fbclid !== null ? `${stored.slice(0, -FBCLID_HERE.length)}${fbclid}` : stored;
}

/**
 * The origin of a page URL as it is written (`https://shop.example` of `https://shop.example/a?b`),
 * or `undefined`. Page URLs are http(s) URLs (`domain/schemas.ts`): none starts with `/`.
 */
function originOf(pageUrl: string | null | undefined): string | undefined {
  if (pageUrl === null || pageUrl === undefined) return undefined;
  return /^https?:\/\/[^/?#]*/i.exec(pageUrl)?.[0];
}

/** A URL on the page's own origin without that origin (it then starts with `/`, which no http(s) URL does). */
function sameSite(url: string | undefined, origin: string | undefined): string | undefined {
  return url !== undefined && origin !== undefined && url.startsWith(`${origin}/`) ? url.slice(origin.length) : undefined;
}

/**
 * `page_url` of a row whose referrer is stored without the page's origin (a referrer on the page's
 * own site, as a thank-you page's checkout is): behind this mark, which no page URL starts with
 * (they are http(s) URLs), so a referrer of a row written before, whatever it holds, reads as it was.
 */
const REFERRER_ON_PAGE = '*';

/** The page URL of a row, without {@link REFERRER_ON_PAGE}. */
function pageUrlOf(row: EventRow): string | null {
  const stored = row.page_url;
  return stored !== null && stored.startsWith(REFERRER_ON_PAGE) ? stored.slice(REFERRER_ON_PAGE.length) : stored;
}

/** The time of the event's first click (in CLICK_IDS order) that has one. */
function firstClickTs(clicks: StoredEvent['clicks']): string | undefined {
  for (const k of CLICK_IDS) if (clicks[k]?.ts !== undefined) return clicks[k]!.ts;
  return undefined;
}

/**
 * A touch's click ID that is the event's own (the click the visitor landed with and converted on)
 * and a touch's UTM parameter equal to the event's: the JSON number `0` in its place, never a
 * value (those are strings), instead of the value again (a click ID up to 500 characters, a gclid
 * about 100). A touch's time equal to the event's first click time (the landing that recorded
 * both, `packages/pixel/src/ledger.ts`): `0` too (24 characters).
 */
function storedTouch(touch: Touch, event: StoredEvent): string {
  if (typeof touch.params !== 'object' || touch.params === null) return JSON.stringify(touch);
  const params: Record<string, unknown> = { ...touch.params };
  for (const k of CLICK_IDS) if (params[k] !== undefined && params[k] === event.clicks[k]?.value) params[k] = 0;
  for (const k of UTMS) if (params[k] !== undefined && params[k] === event.utm[k]) params[k] = 0;
  const stored: Record<string, unknown> = { ...touch, params };
  if (touch.ts !== undefined && touch.ts === firstClickTs(event.clicks)) stored['ts'] = 0;
  // A landing on the page's own origin: its URL without it.
  const path = sameSite(touch.url, originOf(event.page_url));
  if (path !== undefined) stored['url'] = path;
  return JSON.stringify(stored);
}

function readTouch(stored: unknown, row: EventRow, clicks: StoredEvent['clicks']): Touch {
  const touch = stored as { params?: Record<string, unknown>; ts?: unknown };
  if (typeof touch.params !== 'object' || touch.params === null) return stored as Touch;
  const params: Record<string, unknown> = { ...touch.params };
  for (const k of [...CLICK_IDS, ...UTMS]) if (params[k] === 0 && row[k] !== null) params[k] = row[k];
  const read: Record<string, unknown> = { ...touch, params };
  if (touch.ts === 0) read['ts'] = firstClickTs(clicks);
  const origin = originOf(pageUrlOf(row));
  if (typeof read['url'] === 'string' && read['url'].startsWith('/') && origin !== undefined) read['url'] = `${origin}${read['url']}`;
  return read as unknown as Touch;
}

/**
 * The row of a stored event; JSON fields as JSON text (both engines take text for their JSON columns).
 * `userAgentKey`: the key of the event's user agent in `user_agents`, which the row then names
 * instead of holding the text (`undefined`: the text inline, as rows written before).
 * `received_at` is {@link SAME} when it is `receivedMs` as ISO 8601 (always, from an admission):
 * an engine with a time type for it (PostgreSQL) stores the instant itself. `hashes`: how the
 * engine stores a hash ({@link HashEncoding}).
 */
export function eventToRow(event: StoredEvent, receivedMs: number, userAgentKey?: number, hashes: HashEncoding = 'text'): EventRow {
  // Two touches with the same fields store the same text (what storedTouch puts in place of a
  // value, `0` or a path, is never one: values are strings, URLs absolute), and no others do.
  const firstTouch = event.first_touch ? storedTouch(event.first_touch, event) : null;
  const lastTouch = event.last_touch ? storedTouch(event.last_touch, event) : null;
  const row = {
    id: event.id,
    client_id: event.client_id,
    stage_id: event.stage_id,
    stage_key: event.stage_key,
    source: event.source,
    reference: event.reference,
    revenue_value: event.revenue_value ?? null,
    received_at: event.received_at === new Date(receivedMs).toISOString() ? SAME : event.received_at,
    received_ms: receivedMs,
    consent: event.consent,
    first_touch: firstTouch,
    last_touch: lastTouch !== null && lastTouch === firstTouch ? SAME_AS_FIRST : lastTouch,
    demographics: JSON.stringify(event.demographics),
    inherited_from: event.inherited?.from_event_id ?? null,
    inherited_fields: event.inherited ? JSON.stringify(event.inherited.fields) : null,
  } as EventRow;
  for (const k of TEXT_FIELDS) row[k] = event[k] ?? null;
  row.fbc = storedFbc(event.fbc, event.clicks.fbclid?.value);
  const referrerPath = sameSite(event.referrer, originOf(event.page_url));
  if (referrerPath !== undefined) {
    row.referrer = referrerPath;
    row.page_url = `${REFERRER_ON_PAGE}${event.page_url!}`;
  }
  // Stored once: the receive time, and a platform's hash that is the base hash.
  if (event.data_timestamp === event.received_at) row.data_timestamp = SAME;
  if (event.client_time === event.received_at) row.client_time = SAME;
  for (const [variant, base] of HASH_VARIANTS) if (event[variant] !== undefined && event[variant] === event[base]) row[variant] = SAME;
  for (const k of HASH_FIELDS) {
    const value = row[k];
    if (typeof value === 'string' && value !== SAME) row[k] = storedHash(value, hashes);
  }
  row.user_agent_key = null;
  if (userAgentKey !== undefined && event.user_agent !== undefined) {
    row.user_agent = null;
    row.user_agent_key = userAgentKey;
  }
  // A click's time equal to the time of the click before it (in CLICK_IDS order): the clicks of one landing share it.
  let previousTs: string | undefined;
  for (const k of CLICK_IDS) {
    const click = event.clicks[k];
    row[k] = click?.value ?? null;
    row[`${k}_ts`] = click?.ts === undefined ? null : click.ts === previousTs ? SAME : click.ts;
    if (click?.ts !== undefined) previousTs = click.ts;
  }
  for (const k of UTMS) row[k] = event.utm[k] ?? null;
  return row;
}

/** The stored event of a row; `json` reads a JSON column (`JSON.parse` for text, identity for parsed values). */
export function eventFromRow(row: EventRow, json: (value: unknown) => unknown): StoredEvent {
  const event: StoredEvent = {
    id: row.id,
    client_id: row.client_id,
    stage_id: row.stage_id,
    stage_key: row.stage_key,
    source: row.source,
    reference: row.reference,
    received_at: receivedAt(row),
    consent: row.consent,
    clicks: {},
    utm: {},
    demographics: json(row.demographics) as Record<string, string>,
  };
  if (row.revenue_value !== null) event.revenue_value = row.revenue_value;
  for (const k of TEXT_FIELDS) {
    const value = row[k];
    // `email_rejected` and `phone_rejected` hold one of the reason codes they were written with.
    if (value !== null) (event as Record<TextField, string | undefined>)[k] = textOf(value);
  }
  if (event.data_timestamp === SAME) event.data_timestamp = event.received_at;
  if (event.client_time === SAME) event.client_time = event.received_at;
  for (const [variant, base] of HASH_VARIANTS) if (event[variant] === SAME && event[base] !== undefined) event[variant] = event[base];
  if (row.user_agent === null && typeof row.user_agent_text === 'string') event.user_agent = row.user_agent_text;
  let previousTs: string | undefined;
  for (const k of CLICK_IDS) {
    const value = row[k];
    if (value === null) continue;
    const stored = row[`${k}_ts`];
    const ts = stored === SAME ? previousTs : stored ?? undefined;
    event.clicks[k] = ts === undefined ? { value } : { value, ts };
    if (ts !== undefined) previousTs = ts;
  }
  for (const k of UTMS) {
    const value = row[k];
    if (value !== null) event.utm[k] = value;
  }
  if (row.fbc !== null) event.fbc = readFbc(row.fbc, row.fbclid);
  if (row.page_url !== null && row.page_url.startsWith(REFERRER_ON_PAGE)) {
    event.page_url = pageUrlOf(row)!;
    event.referrer = `${originOf(event.page_url)!}${row.referrer!}`;
  }
  if (row.first_touch !== null) event.first_touch = readTouch(json(row.first_touch), row, event.clicks);
  if (row.last_touch !== null) {
    const last = json(row.last_touch);
    event.last_touch = last === 0 ? event.first_touch! : readTouch(last, row, event.clicks);
  }
  if (row.released_at !== undefined && row.released_at !== null) {
    event.released_at = typeof row.released_at === 'string' ? row.released_at : row.released_at.toISOString();
  }
  if (row.inherited_from !== null || row.inherited_fields !== null) {
    // Retention removed the earlier event: the fields stay, the link goes.
    event.inherited = { fields: (row.inherited_fields === null ? [] : json(row.inherited_fields)) as string[] };
    if (row.inherited_from !== null) event.inherited.from_event_id = row.inherited_from;
  }
  return event;
}

