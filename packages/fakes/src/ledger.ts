/**
 * What a platform counts after dedup: one entry per dedup key, whose number is
 * how often the key was received. O(1) per event so 100,000 conversions stay cheap.
 */

/** Result of {@link Ledger.receive}: whether the event counts as a new conversion. */
export type LedgerVerdict = 'counted' | 'duplicate';

/** A dedup store with an optional window after which the same key counts again. */
export class Ledger {
  /** dedup key → times received; the public `counted()` view. */
  readonly counts = new Map<string, number>();
  readonly #firstSeen = new Map<string, { at: number; key: string; generation: number }>();
  #anonymous = 0;

  /** Whether `key` was already received (within the window when given). Does not record. */
  has(key: string, atMs: number, windowMs = Number.POSITIVE_INFINITY): boolean {
    const seen = this.#firstSeen.get(key);
    return seen !== undefined && atMs - seen.at < windowMs;
  }

  /**
   * Record one receipt of `key`. Within `windowMs` of the first receipt it is a
   * duplicate; after the window it counts again, under `key#2`, `key#3`… so the
   * map can show both (Meta's 48 h dedup window, platforms.md §1.3).
   */
  receive(key: string, atMs: number, windowMs = Number.POSITIVE_INFINITY): LedgerVerdict {
    const seen = this.#firstSeen.get(key);
    if (seen !== undefined && atMs - seen.at < windowMs) {
      this.counts.set(seen.key, (this.counts.get(seen.key) ?? 0) + 1);
      return 'duplicate';
    }
    const generation = seen === undefined ? 1 : seen.generation + 1;
    const countKey = generation === 1 ? key : `${key}#${generation}`;
    this.#firstSeen.set(key, { at: atMs, key: countKey, generation });
    this.counts.set(countKey, 1);
    return 'counted';
  }

  /** Count an event that has no dedup id: every receipt is a new conversion. */
  receiveAnonymous(prefix: string): void {
    this.#anonymous += 1;
    this.counts.set(`${prefix}~${this.#anonymous}`, 1);
  }

  /** Increment the receipt count of an existing key without counting a conversion. */
  bump(key: string): void {
    const seen = this.#firstSeen.get(key);
    if (seen !== undefined) this.counts.set(seen.key, (this.counts.get(seen.key) ?? 0) + 1);
  }

  clear(): void {
    this.counts.clear();
    this.#firstSeen.clear();
    this.#anonymous = 0;
  }
}
