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

/** POSTs a beacon the way the pixel does: text/plain JSON with an Origin. */
export function postBeacon(
  run: Running,
  body: unknown,
  init: { origin?: string | null; headers?: Record<string, string>; raw?: string; path?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'text/plain;charset=UTF-8', ...init.headers };
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
