/** Builders of request bodies used across the tests. */
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import type { TrackPayload } from '@pruuv/pixel';
import type { Running } from './harness.js';

/** The body of webhook-api.md's curl example, as written. */
export const CURL_EXAMPLE_BODY = `{
    "reference":    "CRM-REF-001",
    "utm_source":   "google",
    "utm_medium":   "cpc",
    "utm_campaign": "brand-search",
    "gclid":        "EAIaIQobCh...",
    "revenue_value": 250,
    "currency":     "GBP"
  }`;

/** A valid pixel beacon for `site`, stage `lead`. */
export function beacon(site: string, overrides: Partial<TrackPayload> = {}): TrackPayload {
  return {
    v: 1,
    site,
    stage: 'lead',
    event_id: randomUUID(),
    visitor_id: '3b241101-e2bb-4255-8caf-4136c566a962',
    reference: 'visitor-1',
    clicks: {},
    utm: {},
    url: 'https://www.shop.example/landing?x=1',
    client_time: '2026-03-02T09:59:58.000Z',
    consent: 'unspecified',
    ...overrides,
  };
}

/** The `User-Agent` of Chrome 131 on Windows, as a person's browser sends it. */
export const CHROME_USER_AGENT =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

/** What Chrome sends with the pixel's `fetch` to a collector on a sibling subdomain: its `User-Agent` and fetch metadata. */
export const BROWSER_HEADERS: Readonly<Record<string, string>> = {
  'user-agent': CHROME_USER_AGENT,
  'sec-fetch-site': 'same-site',
  'sec-fetch-mode': 'cors',
  'sec-fetch-dest': 'empty',
};

/**
 * POSTs a beacon the way the pixel does in a browser: text/plain JSON with an Origin and the
 * browser's headers ({@link BROWSER_HEADERS}; `headers` overrides them, `browser: false` leaves them out).
 */
export function postBeacon(
  run: Running,
  body: unknown,
  init: { origin?: string | null; headers?: Record<string, string>; raw?: string; path?: string; browser?: boolean } = {},
): Promise<Response> {
  const headers: Record<string, string> = {
    'content-type': 'text/plain;charset=UTF-8',
    ...(init.browser === false ? {} : BROWSER_HEADERS),
    ...init.headers,
  };
  const origin = init.origin === undefined ? 'https://www.shop.example' : init.origin;
  if (origin !== null) headers['origin'] = origin;
  return fetch(`${run.url}${init.path ?? '/e'}`, {
    method: 'POST',
    headers,
    body: init.raw ?? JSON.stringify(body),
  });
}

/** A raw HTTP request (fetch cannot set `Host`). */
export function rawRequest(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method, headers: init.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}
