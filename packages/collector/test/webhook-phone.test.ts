/**
 * The webhook's raw `phone` (issue 13, item 8): a number without `+` is taken as
 * national only when a default country is given (the payload's
 * `phone_country_code`, else the client's default country) and the number fits
 * that country's plan; otherwise its leading digits are read as the country
 * code, as Meta's and Google's references do; a number that cannot be made
 * E.164 is left out, never hashed, and the event is stored with `phone_rejected`.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../src/store/types.js';
import { postWebhook, seedClient, startCollector, tempDir, type Fixture, type Running } from './helpers/harness.js';

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

let tmp: ReturnType<typeof tempDir>;
let run: Running;
let f: Fixture;

beforeEach(async () => {
  tmp = tempDir();
  run = await startCollector({ dbFile: join(tmp.dir, 'pruuv.db') });
  f = await seedClient(run.store);
});
afterEach(async () => {
  await run.close();
  tmp.cleanup();
});

async function stored(fields: { phone: string; phone_country_code?: string }): Promise<StoredEvent> {
  const res = await postWebhook(run, f.lead.stage.id, f.lead.token, { reference: `CRM-${Math.random()}`, gclid: 'Cj0-test', ...fields });
  expect(res.status, await res.clone().text()).toBe(200);
  const { event_id } = (await res.json()) as { event_id: string };
  return (await run.store.events.get(event_id))!;
}

/** The stored phone hashes of an E.164 number: Google and TikTok with `+`, Meta without. */
const hashes = (e164: string) => ({ phone_sha256: sha256(e164), phone_sha256_meta: sha256(e164.slice(1)) });

async function withClientCountry(country: string): Promise<void> {
  await run.store.clients.setDefaultCountry(f.client.id, country);
}

describe('a phone number without +', () => {
  it("is national when the client's default country is set and the number fits its plan", async () => {
    await withClientCountry('GB');
    expect(await stored({ phone: '020 7946 0958' })).toMatchObject(hashes('+442079460958'));
  });

  it("understands the default country's international prefix", async () => {
    await withClientCountry('US');
    expect(await stored({ phone: '011 44 20 7946 0958' })).toMatchObject(hashes('+442079460958'));
  });

  it('takes its leading digits as the country code when it does not fit the default country (phone_country_code)', async () => {
    expect(await stored({ phone: '16505551212', phone_country_code: '44' })).toMatchObject(hashes('+16505551212'));
  });

  it("takes its leading digits as the country code when it does not fit the client's default country", async () => {
    await withClientCountry('GB');
    expect(await stored({ phone: '1 (650) 555-1212' })).toMatchObject(hashes('+16505551212'));
  });

  it('takes its leading digits as the country code without a default country, as the references do', async () => {
    expect(await stored({ phone: '441134960987' })).toMatchObject(hashes('+441134960987'));
  });

  it("prefers the payload's phone_country_code to the client's default country", async () => {
    await withClientCountry('US');
    expect(await stored({ phone: '020 7946 0958', phone_country_code: '+44' })).toMatchObject(hashes('+442079460958'));
  });

  it('is left out with phone_rejected not_e164 when it is national but no default country is set', async () => {
    const event = await stored({ phone: '020 7946 0958' });
    expect(event.phone_sha256).toBeUndefined();
    expect(event.phone_sha256_meta).toBeUndefined();
    expect(event.phone_rejected).toBe('not_e164');
    expect(event.clicks.gclid?.value).toBe('Cj0-test');
  });

  it("is left out with phone_rejected not_e164 when it fits neither the default country's plan nor a country code", async () => {
    const event = await stored({ phone: '6505551212', phone_country_code: '44' });
    expect(event.phone_sha256).toBeUndefined();
    expect(event.phone_rejected).toBe('not_e164');
  });
});

describe('a phone number with +', () => {
  it('is taken when its length is possible for its country code', async () => {
    expect(await stored({ phone: '+44 7700 900123' })).toMatchObject(hashes('+447700900123'));
    expect(await stored({ phone: '(+1)2133734253' })).toMatchObject(hashes('+12133734253'));
  });

  it('is left out with phone_rejected not_e164 when its length is not possible', async () => {
    const event = await stored({ phone: '+1 234 567 890' });
    expect(event.phone_sha256).toBeUndefined();
    expect(event.phone_rejected).toBe('not_e164');
  });
});

describe('a phone without digits', () => {
  it('is left out with phone_rejected no_digits', async () => {
    const event = await stored({ phone: 'call me' });
    expect(event.phone_rejected).toBe('no_digits');
  });
});
