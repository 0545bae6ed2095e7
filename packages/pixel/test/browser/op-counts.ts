/**
 * Counts the storage and randomness calls a page makes: `document.cookie` reads
 * and writes, `localStorage` reads, writes and removals, and random draws
 * (`crypto.getRandomValues`, `crypto.randomUUID`, `Math.random`). Used by the
 * operation-count tests and by `bench/pixel-load.ts`, on a page load of the
 * built script.
 *
 * {@link installOpCounter} adds {@link countOps} to a context's init scripts, so it
 * runs before any script of every page; Playwright's own scripts run in an
 * isolated world and are not counted. Property access such as `localStorage.foo` is not counted,
 * only the `Storage` methods.
 */
import type { BrowserContext, Page } from 'playwright-core';

/** What one page has done so far. */
export interface OpCounts {
  cookieReads: number;
  cookieWrites: number;
  /** The name of each cookie written, in order (probe cookies included). */
  cookiesWritten: string[];
  storageReads: number;
  storageWrites: number;
  storageRemoves: number;
  getRandomValues: number;
  randomUUID: number;
  mathRandom: number;
}

/**
 * Wraps the counted APIs of the page's window. Self-contained: Playwright
 * serialises it into the page.
 */
export function countOps(): void {
  const ops: OpCounts = {
    cookieReads: 0,
    cookieWrites: 0,
    cookiesWritten: [],
    storageReads: 0,
    storageWrites: 0,
    storageRemoves: 0,
    getRandomValues: 0,
    randomUUID: 0,
    mathRandom: 0,
  };
  (window as unknown as { __ops: OpCounts }).__ops = ops;
  const cookie = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
  if (!cookie?.get || !cookie.set) throw new Error('Document.prototype.cookie is not an accessor');
  const { get, set } = cookie;
  Object.defineProperty(Document.prototype, 'cookie', {
    configurable: true,
    get(this: Document) {
      ops.cookieReads++;
      return get.call(this) as string;
    },
    set(this: Document, v: string) {
      ops.cookieWrites++;
      ops.cookiesWritten.push(String(v).split('=')[0] ?? '');
      set.call(this, v);
    },
  });
  const count = <T extends object>(owner: T, method: keyof T & string, key: keyof OpCounts): void => {
    const f = owner[method] as unknown as (...a: unknown[]) => unknown;
    Object.defineProperty(owner, method, {
      configurable: true,
      writable: true,
      value: function (this: unknown, ...a: unknown[]) {
        (ops[key] as number)++;
        return f.apply(this, a);
      },
    });
  };
  count(Storage.prototype, 'getItem', 'storageReads');
  count(Storage.prototype, 'setItem', 'storageWrites');
  count(Storage.prototype, 'removeItem', 'storageRemoves');
  count(Crypto.prototype, 'getRandomValues', 'getRandomValues');
  // Absent in insecure contexts.
  if ('randomUUID' in Crypto.prototype) count(Crypto.prototype, 'randomUUID', 'randomUUID');
  count(Math, 'random', 'mathRandom');
}

/**
 * Installs {@link countOps} in every page of `context`. The function travels as its
 * source text; tsx (the bench) compiles it with esbuild's `keepNames`, whose
 * `__name(fn, "name")` calls the page must resolve, hence the identity shim.
 */
export async function installOpCounter(context: BrowserContext): Promise<void> {
  await context.addInitScript({ content: `var __name = (f) => f; (${countOps.toString()})();` });
}

/** The counts of the page so far (its context must have had {@link installOpCounter}). */
export function readOps(page: Page): Promise<OpCounts> {
  return page.evaluate(() => {
    const ops = (window as unknown as { __ops?: OpCounts }).__ops;
    if (!ops) throw new Error('countOps() is not installed in this page: installOpCounter(context) first');
    return ops;
  });
}
