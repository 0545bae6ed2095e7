/**
 * Signals that a pixel beacon came from a person's browser, read from the request headers.
 *
 * The site key is public, so a beacon can be forged from any HTTP client with the page's
 * `Origin` copied in. What a script on a page cannot forge are the headers the browser sets
 * itself: `Sec-Fetch-*` are forbidden request headers (Fetch standard, "forbidden request-header";
 * W3C Fetch Metadata Request Headers), and a browser's `User-Agent` starts with `Mozilla/5.0 (`.
 * A beacon that lacks them, or that names a known bot, is stored but **held**: never sent to the
 * ad platforms until an admin releases it (`pruuv events release`). Nothing is dropped, so an
 * old browser's conversion waits, visible, instead of being lost.
 *
 * | signal | check | hold reason | browsers that send it |
 * | --- | --- | --- | --- |
 * | `bot` | `User-Agent` matched by `isbot` (crawlers, headless browsers, HTTP libraries: curl, node, python-requests…) | `bot_user_agent` | (a person's browser never matches) |
 * | `user_agent` | `User-Agent` present and starting with `Mozilla/5.0 (` | `no_user_agent`, `not_a_browser_user_agent` | every browser in use (Chrome, Edge, Firefox, Safari, Samsung Internet, Opera) |
 * | `fetch_metadata` | `Sec-Fetch-Site` and `Sec-Fetch-Mode` present | `no_fetch_metadata` | Chrome 76+, Edge 79+, Opera 63+, Firefox 90+, Safari 16.4+ (iOS 16.4+), to HTTPS collectors only (browsers send them to "potentially trustworthy" URLs) |
 * | `fetch_metadata` | not a navigation: `Sec-Fetch-Mode` is not `navigate`/`websocket`, `Sec-Fetch-Site` is not `none`, `Sec-Fetch-Dest` (when sent, Chrome 80+) is `empty` | `not_a_beacon` | what `fetch` and `sendBeacon` send: mode `cors` or `no-cors`, dest `empty` |
 *
 * Browsers held by `fetch_metadata` although a person uses them: Safari before 16.4 (iOS 16.3
 * and older: phones that cannot update), Firefox before 90, Chrome before 76, and any browser
 * posting to a collector on plain `http://` (serve it over HTTPS; or drop the signal with
 * `PRUUV_PIXEL_HOLD=bot,user_agent`).
 */
import { isbot } from 'isbot';

/** The signals `PRUUV_PIXEL_HOLD` can turn on, in the order they are checked. */
export const BEACON_SIGNALS = ['bot', 'user_agent', 'fetch_metadata'] as const;

/** One signal of {@link BEACON_SIGNALS}. */
export type BeaconSignal = (typeof BEACON_SIGNALS)[number];

/** Why a stored beacon is held, one code per failed check. */
export const HOLD_REASONS = ['bot_user_agent', 'no_user_agent', 'not_a_browser_user_agent', 'no_fetch_metadata', 'not_a_beacon'] as const;

/** One reason of {@link HOLD_REASONS}. */
export type HoldReason = (typeof HOLD_REASONS)[number];

/** The request headers the checks read (lower-case names, as Node gives them). */
export interface BeaconHeaders {
  'user-agent'?: string | undefined;
  'sec-fetch-site'?: string | undefined;
  'sec-fetch-mode'?: string | undefined;
  'sec-fetch-dest'?: string | undefined;
}

/** Every browser's `User-Agent` since the early 2000s starts so (RFC 9110 §10.1.5 product tokens, then the platform in parentheses). */
const BROWSER_USER_AGENT = /^Mozilla\/5\.0 \(/;

/**
 * Why a beacon with these headers must be held, `undefined` when every enabled check passes.
 * The first failed check in {@link BEACON_SIGNALS} order gives the reason.
 *
 * @param signals - The checks to run. Defaults to all of {@link BEACON_SIGNALS}.
 */
export function holdReason(headers: BeaconHeaders, signals: ReadonlySet<BeaconSignal> = new Set(BEACON_SIGNALS)): HoldReason | undefined {
  const ua = headers['user-agent']?.trim() ?? '';
  if (signals.has('bot') && ua !== '' && isbot(ua)) return 'bot_user_agent';
  if (signals.has('user_agent')) {
    if (ua === '') return 'no_user_agent';
    if (!BROWSER_USER_AGENT.test(ua)) return 'not_a_browser_user_agent';
  }
  if (signals.has('fetch_metadata')) {
    const site = headers['sec-fetch-site'];
    const mode = headers['sec-fetch-mode'];
    if (site === undefined || mode === undefined) return 'no_fetch_metadata';
    const dest = headers['sec-fetch-dest'];
    // fetch() and sendBeacon() are `cors` or `no-cors`, destination `empty`, initiated by a page (never `none`).
    if (mode === 'navigate' || mode === 'websocket' || site === 'none' || (dest !== undefined && dest !== 'empty')) return 'not_a_beacon';
  }
  return undefined;
}
