/**
 * The webhook's raw `email` (issue 13, item 7): what is not an address by the
 * platforms' rules is left out, never hashed and sent, and never blocks the
 * event: the event is stored without it and `email_rejected` says why (no part
 * of the value is kept). Trimming and lower-casing stay; Google's Gmail form
 * (dots and `+tag` removed) is its own hash, for gmail.com and googlemail.com only.
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

async function stored(email: string): Promise<StoredEvent> {
  const res = await postWebhook(run, f.lead.stage.id, f.lead.token, { reference: `CRM-${Math.random()}`, gclid: 'Cj0-test', email });
  expect(res.status, await res.clone().text()).toBe(200);
  const { event_id } = (await res.json()) as { event_id: string };
  return (await run.store.events.get(event_id))!;
}

describe('an email that is not an address', () => {
  const cases: Array<{ rule: string; email: string; reason: string }> = [
    { rule: 'without @', email: 'jo.example.com', reason: 'no_at' },
    { rule: 'with two @', email: 'jo@@example.com', reason: 'several_at' },
    { rule: 'with an empty local part', email: '@example.com', reason: 'empty_local_part' },
    { rule: 'with an empty domain', email: 'jo@', reason: 'empty_domain' },
    { rule: 'with a space inside', email: 'jo smith@example.com', reason: 'space_inside' },
    { rule: 'with no dot in the domain', email: 'jo@example', reason: 'no_dot_in_domain' },
    { rule: 'with two dots in a row in the local part', email: 'jo..smith@example.com', reason: 'malformed_local_part' },
    { rule: 'with a local part ending in a dot', email: 'jo.@example.com', reason: 'malformed_local_part' },
    { rule: 'with a comma in the local part', email: 'jo,smith@example.com', reason: 'malformed_local_part' },
    { rule: 'with a domain ending in a dot', email: 'jo@example.com.', reason: 'malformed_domain' },
    { rule: 'with a domain starting with a dot', email: 'jo@.example.com', reason: 'malformed_domain' },
    { rule: 'with a domain label ending in a hyphen', email: 'jo@example-.com', reason: 'malformed_domain' },
    { rule: 'of a Gmail local part that is only a +tag', email: '+ads@gmail.com', reason: 'empty_local_part' },
  ];
  for (const { rule, email, reason } of cases) {
    it(`is left out, never hashed, when ${rule}, and the event is stored with email_rejected ${reason}`, async () => {
      const event = await stored(email);
      expect(event.email_sha256).toBeUndefined();
      expect(event.email_sha256_google).toBeUndefined();
      expect(event.email_rejected).toBe(reason);
      expect(event.clicks.gclid?.value).toBe('Cj0-test');
    });
  }
});

describe('an address', () => {
  it('is trimmed and lower-cased before hashing', async () => {
    const event = await stored('  Jo.Smith@Example.COM \t');
    expect(event.email_sha256).toBe(sha256('jo.smith@example.com'));
    expect(event.email_sha256_google).toBeUndefined();
    expect(event.email_rejected).toBeUndefined();
  });

  it("gets Google's Gmail form (no dots, no +tag) as its own hash on gmail.com", async () => {
    const event = await stored('Cloudy.SanFrancisco+shopping@gmail.com');
    expect(event.email_sha256).toBe(sha256('cloudy.sanfrancisco+shopping@gmail.com'));
    expect(event.email_sha256_google).toBe(sha256('cloudysanfrancisco@gmail.com'));
  });

  it('keeps dots and +tag on other domains, for Google too', async () => {
    const event = await stored('user.name+NYC@Example.com');
    expect(event.email_sha256).toBe(sha256('user.name+nyc@example.com'));
    expect(event.email_sha256_google).toBeUndefined();
  });

  it('may hold non-ASCII letters (RFC 6531)', async () => {
    const event = await stored('José@Exämple.de');
    expect(event.email_sha256).toBe(sha256('josé@exämple.de'));
  });
});
