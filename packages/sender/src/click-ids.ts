/**
 * The click IDs Pruuv captures, defined once. Each platform adapter accepts a
 * subset of them (`clickIds` in `platforms/<name>/index.ts`); `msclkid`
 * belongs to no adapter yet: the pixel and the collector capture it for the
 * Microsoft Advertising adapter to come (microsoft-ads.md).
 */

/** Every click ID a conversion may carry, in the order the platforms come in the registry. */
export const CLICK_ID_NAMES = ['fbclid', 'gclid', 'wbraid', 'gbraid', 'ttclid', 'msclkid'] as const;

/** A click ID a conversion may carry. */
export type ClickIdName = (typeof CLICK_ID_NAMES)[number];
