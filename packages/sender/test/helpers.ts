/** Shared fixtures for the sender tests. */
import { createHash } from 'node:crypto';
import type { GoogleConnection } from '../src/platforms/google/connection.js';
import type { MetaConnection } from '../src/platforms/meta/connection.js';
import type { MicrosoftConnection } from '../src/platforms/microsoft/connection.js';
import type { TikTokConnection } from '../src/platforms/tiktok/connection.js';
import type { ConversionEvent } from '../src/types.js';

export const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

/** Published vectors (platforms.md §1.4, §3.3, §4.2; google-data-manager.md §5). */
export const VECTORS = {
  metaEmail: { input: 'john_smith@gmail.com', hash: '62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f' },
  metaPhone: { input: '16505551212', hash: 'e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176' },
  googlePhone: { input: '+18005550102', hash: 'c5383c2eeada28210d27f011bc127d4f9562cf38ff0c9bba33dd45ae79b9fe7c' },
  tiktokPhone: { input: '+12133734253', hash: '9f7ec22d72092cd3c0b58726ed9c2d91b92e51a3f29837508fb2948bb22dd2fd' },
  dmEmail: { input: 'alexz@example.com', hash: '509e933019bb285a134a9334b8bb679dff79d0ce023d529af4bd744d47b4fd8a' },
  externalId: { input: ' USER_123 ', hash: '80fba0ae1c48e3978e43e4efc365e14e12ea0c830ba8ba5b9a2dafc7e3f2ab8b' },
} as const;

export const NOW = new Date('2026-11-20T15:00:00.000Z');

let seq = 0;
/** A valid webhook lead with a gclid, fbclid and ttclid an hour before `NOW`. */
export function makeEvent(overrides: Partial<ConversionEvent> = {}): ConversionEvent {
  seq += 1;
  return {
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    client_id: 'cli_1',
    stage_id: 'stg_lead',
    stage_key: 'lead',
    reference: 'crm-42',
    event_time: '2026-11-20T14:00:00.000Z',
    source: 'webhook',
    consent: 'granted',
    clicks: {
      fbclid: { value: 'IwAR0AbCdEf', ts: '2026-11-20T13:00:00.000Z' },
      gclid: { value: 'Cj0KCQiA-test', ts: '2026-11-20T08:00:00.000Z' },
      ttclid: { value: 'E.C.P.tt-test', ts: '2026-11-20T13:00:00.000Z' },
    },
    ...overrides,
  };
}

export const metaConnection = (o: Partial<MetaConnection> = {}): MetaConnection => ({
  platform: 'meta',
  pixel_id: '1234567890123456',
  access_token: 'fake-meta-token',
  ...o,
});

export const googleConnection = (o: Partial<GoogleConnection> = {}): GoogleConnection => ({
  platform: 'google',
  api: 'data-manager',
  customer_id: '1234567890',
  conversion_action_id: '987654321',
  client_id: 'fake-client-id.apps.googleusercontent.com',
  client_secret: 'fake-client-secret',
  refresh_token: 'fake-refresh-token',
  ...o,
});

export const tiktokConnection = (o: Partial<TikTokConnection> = {}): TikTokConnection => ({
  platform: 'tiktok',
  pixel_code: 'CFAKEPIXEL0000000000',
  access_token: 'fake-tiktok-token',
  ...o,
});

/** A Microsoft connection for the fake's default customer, account and goal (enhanced conversions on). */
export const microsoftConnection = (o: Partial<MicrosoftConnection> = {}): MicrosoftConnection => ({
  platform: 'microsoft',
  customer_id: '251000001',
  account_id: '180000001',
  goal_name: 'Pruuv offline conversions',
  enhanced_conversions: true,
  refresh_token: 'M.C-fake-microsoft-refresh-token',
  developer_token: 'FAKEDEVTOKEN01',
  client_id: '4c0b7e2a-0000-4000-8000-00000000a001',
  client_secret: 'fake-microsoft-client-secret',
  ...o,
});

/** An HttpResponse for classifier tests. */
export function response(status: number, json: unknown, headers: Record<string, string> = {}) {
  const text = json === undefined ? '' : typeof json === 'string' ? json : JSON.stringify(json);
  let parsed: unknown;
  try {
    parsed = typeof json === 'string' ? JSON.parse(json) : json;
  } catch {
    parsed = undefined;
  }
  return { status, headers, text, json: parsed };
}
