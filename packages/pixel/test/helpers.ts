/**
 * Test harness for the happy-dom unit tests: URL/referrer control, storage reset,
 * a recording fake `fetch`, and per-test isolation of the global side effects a
 * pixel installs (history patches, window listeners, MutationObservers), so one
 * test's pixel never reacts to the next test's navigation.
 */
import { afterEach, beforeEach, vi } from 'vitest';
import type { TrackPayload } from '../src/types.js';

/** Navigates the happy-dom window to `url` (no page load). */
export const setUrl = (url: string): void =>
  (window as unknown as { happyDOM: { setURL(u: string): void } }).happyDOM.setURL(url);

/** Sets `document.referrer`. */
export const setReferrer = (referrer: string): void => {
  Object.defineProperty(document, 'referrer', { value: referrer, configurable: true });
};

/** Every cookie as a name → value map. */
export const cookieJar = (): Record<string, string> =>
  Object.fromEntries(
    document.cookie
      .split('; ')
      .filter(Boolean)
      .map((c) => [c.slice(0, c.indexOf('=')), decodeURIComponent(c.slice(c.indexOf('=') + 1))]),
  );

/** Removes every cookie visible to the current host (host-only and on each parent domain) and clears localStorage. */
export function clearStorage(): void {
  const labels = location.hostname.split('.');
  for (const name of Object.keys(cookieJar())) {
    for (let i = 0; i <= labels.length; i++) {
      const domain = i < labels.length ? `; domain=${labels.slice(i).join('.')}` : '';
      document.cookie = `${name}=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT${domain}`;
    }
  }
  localStorage.clear();
}

/** One request seen by `fakeFetch`. */
export interface Sent {
  url: string;
  init: RequestInit;
  body: TrackPayload;
}

/**
 * A `fetch` that records requests and answers with the given statuses in order
 * (200 once they run out); an `Error` entry rejects like a network failure.
 */
export function fakeFetch(answers: (number | Error)[] = []): { fetch: typeof fetch; sent: Sent[] } {
  const sent: Sent[] = [];
  const fetchFn = (async (url: string, init: RequestInit) => {
    sent.push({ url: String(url), init, body: JSON.parse(init.body as string) as TrackPayload });
    const a = answers.shift() ?? 200;
    if (a instanceof Error) throw a;
    return { ok: a >= 200 && a < 300, status: a } as Response;
  }) as unknown as typeof fetch;
  return { fetch: fetchFn, sent };
}

/** Makes `document.cookie` throw, as in a sandboxed iframe (undone by `isolatePixels`). */
export function blockCookies(): void {
  const fail = () => {
    throw new DOMException('The document is sandboxed', 'SecurityError');
  };
  Object.defineProperty(document, 'cookie', { configurable: true, get: fail, set: fail });
}

/** Makes touching `localStorage` throw, as in a sandboxed iframe (undone by `isolatePixels`). */
export function blockLocalStorage(): void {
  vi.stubGlobal('localStorage', undefined);
  Object.defineProperty(globalThis, 'localStorage', {
    configurable: true,
    get: () => {
      throw new DOMException('Access is denied', 'SecurityError');
    },
  });
}

/** Lets pending promise callbacks and MutationObserver records run. */
export const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

/**
 * Registers beforeEach/afterEach hooks that undo every pixel's global side effects
 * and reset URL, referrer, cookies, localStorage and the body.
 */
export function isolatePixels(startUrl = 'https://www.example.com/'): void {
  let undo = (): void => undefined;
  beforeEach(() => {
    setUrl(startUrl);
    setReferrer('');
    clearStorage();
    const { pushState, replaceState } = history;
    const add = vi.spyOn(globalThis, 'addEventListener');
    const observers: MutationObserver[] = [];
    const Original = MutationObserver;
    vi.stubGlobal(
      'MutationObserver',
      class extends Original {
        constructor(cb: MutationCallback) {
          super(cb);
          observers.push(this);
        }
      },
    );
    undo = () => {
      delete (document as unknown as Record<string, unknown>).cookie;
      history.pushState = pushState;
      history.replaceState = replaceState;
      for (const [type, fn] of add.mock.calls) removeEventListener(type, fn as EventListener);
      add.mockRestore();
      for (const o of observers) o.disconnect();
      vi.unstubAllGlobals();
      vi.restoreAllMocks();
    };
  });
  afterEach(() => {
    undo();
    clearStorage();
    document.body.innerHTML = '';
  });
}
