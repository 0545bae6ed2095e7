/**
 * A client connected to the Meta, Google and TikTok fakes, and due conversions for it,
 * on a store of either engine (the soak suite's send tests). Its events carry no msclkid:
 * their Microsoft rows end `skipped` at the first pass (Microsoft's SIGKILL and fault cases
 * are test/send-crash.test.ts and test/send-microsoft.test.ts).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { parseKeyRing, type Platform } from '@pruuv/sender';
import type { FakePlatforms } from '@pruuv/fakes';
import { createConnections } from '../../src/domain/connections.js';
import type { Client, Store } from '../../src/store/types.js';
import { FAKE_FIELDS } from '../../test/send-helpers.js';

/** The platforms these tests connect and count. */
export const PLATFORMS: readonly Platform[] = ['meta', 'google', 'tiktok'];

export interface Connected {
  client: Client;
  /** The `PRUUV_ENCRYPTION_KEY` the connections are encrypted with. */
  key: string;
}

/** A client with connections to the fakes' seeded accounts. */
export async function connectedClient(store: Store): Promise<Connected> {
  const key = randomBytes(32).toString('base64');
  const client = await store.clients.create({ name: 'Soak' });
  const connections = createConnections(store);
  for (const platform of PLATFORMS) await connections.set({ client_id: client.id, platform, fields: FAKE_FIELDS[platform] }, parseKeyRing(key));
  return { client, key };
}

/**
 * Admits `count` webhook events with a Meta, a Google and a TikTok click an hour before `at`,
 * on a new lead stage `lead_{prefix}` (a stage takes 1,000 events an hour); returns their ids.
 */
export async function admitDue(store: Store, { client }: Connected, count: number, at: Date, prefix: string): Promise<string[]> {
  const { stage } = await store.stages.create({ client_id: client.id, key: `lead_${prefix}`, name: `Lead ${prefix}` });
  const clickTs = new Date(at.getTime() - 3_600_000).toISOString();
  const admitted = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      store.events.admit(
        {
          id: randomUUID(),
          client_id: client.id,
          stage_id: stage.id,
          stage_key: stage.key,
          source: 'webhook',
          reference: `${prefix}-${i}`,
          consent: 'granted',
          clicks: {
            fbclid: { value: `IwAR-${prefix}-${i}`, ts: clickTs },
            gclid: { value: `Cj0-${prefix}-${i}`, ts: clickTs },
            ttclid: { value: `E.C.P.${prefix}-${i}`, ts: clickTs },
          },
          utm: {},
          demographics: {},
        },
        at,
      ),
    ),
  );
  return admitted.map((a) => {
    if (a.status !== 'stored') throw new Error(`event not stored: ${a.status}`);
    return a.event.id;
  });
}

/** The `PRUUV_*_URL` variables that point a `pruuv` process at the fakes. */
export function fakeUrlEnv(fakes: FakePlatforms): Record<string, string> {
  return {
    PRUUV_META_API_URL: fakes.urls.meta,
    PRUUV_GOOGLE_ADS_API_URL: fakes.urls.googleAds,
    PRUUV_GOOGLE_DATA_MANAGER_API_URL: fakes.urls.dataManager,
    PRUUV_GOOGLE_OAUTH_TOKEN_URL: fakes.urls.oauthToken,
    PRUUV_TIKTOK_API_URL: fakes.urls.tiktok,
  };
}

/**
 * Problems with what a fake platform counted, given the event ids it should have counted once
 * each: missing ids, keys counted a second time after the dedup window (`#2`), keys of no event.
 */
export function countProblems(fakes: FakePlatforms, platform: Platform, eventIds: readonly string[]): string[] {
  const keys = [...fakes.counted(platform).keys()];
  const problems = keys.filter((k) => k.includes('#') || k.includes('~')).map((k) => `${platform}: counted again: ${k}`);
  // Keys end in (Meta, Google) or contain (TikTok: `{source}:{event_id}:{event}`) the event id.
  const ids = new Set(keys.map((k) => k.split(':').find((part) => /^[0-9a-f-]{36}$/.test(part))));
  for (const id of eventIds) if (!ids.has(id)) problems.push(`${platform}: never counted: ${id}`);
  if (keys.length !== eventIds.length) problems.push(`${platform}: ${keys.length} counted for ${eventIds.length} events`);
  return problems;
}
