/**
 * First-party storage: cookies through js-cookie, mirrored to localStorage, so a
 * value survives as long as either does (Safari's ITP and "clear cookies" buttons
 * rarely wipe both at once). Every access is fail-soft (`attempt`).
 */
import Cookies from 'js-cookie';
import { attempt } from './attempt.js';

/** Cookie attributes every Pruuv cookie is written with (`domain`, `expires` in days, `sameSite`, `secure`). */
export type CookieAttrs = Cookies.CookieAttributes;

/** A stored value: `null` or `undefined` when absent or unreadable. */
export type Stored = string | null | undefined;

/** A cookie's value. Used alone for what Pruuv only reads: `_ttp`, `_gcl_aw`, `_gcl_gb`. */
export const readCookie = (name: string): Stored => attempt(() => Cookies.get(name));

/** A localStorage value (`null`/`undefined` when absent or when localStorage throws). */
export const lsGet = (key: string): Stored => attempt(() => localStorage.getItem(key));

/** Sets (or, without `value`, removes) a localStorage value; failures are ignored. */
export const lsSet = (key: string, value?: Stored): void =>
  attempt(() => localStorage[value == null ? 'removeItem' : 'setItem'](key, value as string));

/**
 * Writes `value` to the cookie and the localStorage mirror; without `value`, removes both.
 * A value over 3,500 bytes encoded lives in localStorage only: browsers drop cookies
 * over 4,096 bytes, and the rest is room for the name and the site's other cookies.
 */
export const put = (a: CookieAttrs, key: string, value?: Stored): void => {
  attempt(() =>
    value == null || encodeURIComponent(value).length > 3500 ? Cookies.remove(key, a) : Cookies.set(key, value, a),
  );
  lsSet(key, value);
};

/**
 * Reads a value from the cookie, else from localStorage, and repairs whichever copy
 * is missing or differs (the cookie wins: it is what Meta's pixel reads too).
 */
export const get = (a: CookieAttrs, key: string): Stored => {
  const c = readCookie(key);
  const l = lsGet(key);
  const v = c ?? l;
  if (v != null && c !== l) put(a, key, v);
  return v;
};

/**
 * The real cookie-domain probe for `findDomain`: writes, reads back and removes a test
 * cookie on `domain`. Its value is the domain itself: a refused write leaves at most the
 * value of a probe on another domain, which cannot match.
 */
export const probeCookie = (domain: string): boolean =>
  !!attempt(() => {
    const a = { domain };
    Cookies.set('_pruuv_t', domain, a);
    const ok = Cookies.get('_pruuv_t') == domain;
    Cookies.remove('_pruuv_t', a);
    return ok;
  });
