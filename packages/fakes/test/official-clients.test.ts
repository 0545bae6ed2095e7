/**
 * Each platform's official client library (where one is on npm), driven
 * against the fake over real HTTP on 127.0.0.1, must succeed (issue 13, item 11):
 * a fake that refused a real client would hide bugs and refuse valid callers.
 * Every client here runs offline: its base URL is pointed at the fake, and no
 * token is fetched from the network.
 *
 * - Meta: `facebook-nodejs-business-sdk` (the Business SDK; `FacebookAdsApi.GRAPH`,
 *   its base URL, is a static getter, redefined here for the test).
 * - Google Data Manager: `@google-ads/datamanager` in its HTTP/1.1 REST mode
 *   (`fallback: true`), which sends enums as numbers (`$alt=json;enum-encoding=int`).
 * - TikTok: no official Node client is published on npm (TikTok's Business API SDK
 *   for JavaScript is installed from its Git repository), so the test sends the
 *   exact request body TikTok's own Events API template produces, from its tests.
 */
import { createRequire } from 'node:module';
import { IngestionServiceClient } from '@google-ads/datamanager';
import { TIKTOK_TEST_GA_BODY } from '@pruuv/testkit/reference/tiktok-gtm-template';
import { OAuth2Client } from 'google-auth-library';
import { afterEach, describe, expect, it } from 'vitest';
import { T0_SECONDS, fakesForTests, postJson, sha256 } from './fakes-helpers.js';

const google = {
  customers: ['1234567890'], conversionActions: ['987654321'], clientId: 'fake-client-id.apps.googleusercontent.com',
  clientSecret: 'fake-client-secret', refreshTokens: ['fake-refresh-token'],
};
const suite = await fakesForTests({ google, tiktok: { pixelCodes: ['1234', 'CFAKEPIXEL0000000000'], tokens: ['fake-tiktok-token'] } });
const { fakes } = suite;

/** The Business SDK's classes (CommonJS, no types): only what the test calls. */
interface BusinessSdk {
  FacebookAdsApi: { readonly GRAPH: string };
  EventRequest: new (token: string, pixelId: string) => { setEvents(e: unknown[]): unknown; execute(): Promise<{ events_received?: number; _events_received?: number }> };
  ServerEvent: new () => Record<string, (v: unknown) => unknown>;
  UserData: new () => Record<string, (v: unknown) => unknown>;
  CustomData: new () => Record<string, (v: unknown) => unknown>;
}
const sdk = createRequire(import.meta.url)('facebook-nodejs-business-sdk') as BusinessSdk;

describe("Meta's Business SDK (facebook-nodejs-business-sdk)", () => {
  const listeners = process.listeners('uncaughtException');
  afterEach(() => {
    // EventRequest enables the SDK's crash reporter (an uncaughtException listener): remove it again.
    for (const l of process.listeners('uncaughtException')) if (!listeners.includes(l)) process.removeListener('uncaughtException', l);
  });

  it('sends a server event with every user_data field it has, and the fake takes it', async () => {
    const graph = Object.getOwnPropertyDescriptor(sdk.FacebookAdsApi, 'GRAPH')!;
    Object.defineProperty(sdk.FacebookAdsApi, 'GRAPH', { get: () => fakes.urls.meta, configurable: true });
    try {
      const user = new sdk.UserData();
      for (const [setter, value] of Object.entries({
        setEmails: ['ada@example.com'], setPhones: ['16505551212'], setFirstNames: ['Ada'], setLastNames: ['Lovelace'],
        setDatesOfBirth: ['19970216'], setGenders: ['f'], setCities: ['London'], setStates: ['ca'], setZips: ['94035'],
        setCountries: ['us'], setExternalIds: ['crm-42'], setClientIpAddress: '203.0.113.9', setClientUserAgent: 'Mozilla/5.0',
        setFbc: 'fb.1.1763640000000.IwAR2abcDEF', setFbp: 'fb.1.1763640000000.1116446470', setF5First: 'ada', setF5Last: 'lovel',
        setFi: 'a', setDobd: '16', setDobm: '02', setDoby: '1997', setSubscriptionId: 'sub-1', setLeadId: '1234567890123456',
      })) user[setter]!.call(user, value);
      const custom = new sdk.CustomData();
      custom['setValue']!.call(custom, 142.52);
      custom['setCurrency']!.call(custom, 'usd');
      const event = new sdk.ServerEvent();
      for (const [setter, value] of Object.entries({
        setEventName: 'Purchase', setEventTime: T0_SECONDS - 60, setEventId: 'sdk-evt-1', setActionSource: 'website',
        setEventSourceUrl: 'https://shop.example/thanks', setUserData: user, setCustomData: custom,
        setAdvancedMeasurementTable: 'amt-1', setAdvertiserTrackingEnabled: true,
      })) event[setter]!.call(event, value);
      const request = new sdk.EventRequest('fake-meta-token', '1234567890123456');
      request.setEvents([event]);
      const answer = await request.execute();
      expect(answer.events_received ?? answer._events_received).toBe(1);
      expect(fakes.counted('meta').size).toBe(1);
    } finally {
      Object.defineProperty(sdk.FacebookAdsApi, 'GRAPH', graph);
    }
  });
});

