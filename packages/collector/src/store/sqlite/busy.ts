/**
 * Waiting for SQLite's write lock without freezing the process. better-sqlite3
 * is synchronous: with a long `busy_timeout`, a write that finds the lock held
 * by another connection (a backup, `pruuv db copy`, a second process) blocks
 * the event loop until the lock comes free, and every request waits with it,
 * the pixel script and health checks included. So the synchronous wait is kept
 * to {@link SYNC_BUSY_WAIT_MS}; past it the write fails with `SQLITE_BUSY` and
 * is tried again from a timer, with backoff, until its deadline (the store's
 * `busyTimeoutMs`), while the event loop serves everything else. Past the
 * deadline the caller gets the busy error (answered 503 with `Retry-After`).
 */

/** The longest a write blocks the event loop waiting for the lock, per try. */
export const SYNC_BUSY_WAIT_MS = 20;

/** Whether an error is SQLite's lock being held by another connection. */
export function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/** The wait configured when a database was opened (`openDb`'s `busyTimeoutMs`). */
const configuredWaits = new WeakMap<object, number>();

export function setBusyWait(db: object, ms: number): void {
  configuredWaits.set(db, ms);
}

/** The wait set for `db` at open, else 5000 ms. */
export function busyWaitOf(db: object): number {
  return configuredWaits.get(db) ?? 5000;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `attempt` until it does not fail busy, or `waitMs` has passed. */
export async function retryWhileBusy<T>(attempt: () => Promise<T>, waitMs: number): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    try {
      return await attempt();
    } catch (error) {
      if (!isBusy(error) || Date.now() + delay > deadline) throw error;
      await sleep(delay);
    }
  }
}

/**
 * The same part of the store, each async method retried while busy. Every write
 * of a part runs in one transaction or one statement, which SQLite rolls back
 * when it fails busy, so a retry never doubles anything.
 */
export function withBusyRetry<T extends object>(part: T, waitMs: number): T {
  return new Proxy(part, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]): unknown => {
        const call = (): unknown => (value as (...a: unknown[]) => unknown).apply(target, args);
        const result = call();
        if (!(result instanceof Promise)) return result;
        return result.catch((error: unknown) => {
          if (!isBusy(error)) throw error;
          return retryWhileBusy(() => call() as Promise<unknown>, waitMs);
        });
      };
    },
  });
}
