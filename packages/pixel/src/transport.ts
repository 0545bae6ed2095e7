/**
 * Sending payloads to the collector, and the outbox that keeps undelivered ones.
 */
import { attempt } from './attempt.js';
import { lsGet, lsSet } from './storage.js';
import type { TrackPayload } from './types.js';

/** localStorage key of the outbox. */
export const OUTBOX = '_pruuv_outbox';

/** Outbox bounds: an event is resent for up to 7 days, and at most the 50 newest are kept. */
const MAX_AGE = 7 * 864e5;
const MAX_EVENTS = 50;

/**
 * Retry policy of one response:
 *
 * | outcome                  | action          | why                                                     |
 * | ------------------------ | --------------- | ------------------------------------------------------- |
 * | 2xx                      | delivered       |                                                         |
 * | 408, 429, 5xx            | outbox          | collector busy or down; the event_id makes resends safe |
 * | network error            | outbox          | offline, DNS, blocked request…                          |
 * | other 4xx (400, 401, …)  | drop, debug log | bad payload or site key: resending cannot help          |
 */
// A regular expression over the digits (`test` converts the number) is shorter than three
// comparisons; HTTP statuses run from 100 to 599.
export const retryable = (status: number): boolean => /^(408|429|5)/.test(status as unknown as string);

/** The outbox's events younger than 7 days at `now`. */
export const readOutbox = (now: number): TrackPayload[] =>
  // Anything but an array of events (corrupt JSON, `null`, an object) throws here: empty.
  attempt(() => (JSON.parse(lsGet(OUTBOX) as string) as TrackPayload[]).filter((p) => now - Date.parse(p.client_time) < MAX_AGE)) ||
  [];

/** What `createTransport` returns: `send` one payload, `drain` the outbox (resend all, in order). */
export type Transport = readonly [send: (p: TrackPayload) => Promise<void> | void, drain: () => void];

/**
 * Transport to `url` (the collector's ingest endpoint).
 * `fetch(url, { keepalive, text/plain })` so no CORS preflight is needed and the
 * request outlives the page; `navigator.sendBeacon` when fetch is missing or throws
 * synchronously. `send` returns a promise that settles when the fetch attempt is over
 * (nothing on the synchronous sendBeacon path, already over); it never rejects.
 *
 * @param fetcher defaults to the global `fetch` at send time.
 */
export const createTransport = (
  url: string,
  now: () => number,
  warn: (...a: unknown[]) => void,
  fetcher?: typeof fetch,
): Transport => {
  const keep = (p: TrackPayload) => lsSet(OUTBOX, JSON.stringify([...readOutbox(now()), p].slice(-MAX_EVENTS)));
  const send = (p: TrackPayload): Promise<void> | void => {
    const body = JSON.stringify(p);
    return (
      attempt(() =>
        // A string body goes out as `text/plain;charset=UTF-8` (Fetch standard, "extract a
        // body"): a CORS-safelisted type, so no preflight, without spending bytes on the header.
        (fetcher || fetch)(url, { method: 'POST', body, keepalive: true, credentials: 'include' }).then(
          (r) => {
            r.ok || (retryable(r.status) ? keep(p) : warn('dropped', r.status));
          },
          () => keep(p),
        ),
      ) || void (attempt(() => navigator.sendBeacon(url, body)) || keep(p))
    );
  };
  const drain = () => {
    const b = readOutbox(now());
    lsSet(OUTBOX);
    b.forEach(send);
  };
  return [send, drain];
};
