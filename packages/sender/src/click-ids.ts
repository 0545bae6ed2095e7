/**
 * The click IDs Pruuv captures, defined once. Each platform adapter accepts a
 * subset of them (`clickIds` in `platforms/<name>/index.ts`); `msclkid`
 * belongs to no adapter yet: the pixel and the collector capture it for the
 * Microsoft Advertising adapter to come (microsoft-ads.md). The first-party
 * cookie IDs are listed here too: each adapter names those it matches with
 * (`cookieIds`).
 */

/** Every click ID a conversion may carry, in the order the platforms come in the registry. */
export const CLICK_ID_NAMES = ['fbclid', 'gclid', 'wbraid', 'gbraid', 'ttclid', 'msclkid'] as const;

/** A click ID a conversion may carry. */
export type ClickIdName = (typeof CLICK_ID_NAMES)[number];

/**
 * Every first-party cookie ID a conversion may carry, as the event stores it: Meta's `_fbc`
 * (a click, wrapped) and `_fbp` (the browser), TikTok's `_ttp`.
 */
export const COOKIE_ID_NAMES = ['fbc', 'fbp', 'ttp'] as const;

/** A first-party cookie ID a conversion may carry. */
export type CookieIdName = (typeof COOKIE_ID_NAMES)[number];
