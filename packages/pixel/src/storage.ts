/**
 * First-party storage: cookies, mirrored to localStorage, so a value survives as long
 * as either does (Safari's ITP and "clear cookies" buttons rarely wipe both at once).
 * Every access is fail-soft (`attempt`).
 *
 * Reads are what cost a page (bench/pixel-load, Chromium 147): the first
 * `document.cookie` read of a page, and the first one after any write, wait for the
 * browser process (0.3-0.4 ms, about 1 ms on a 4× slower CPU), while a write is
 * queued (0.01 ms); the first `localStorage` access of a page loads the whole area
 * (0.3 ms, 2 ms at 4×), later ones are in memory. So a {@link Store} reads every
 * cookie at once with one `document.cookie` read, keeps what it read, writes a cookie
 * only when its value differs, reads each localStorage key at most once per page, and
 * writes it only when it differs. The cookie code is the pixel's own (a parse and a
 * serialiser, RFC 6265): js-cookie read `document.cookie` twice per `get()` and cost
 * 524 B of the script tag.
 */
import { attempt } from './attempt.js';

/**
 * Cookie attributes every Pruuv cookie is written with: `domain` (`''` or absent: a
 * host-only cookie), `expires` in days, `secure`. The path is always `/` and SameSite `Lax`.
 */
export interface CookieAttrs {
  domain?: string;
  expires?: number;
  secure?: boolean;
}

/** A stored value: `null` or `undefined` when absent or unreadable. */
export type Stored = string | null | undefined;

/** A localStorage value (`null`/`undefined` when absent or when localStorage throws). */
export const lsGet = (key: string): Stored => attempt(() => localStorage.getItem(key));

/** Sets (or, without `value`, removes) a localStorage value; failures are ignored. */
export const lsSet = (key: string, value?: Stored): void =>
  attempt(() => localStorage[value == null ? 'removeItem' : 'setItem'](key, value as string));

/** localStorage key of the mirror: one JSON record of every mirrored value, by cookie name. */
export const MIRROR = '_pruuv_mirror';

/**
 * The cookies and the localStorage mirror of one page, as {@link createStore} keeps
 * them. A tuple, like `Transport`, so that the script-tag build mangles every name.
 */
export type Store = readonly [
  /**
   * Reads every cookie: one `document.cookie` read ({@link readCookies}); none right after
   * a successful `probe`, whose own read is as fresh.
   */
  read: () => void,
  /** A cookie's value as last read or written; used alone for what Pruuv only reads (`_ttp`, `_gcl_aw`, `_gcl_gb`). */
  cookie: (name: string) => Stored,
  /**
   * A value from the cookie, else from the localStorage mirror, repairing whichever copy is
   * missing or differs (the cookie wins: it is what Meta's pixel reads too).
   */
  get: (key: string) => Stored,
  /**
   * Writes `value` to the cookie and the localStorage mirror, or without `value`
   * removes both; each copy only when it differs from what the store knows. A value over 3,500 bytes
   * encoded lives in localStorage only: browsers drop cookies over 4,096 bytes, and
   * the rest is room for the name and the site's other cookies. With `mirrorOnly`, the
   * cookie is left alone.
   */
  put: (key: string, value?: Stored, mirrorOnly?: unknown) => void,
  /** A mirrored value as the store knows it (the record is read once per page). */
  mirror: (key: string) => Stored,
  /**
   * The cookie-domain probe for `findDomain`: writes a test cookie on `domain`, reads
   * every cookie (the page's read, see `read`), and removes the test cookie if it is there.
   */
  probe: (domain: string) => boolean,
];

/**
 * A {@link Store} that knows nothing yet: `read()` (or `probe`) before the first `cookie()` or `get()`.
 *
 * The localStorage mirror is one record ({@link MIRROR}), read at its first use (the first
 * `localStorage` access of a page costs the page; later ones are in memory) and written
 * once per run of the pixel's code: the writes of one load are batched in a microtask,
 * which runs before anything else can (a closing page included).
 *
 * @param a the attributes cookies are written with; filled in by the caller before the first write.
 */
