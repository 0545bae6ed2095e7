/**
 * Launches Debian's Chromium (not a Playwright-downloaded build) for the
 * browser tests, with test host names mapped to the loopback test server.
 *
 * Why these hosts: `www.shop.example.co.uk` sits two labels below a public
 * suffix (`co.uk`), so the pixel must find `example.co.uk` as the cookie domain
 * and write `_fbc` as `fb.2.…` (platforms.md §1.8, §2.1 rule 8).
 * `collect.shop.example.co.uk` is the collector on a sibling subdomain (same
 * site, other origin: CORS with credentials). `other.example` is a plain-http
 * origin that is NOT treated as secure, so it has no WebCrypto and no
 * `crypto.randomUUID`.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Where Debian's `chromium` package installs the browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** The shop's landing host (secure context via the command line flag). */
export const SHOP = 'www.shop.example.co.uk';
/** The shop's apex host, also treated as secure. */
export const SHOP_APEX = 'shop.example.co.uk';
/** The collector's host, a sibling subdomain of the shop. */
export const COLLECT = 'collect.shop.example.co.uk';
/** A plain-http host that is not a secure context. */
export const OTHER = 'other.example';

/** The cookie domain the pixel should find for {@link SHOP}. */
export const SHOP_COOKIE_DOMAIN = '.example.co.uk';

/**
 * Launches a headless Chromium that resolves the test hosts to 127.0.0.1 and
 * treats the shop and collector origins on `port` as secure.
 * Throws (never skips) when Chromium is missing: a silently skipped browser
 * suite would hide every pixel regression.
 */
export async function launchChromium(port: number): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}. Install it with: apt-get install -y chromium (.ci/run does this)`,
    );
  }
  const secure = [SHOP, SHOP_APEX, COLLECT].map((host) => `http://${host}:${port}`).join(',');
  const rules = [SHOP, SHOP_APEX, COLLECT, OTHER].map((host) => `MAP ${host} 127.0.0.1`).join(', ');
  // launch() gives each browser a fresh temporary user-data dir, and every
  // newContext() is a fresh profile on top of it: no state leaks between tests.
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      `--host-resolver-rules=${rules}`,
      `--unsafely-treat-insecure-origin-as-secure=${secure}`,
    ],
  });
}
