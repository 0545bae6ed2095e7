/**
 * Launches the test browser (Chromium's headless shell from npm, prepared once
 * per run by `@pruuv/testkit/chromium-setup`; `PRUUV_CHROMIUM` overrides it)
 * with the test host names mapped to the loopback test server.
 *
 * Why these hosts: `www.shop.example.co.uk` sits two labels below a public
 * suffix (`co.uk`), so the pixel must find `example.co.uk` as the cookie domain
 * and write `_fbc` as `fb.2.…` (platforms.md §1.8, §2.1 rule 8).
 * `collect.shop.example.co.uk` is the collector on a sibling subdomain (same
 * site, other origin: CORS with credentials). These three are served over
 * HTTPS with a throwaway certificate, so they are secure contexts as in
 * production. `other.example` is served over plain HTTP: NOT a secure context,
 * so it has no WebCrypto and no `crypto.randomUUID`.
 */
import type { Browser } from 'playwright-core';
import { launchBrowser } from '@pruuv/testkit/browser';

/** The shop's landing host (HTTPS). */
export const SHOP = 'www.shop.example.co.uk';
/** The shop's apex host (HTTPS). */
export const SHOP_APEX = 'shop.example.co.uk';
/** The collector's host, a sibling subdomain of the shop (HTTPS). */
export const COLLECT = 'collect.shop.example.co.uk';
/** A plain-http host that is not a secure context. */
export const OTHER = 'other.example';

/** The hosts served over HTTPS. */
export const SECURE_HOSTS: readonly string[] = [SHOP, SHOP_APEX, COLLECT];

/** The cookie domain the pixel should find for {@link SHOP}. */
export const SHOP_COOKIE_DOMAIN = '.example.co.uk';

/**
 * Launches the run's headless Chromium with every test host resolving to
 * 127.0.0.1. Contexts must be opened with `ignoreHTTPSErrors` (the test
 * certificate is self-signed); {@link useSuite} does.
 */
export function launchChromium(): Promise<Browser> {
  const rules = [...SECURE_HOSTS, OTHER].map((host) => `MAP ${host} 127.0.0.1`).join(', ');
  return launchBrowser([`--host-resolver-rules=${rules}`]);
}
