/**
 * The registrable domain to write cookies on, and Meta's subdomainIndex. Pure: the
 * cookie write is injected.
 */

const isIp = (host: string): boolean => /^[\d.]+$|:/.test(host);

/**
 * The highest domain of `host` that accepts a cookie, found by probe-writing one
 * at each level from the top: browsers refuse a cookie on a public suffix, so for
 * `www.shop.example.co.uk` the probes on `co.uk` fail and `example.co.uk` is the
 * answer, with no suffix list shipped. Single-label hosts (`localhost`) and IPs get
 * `''`: a host-only cookie, no `Domain` attribute. `''` too when every probe fails.
 *
 * @param probe writes a test cookie on `domain` and says whether it reads back.
 */
export const findDomain = (host: string, probe: (domain: string) => boolean): string => {
  const labels = host.split('.');
  // The top label alone (`com`, `uk`) is always a public suffix: start one below it.
  for (let i = labels.length - 1; !isIp(host) && i--; ) {
    const d = labels.slice(i).join('.');
    if (probe(d)) return d;
  }
  return '';
};

/**
 * Meta's subdomainIndex of a cookie domain: labels − 1 (`example.com` → 1,
 * `example.co.uk` → 2), 0 for `localhost` or an IP (platforms.md §2.1 "For this project").
 */
export const subdomainIndex = (domain: string): number =>
  isIp(domain) ? 0 : domain.replace(/^\./, '').split('.').length - 1;
