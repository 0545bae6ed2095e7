/**
 * Re-issuing the pixel's first-party cookies from the server.
 *
 * Safari caps cookies written by script (`document.cookie`) at 7 days, or 1 day
 * after a click from a tracking domain with a query string, while cookies set
 * with `Set-Cookie` by the site's own server were not capped (platforms.md §6).
 * When the collector is served same-site with the landing page (a subdomain
 * such as `collect.example.com`, or a reverse-proxied path on the site itself),
 * the ingest response sets the cookies it received again, unchanged, for 90
 * days: the same trick as Meta's param builder `cookiesToSet` (platforms.md §1.8).
 * Pure functions; the ingest route sends the headers.
 */
import { isIP } from 'node:net';

/** Cookies re-issued: Meta's `_fbc`/`_fbp` and the pixel's own. */
export const REISSUED_COOKIES = ['_fbc', '_fbp', '_pruuv_vid', '_pruuv'] as const;

/** Lifetime of re-issued cookies: 90 days, as Meta recommends for `_fbc`/`_fbp` (platforms.md §1.8). */
export const REISSUE_MAX_AGE_SECONDS = 90 * 24 * 60 * 60;

/** RFC 6265 §4.1.1 cookie-octets: what may appear in a cookie value unquoted. */
const COOKIE_VALUE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]{1,4000}$/;

/** Parses a `Cookie` request header; the first of repeated names wins. Values are kept as sent (not decoded). */
export function parseCookieHeader(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name !== '' && !cookies.has(name)) cookies.set(name, value);
  }
  return cookies;
}

function labelsOf(host: string): string[] | undefined {
  const h = host.toLowerCase().replace(/\.$/, '');
  // IPs (IPv6 bracketed in URLs) have no registrable domain to share.
  if (h === '' || h.startsWith('[') || isIP(h) !== 0) return undefined;
  return h.split('.');
}

/**
 * The longest common dot-suffix of two hosts when it has at least two labels
 * (`www.example.com` and `collect.example.com` → `example.com`), else `undefined`
 * (cross-site, `localhost`, IP addresses). Without a public-suffix list this can
 * return a public suffix such as `co.uk` for two unrelated sites; browsers
 * refuse cookies on public suffixes, so such a `Set-Cookie` is ignored.
 */
export function sharedDomain(pageHost: string, requestHost: string): string | undefined {
  const a = labelsOf(pageHost);
  const b = labelsOf(requestHost);
  if (!a || !b) return undefined;
  const common: string[] = [];
  for (let i = 1; i <= Math.min(a.length, b.length); i++) {
    const label = a[a.length - i]!;
    if (label === '' || label !== b[b.length - i]) break;
    common.unshift(label);
  }
  return common.length >= 2 ? common.join('.') : undefined;
}

/**
 * The `subdomainIndex` of a Meta cookie value (`fb.{index}.{time}.{id}`), i.e. the
 * number of labels of the domain it was written on minus one (platforms.md §1.8).
 */
function metaSubdomainIndex(value: string | undefined): number | undefined {
  const match = value === undefined ? null : /^fb\.(\d{1,2})\.\d+\./.exec(value);
  return match ? Number(match[1]) : undefined;
}

/** Inputs of {@link reissueCookies}. */
export interface ReissueInput {
  /** The request's `Cookie` header. */
  cookieHeader: string | undefined;
  /** The page's origin (the request's `Origin` header), e.g. `https://www.example.com`. */
  pageOrigin: string;
  /** The host the request was sent to (`req.hostname`, which honours `trust proxy`). */
  requestHost: string;
}

/**
 * `Set-Cookie` values re-issuing the pixel's cookies on the domain shared by the
 * page and the collector, or none when the request is cross-site.
 *
 * The domain is the shared suffix, narrowed to the domain the pixel wrote its
 * cookies on when a `_fbp`/`_fbc` tells it (its subdomainIndex + 1 labels):
 * with the collector proxied on the page's own host (`www.example.com/e`) the
 * shared suffix is the whole host, but the pixel wrote on `example.com`, and a
 * second cookie of the same name on `www.example.com` would shadow it.
 */
export function reissueCookies(input: ReissueInput): string[] {
  let page: URL;
  try {
    page = new URL(input.pageOrigin);
  } catch {
    return [];
  }
  if (page.protocol !== 'https:' && page.protocol !== 'http:') return [];
  const shared = sharedDomain(page.hostname, input.requestHost);
  if (!shared) return [];
  const cookies = parseCookieHeader(input.cookieHeader);
  let labels = shared.split('.');
  const index = metaSubdomainIndex(cookies.get('_fbp')) ?? metaSubdomainIndex(cookies.get('_fbc'));
  if (index !== undefined && index + 1 >= 2 && index + 1 < labels.length) labels = labels.slice(-(index + 1));
  const domain = labels.join('.');
  const secure = page.protocol === 'https:' ? '; Secure' : '';
  const out: string[] = [];
  for (const name of REISSUED_COOKIES) {
    const value = cookies.get(name);
    if (value === undefined || !COOKIE_VALUE.test(value)) continue;
    out.push(`${name}=${value}; Domain=${domain}; Path=/; Max-Age=${REISSUE_MAX_AGE_SECONDS}; SameSite=Lax${secure}`);
  }
  return out;
}