export const createStore = (a: CookieAttrs): Store => {
  let jar: Record<string, Stored> = {};
  let mirror: Record<string, Stored> | undefined;
  let fresh: unknown;
  let dirty: unknown;
  // A record that is not an object (`null`, corrupt JSON, blocked storage) spreads to `{}`.
  const ls = () => (mirror ||= { ...attempt(() => JSON.parse(lsGet(MIRROR) as string)) });
  const read = () => void (fresh ? (fresh = 0) : (jar = attempt(readCookies) || {}));
  const flush = () => {
    // `JSON.stringify` leaves out removed (undefined) values: an empty record is removed.
    const json = JSON.stringify(mirror);
    dirty = 0;
    lsSet(MIRROR, json == '{}' ? null : json);
  };
  const put = (key: string, value?: Stored, mirrorOnly?: unknown): void => {
    const c = value == null || encodeURIComponent(value).length > 3500 ? undefined : value;
    // `!=`: null and undefined both mean "absent". A refused or throwing write is known
    // as done until the next read, which is what decides.
    if (!mirrorOnly && jar[key] != c) attempt(() => writeCookie(key, c, a)), (jar[key] = c);
    if (ls()[key] != value) {
      ls()[key] = value ?? undefined;
      dirty ||= (queueMicrotask(flush), 1);
    }
  };
  return [
    read,
    (name) => jar[name],
    (key) => {
      const v = jar[key] ?? ls()[key];
      // Writes only a copy that is missing or differs.
      put(key, v);
      return v;
    },
    put,
    (key) => ls()[key],
    (domain) => {
      const t = { domain, expires: 1 };
      attempt(() => writeCookie(PROBE, domain, t));
      fresh = 0;
      read();
      // This read is the page's: the next `read()` is skipped.
      fresh = 1;
      // A refused write leaves at most the value of a probe on another domain, which cannot match.
      const ok = jar[PROBE] == domain;
      if (ok) attempt(() => writeCookie(PROBE, null, t)), (jar[PROBE] = undefined);
      return ok;
    },
  ];
};

/**
 * Every cookie of the page from one `document.cookie` read, values URI-decoded (a value
 * that does not decode is left out). When a name repeats (one cookie on two domains or
 * paths), the last one listed wins: of two on the same path, the one created later.
 */
export const readCookies = (): Record<string, Stored> => {
  const jar: Record<string, Stored> = {};
  for (const c of document.cookie.split('; ')) {
    const i = c.indexOf('=');
    attempt(() => (jar[c.slice(0, i)] = decodeURIComponent(c.slice(i + 1))));
  }
  return jar;
};

/**
 * Writes cookie `name` with `value` URI-encoded, path `/`, `SameSite=Lax`, and `a`'s
 * domain, lifetime and `Secure`; without `value`, removes it (a negative `Max-Age`, RFC
 * 6265 §5.2.2). May throw where cookies are blocked.
 */
export const writeCookie = (name: string, value: Stored, a: CookieAttrs): void => {
  document.cookie = `${name}=${encodeURIComponent(value ?? '')}; path=/; max-age=${value == null ? -1 : 864e2 * (a.expires as number)}${
    a.domain ? '; domain=' + a.domain : ''
  }; samesite=lax${a.secure ? '; secure' : ''}`;
};

/** Removes cookie `name` from `domain` (`''`: the host-only cookie), path `/`; may throw where cookies are blocked. */
export const removeCookie = (name: string, domain: string): void => writeCookie(name, null, { domain });

/** The probe cookie's name. */
const PROBE = '_pruuv_t';

/**
 * The real cookie-domain probe for `findDomain`, on a store of its own: writes a test
 * cookie on `domain` for a day, reads it back and removes it. Its value is the domain
 * itself. A refused one is not removed: there is nothing to remove, and each write costs
 * the page.
 */
export const probeCookie = (domain: string): boolean => createStore({})[5](domain);