describe("Google's Data Manager client (@google-ads/datamanager)", () => {
  it('ingests an event and reads its status, enums sent as numbers', async () => {
    const { hostname, port } = new URL(fakes.urls.dataManager);
    const authClient = new OAuth2Client();
    authClient.setCredentials({ access_token: suite.token, expiry_date: Date.now() + 3_600_000 });
    const client = new IngestionServiceClient({ fallback: true, apiEndpoint: hostname, port: Number(port), protocol: 'http', authClient });
    try {
      const [answer] = await client.ingestEvents({
        destinations: [{ operatingAccount: { accountType: 'GOOGLE_ADS', accountId: '1234567890' }, productDestinationId: '987654321' }],
        events: [{
          transactionId: 'official-client-1',
          eventTimestamp: { seconds: T0_SECONDS - 3600 },
          eventSource: 'WEB',
          adIdentifiers: { gclid: 'Cj0KCQiAfake1' },
          conversionValue: 129.5,
          currency: 'EUR',
          userData: { userIdentifiers: [{ emailAddress: sha256('dana.smith@example.com') }, { phoneNumber: sha256('+18005550100') }] },
          consent: { adUserData: 'CONSENT_GRANTED', adPersonalization: 'CONSENT_DENIED' },
        }],
        encoding: 'HEX',
      });
      expect(answer.requestId).toEqual(expect.any(String));
      expect(fakes.counted('google').size).toBe(1);
      const ingest = fakes.requests('dataManager').find((r) => r.method === 'POST')!;
      expect(ingest.query['$alt']).toBe('json;enum-encoding=int');
      expect(ingest.body).toMatchObject({ encoding: 1, events: [{ eventSource: 1, consent: { adUserData: 1, adPersonalization: 2 } }] });
      const [status] = await client.retrieveRequestStatus({ requestId: answer.requestId! });
      expect(status.requestStatusPerDestination?.[0]?.requestStatus).toBe('PROCESSING');
    } finally {
      await client.close();
    }
  });
});

describe("TikTok's Events API template request (no official Node client on npm)", () => {
  it('takes the body the template sends: no ttclid, hashed email and phone', async () => {
    const body = structuredClone(TIKTOK_TEST_GA_BODY) as unknown as { data: Array<Record<string, unknown>> };
    body.data[0]!['event_time'] = T0_SECONDS - 60;
    const r = await postJson(`${fakes.urls.tiktok}/open_api/v1.3/event/track/`, body, { 'access-token': 'fake-tiktok-token', 'content-type': 'application/json' });
    expect(r.body).toMatchObject({ code: 0, message: 'OK' });
  });

  it('takes the upper-case hashes the template passes through unchanged (its isHashed: ^[A-Fa-f0-9]{64}$)', async () => {
    const body = structuredClone(TIKTOK_TEST_GA_BODY) as unknown as { data: Array<Record<string, any>> };
    const event = body.data[0]!;
    event['event_time'] = T0_SECONDS - 60;
    event['user'] = { email: event['user'].email.toUpperCase(), phone: event['user'].phone.toUpperCase() };
    const r = await postJson(`${fakes.urls.tiktok}/open_api/v1.3/event/track/`, body, { 'access-token': 'fake-tiktok-token' });
    expect(r.body).toMatchObject({ code: 0, message: 'OK' });
  });
});
