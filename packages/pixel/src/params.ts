/**
 * Reading click IDs and UTMs from a URL. Pure.
 */
import { attempt } from './attempt.js';
import type { CapturedParam, ClickIdName, UtmName } from './types.js';

/** Captured parameters of one landing. */
export type Params = Partial<Record<CapturedParam, string>>;

/** Click-ID parameters, in the order they are read. */
export const CLICK_IDS = 'fbclid gclid wbraid gbraid ttclid msclkid'.split(' ') as ClickIdName[];

/** UTM parameters. */
export const UTMS = 'source medium campaign content term'.split(' ').map((k) => 'utm_' + k) as UtmName[];

/**
 * A UTM value is kept when it has 1 to 500 characters and no control character (C0,
 * DEL, C1). Meta's browser library ignores an fbclid over 500 characters (platforms.md
 * §2.1 rule 9); the same bound on every parameter keeps a crafted URL from bloating the cookie.
 */
export const validValue = (v: string | null | undefined): v is string => /^[^\0-\x1f\x7f-\x9f]{1,500}$/.test(v || '');

/**
 * A click ID (or browser id such as `_ttp`) is kept when it is 1 to 500 printable ASCII
 * characters without spaces: the shape of every platform's IDs, and what the collector
 * accepts. One malformed ID (`gclid=a+b` decodes to `a b`) would otherwise ride along in
 * the ledger and get every later event of the visitor rejected.
 */
export const validClickId = (v: string | null | undefined): v is string => /^[\x21-\x7e]{1,500}$/.test(v || '');

/**
 * The captured parameters of an absolute URL's query string (`{}` for `''` or an
 * unparsable URL). Values are decoded exactly once by `URLSearchParams` (`%2520` → `%20`,
 * `+` → space) and never case-changed: Meta's click ID "is case sensitive" (platforms.md §1.8).
 *
 * `fbclid` is also read from the fragment (`#fbclid=…`, `#/route?fbclid=…`), the query's
 * first: Meta's reference matches `[?#&]fbclid=` anywhere in the URL
 * (facebook/capi-param-builder, client_js/shared/utils/urlUtil.js, `getURLParameter`), and
 * some in-app browsers and redirects move the query behind the `#`. The first such match is
 * appended to the query, so one `URLSearchParams` decodes both alike. No other parameter is
 * read from the fragment: no reference does.
 */
export const readParams = (url: string): Params => {
  const q = attempt(() => new URLSearchParams(new URL(url).search + '&' + /[?#&](fbclid=[^&#]*)/.exec(url)?.[1]));
  const out: Params = {};
  for (const k of [...CLICK_IDS, ...UTMS]) {
    const v = q?.get(k);
    if ((UTMS.includes(k as UtmName) ? validValue : validClickId)(v)) out[k] = v as string;
  }
  return out;
};

/**
 * The parameters of a page load: a landing page that redirects in the browser loses its
 * query, but the next page's `document.referrer` still has it.
 *
 * - Click IDs: each one the page URL lacks (or has invalid) comes from the referrer, as
 *   Meta's reference takes the fbclid from the first of the page URL and the referrer that
 *   has one (facebook/capi-param-builder, client_js/shared/utils/cookieUtil.js,
 *   `getFbcFromQuery`; platforms.md §2.1 rule 5), whatever else the page URL carries.
 * - `ttclid` only from a referrer on the page's own hostname, as TikTok's template reads it
 *   (tiktok/gtm-template-eapi, template.js, `getTtclidFromUrl`: the referrer's hostname must
 *   equal the page's): a ttclid in another site's URL belongs to that site's click.
 * - UTMs describe one landing, so they come from one URL: the page URL's, or the
 *   referrer's only when the page URL has no parameter at all.
 */
export const captureParams = (url: string, referrer: string): Params => {
  const p = readParams(url);
  const r = readParams(referrer);
  if (attempt(() => new URL(referrer).hostname) != attempt(() => new URL(url).hostname)) delete r.ttclid;
  if (Object.keys(p)[0]) UTMS.map((k) => delete r[k]);
  return { ...r, ...p };
};
