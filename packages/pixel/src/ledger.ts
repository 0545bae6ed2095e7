/**
 * The click ledger and the first/last touch. Pure: updates a `Saved` object.
 */
import { CLICK_IDS, UTMS, validClickId, type Params } from './params.js';
import { pick } from './pick.js';
import type { ClickIdName, ClickLedger, Touch, UtmName } from './types.js';

/**
 * What Pruuv keeps in its `_pruuv` cookie (and localStorage mirror).
 * `fbc` / `fbp` are the values Pruuv itself wrote, so that `consent(false)`
 * removes those and never a cookie Meta's own pixel wrote.
 */
export interface Saved {
  clicks: ClickLedger;
  first_touch?: Touch;
  last_touch?: Touch;
  fbc?: string;
  fbp?: string;
  /** The cookie domain a probe found (`''`: host-only), kept so that later loads need not probe. */
  d?: string;
}

/** ISO 8601 UTC of an epoch-milliseconds time. */
export const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The UTMs of a parameter set, in a fixed order (so two sets compare as JSON). A UTM the
 * set lacks is an `undefined` value, which JSON leaves out.
 */
export const utmOf = (p?: Params): Partial<Record<UtmName, string>> => pick(p, UTMS) as Partial<Record<UtmName, string>>;

/**
 * Records one landing's parameters at time `now` (epoch ms).
 *
 * - Ledger: a click ID seen for the first time, or with a new value, gets `now` as
 *   its first-seen time; the same value seen again keeps its first time, because it
 *   decides Google's click-through window and Meta's `_fbc` creation time.
 * - Last touch: replaced when a new click ID value or a different UTM set arrives.
 *   First touch: set once, never overwritten.
 * Touch URLs are cut at 500 characters to keep the `_pruuv` cookie small.
 */
export const record = (s: Saved, p: Params, url: string, now: number): void => {
  const ts = iso(now);
  const u = JSON.stringify(utmOf(p));
  let fresh = u != '{}' && u != JSON.stringify(utmOf(s.last_touch?.params));
  for (const k of CLICK_IDS) {
    const v = p[k];
    if (v && s.clicks[k]?.value != v) {
      s.clicks[k] = { value: v, ts };
      fresh = true;
    }
  }
  if (fresh) {
    s.last_touch = { params: p, url: url.slice(0, 500), ts };
    s.first_touch ||= s.last_touch;
  }
};

/**
 * Fills a ledger gap from a Google tag cookie (`_gcl_aw` holds a gclid, `_gcl_gb` a
 * gbraid), whose value is `GCL.{unixSeconds}.{clickId}`. Used only when the ledger
 * has no entry for that ID: our own first-seen time is better than the tag's.
 */
export const gclFallback = (s: Saved, id: ClickIdName, cookie: string | null | undefined): void => {
  // At most 10 digits of seconds (year 2286): a longer time would make toISOString throw.
  const m = /^GCL\.(\d{1,10})\.([^.]+)/.exec(cookie as string);
  if (m && !s.clicks[id] && validClickId(m[2])) s.clicks[id] = { value: m[2], ts: iso(+(m[1] as string) * 1000) };
};
