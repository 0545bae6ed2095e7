/**
 * A few days of demo history, so every dashboard page has something to show
 * after `npm start`: webhook leads and sales and pixel page views spread over
 * the last days, sent to the SANDBOX platforms by real send passes run "as of"
 * each day (the sender's clock), with the skips a real funnel has (events
 * without a click ID), and the identifiers real visitors bring (Meta's `_fbp`
 * and `_fbc` cookies, TikTok's `_ttp`, hashed emails and phones of the forms).
 * Everything goes through the store's own admission and the real send runtime,
 * so counts, roll-ups and the audit log agree. Ids come from the seeded
 * generator too: the same history, ids included, on every run.
 *
 * A development path like the demo itself (left out of the published package).
 */
import { createHash } from 'node:crypto';
import { DEFAULT_VERSIONS, type KeyRing, type PlatformUrls } from '@pruuv/sender';
import { createSender } from './send/sender.js';
import type { Client, NewEvent, Stage, Store } from './store/types.js';

/** What {@link seedDemoHistory} needs. */
export interface DemoHistoryOptions {
  client: Client;
  stages: { lead: Stage; sale: Stage };
  keyRing: KeyRing;
  /** The sandbox's URLs. */
  urls: PlatformUrls;
  /** The last day seeded ends here. */
  now: Date;
  /** Days of history, today included. Defaults to 7. */
  days?: number;
  /** Seeded randomness, for identical runs (tests, screenshots). Defaults to a fixed seed. */
  seed?: number;
}

/** A small deterministic generator (mulberry32): the same history on every run. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DAY = 86_400_000;

/** Seeds the history; returns how many events were stored. */
export async function seedDemoHistory(store: Store, options: DemoHistoryOptions): Promise<number> {
  const random = generator(options.seed ?? 20261206);
  const days = options.days ?? 7;
  let clock = new Date(options.now.getTime() - days * DAY);
  // The passes run on this clock: each day's pass sends what that day stored.
  const sender = await createSender({
    store,
    config: { keyRing: options.keyRing, cron: '0 3 * * *', urls: options.urls, versions: { ...DEFAULT_VERSIONS } },
    now: () => clock,
    random,
  });
  let stored = 0;
  for (let d = days - 1; d >= 0; d--) {
    // Day d: events from 23 h to 5 h before `now - d days`, sales 2 h after their lead, the pass 1 h before.
    const dayEnd = options.now.getTime() - d * DAY;
    const leads = 14 + Math.floor(random() * 16);
    for (let i = 0; i < leads; i++) {
      const at = new Date(dayEnd - 23 * 3_600_000 + Math.floor(random() * 18 * 3_600_000));
      const clickAt = new Date(at.getTime() - Math.floor(random() * 3 * DAY)).toISOString();
      const withClick = random() < 0.85;
      const which = random();
      const clicks: NewEvent['clicks'] = withClick
        ? which < 0.4
          ? { fbclid: { value: `IwAR0demo${d}x${i}`, ts: clickAt } }
          : which < 0.8
            ? { gclid: { value: `Cj0KCQdemo${d}x${i}`, ts: clickAt } }
            : which < 0.9
              ? { ttclid: { value: `E.C.P.demo${d}x${i}`, ts: clickAt } }
              : { msclkid: { value: createHash('sha256').update(`demo${d}x${i}`).digest('hex').slice(0, 32), ts: clickAt } }
        : {};
      const reference = `demo-${d}-${i}`;
      const source = random() < 0.6 ? 'pixel' : 'webhook';
      const ms = at.getTime();
      // What the visitor's browser and the form carried: Meta's _fbp on most pages, _fbc with a
      // Meta click, TikTok's _ttp on some, a hashed email on most leads and a phone on some.
      const signals: Partial<NewEvent> = {
        ...(random() < 0.7 ? { fbp: `fb.1.${ms}.${Math.floor(random() * 2 ** 31)}` } : {}),
        ...(clicks.fbclid !== undefined ? { fbc: `fb.1.${ms}.${clicks.fbclid.value}` } : {}),
        ...(random() < 0.3 ? { ttp: `demo-ttp-${d}-${i}` } : {}),
        ...(random() < 0.75 ? { email_sha256: sha256(`lead-${d}-${i}@demo.example`) } : {}),
        ...(random() < 0.4 ? { phone_sha256: sha256(`+4479460${String(d * 100 + i).padStart(5, '0')}`) } : {}),
      };
      const lead = await store.events.admit({ ...event(uuid(random), options.client.id, options.stages.lead, reference, clicks, source), ...signals }, at);
      if (lead.status === 'stored') stored++;
      // About a quarter of the leads buy, a few hours later: the sale inherits the lead's clicks (the join).
      if (random() < 0.25) {
        const sale = await store.events.admit(
          { ...event(uuid(random), options.client.id, options.stages.sale, reference, {}, 'webhook'), revenue_value: 50 + Math.round(random() * 450), currency: 'EUR' },
          new Date(at.getTime() + 2 * 3_600_000),
        );
        if (sale.status === 'stored') stored++;
      }
    }
    clock = new Date(dayEnd - 3_600_000);
    await sender.runPass();
  }
  return stored;
}

/** A version 4 UUID from the seeded generator. */
function uuid(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = (8 + Math.floor(random() * 4)).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

function event(id: string, clientId: string, stage: Stage, reference: string, clicks: NewEvent['clicks'], source: 'pixel' | 'webhook'): NewEvent {
  return {
    id,
    client_id: clientId,
    stage_id: stage.id,
    stage_key: stage.key,
    source,
    reference,
    consent: 'granted',
    clicks,
    utm: Object.keys(clicks).length > 0 ? { utm_source: Object.keys(clicks)[0] === 'gclid' ? 'google' : Object.keys(clicks)[0] === 'fbclid' ? 'facebook' : 'tiktok', utm_medium: 'cpc' } : {},
    demographics: {},
  };
}
