/**
 * User agents stored once (`user_agents`, SQLite migration 025, PostgreSQL 020): an event names
 * its user agent by key. An admission finds or adds the key in its own transaction and refreshes
 * the row's `last_ms` (the latest receive time it was used at) at most once an hour; retention
 * removes a user agent only when no event names it and its `last_ms` is older than the retention
 * cutoff (which is at least 91 days old, `domain/retention.ts`).
 *
 * PostgreSQL's admission keeps the keys it learned in memory ({@link UserAgentKeys}) so that the
 * common case adds no statement: a key is used without a look-up for at most {@link REFRESH_MS}
 * after the admission that found or refreshed it, so a key in memory always names a row whose
 * `last_ms` is within that hour of its use, which retention never removes (a group with two or
 * more unknown user agents locks them first, in order: `LOCK_USER_AGENTS_SQL` of
 * `postgres/events.ts`). SQLite looks the key up
 * in the admission's transaction (an index read in the process, no round trip): a key found in a
 * transaction that then rolls back is never remembered.
 */

/** How long a key is used without refreshing its row's `last_ms`: an hour. */
export const REFRESH_MS = 3_600_000;

/** Keys remembered at most: the distinct user agents of the last hour are far fewer. */
const MAX_KEYS = 10_000;

/** The keys of user agents a process learned from committed admissions, each with when it last refreshed its row. */
export class UserAgentKeys {
  private readonly keys = new Map<string, { key: number; refreshedMs: number }>();

  /** The key of `userAgent` usable at `nowMs` without a look-up, if known and refreshed within {@link REFRESH_MS}. */
  get(userAgent: string, nowMs: number): number | undefined {
    const known = this.keys.get(userAgent);
    if (known === undefined) return undefined;
    if (nowMs - known.refreshedMs >= REFRESH_MS || nowMs < known.refreshedMs) {
      this.keys.delete(userAgent);
      return undefined;
    }
    return known.key;
  }

  /** Remembers a key an admission found or added, and refreshed to `refreshedMs`, in a transaction that committed. */
  set(userAgent: string, key: number, refreshedMs: number): void {
    this.keys.delete(userAgent);
    if (this.keys.size >= MAX_KEYS) this.keys.delete(this.keys.keys().next().value!);
    this.keys.set(userAgent, { key, refreshedMs });
  }
}
