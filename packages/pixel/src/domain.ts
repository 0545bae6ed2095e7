/**
 * The registrable domain to write cookies on, and Meta's subdomainIndex. Pure: the
 * cookie write is injected.
 */

const isIp = (host: string): boolean => /^[\d.]+$|:/.test(host);

/**
 * Every domain a cookie of `host` can be set on, from `host` itself to its top label:
 * `www.example.co.uk` → `www.example.co.uk`, `example.co.uk`, `co.uk`, `uk`.
 */
export const levels = (host: string): string[] => host.split('.').map((_, i, l) => l.slice(i).join('.'));

/**
 * The highest domain of `host` that accepts a cookie, found by probe-writing one
 * at each level from the top: browsers refuse a cookie on a public suffix, so for
 * `www.shop.example.co.uk` the probes on `co.uk` fail and `example.co.uk` is the
 * answer, with no suffix list shipped. Single-label hosts (`localhost`) and IPs get
 * `''`: a host-only cookie, no `Domain` attribute. `''` too when every probe fails.
 *
 * @param probe writes a test cookie on `domain` and says whether it reads back.
 */
export const findDomain = (host: string, probe: (domain: string) => boolean): string =>
  // The top label alone (`com`, `uk`) is always a public suffix: start one below it.
  (!isIp(host) && levels(host).reverse().slice(1).find(probe)) || '';

/**
 * Meta's subdomainIndex of a cookie domain: labels − 1 (`example.com` → 1,
 * `example.co.uk` → 2), 0 for `localhost` or an IP (platforms.md §2.1 "For this project").
 */
export const subdomainIndex = (domain: string): number =>
  isIp(domain) ? 0 : domain.replace(/^\./, '').split('.').length - 1;
