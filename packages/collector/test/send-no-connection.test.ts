/**
 * A platform the client has no connection for, through whole send passes on a real SQLite file
 * and a real PostgreSQL, against the strict fakes over HTTP: the pass removes its outbox rows and
 * writes no audit record (nothing was sent); a connection made between admission and the pass
 * still gets the conversion; a connection that exists but cannot send (incomplete, dry run) keeps
 * its skipped record with the message that says what to fix.
 */
import { randomUUID } from 'node:crypto';
import { PLATFORM_IDS, type Platform } from '@pruuv/sender';
import { afterEach, describe, expect, it } from 'vitest';
import { openSendWorld, type SendWorld } from './helpers/engine-store.js';
import { FAKE_FIELDS } from './send-helpers.js';

const HOUR = 3_600_000;

type Env = SendWorld & {
  /** Saves a connection of the client for `platform` with the fakes' fields (and `fields` over them). */
  connect(platform: Platform, fields?: Record<string, string | boolean>): Promise<void>;
};

async function open(engine: 'sqlite' | 'postgres'): Promise<Env> {
  // No operator Microsoft app (PRUUV_MICROSOFT_DEVELOPER_TOKEN unset): a Microsoft connection is incomplete.
  const world = await openSendWorld(engine, 'no-conn', {
    clicks: (ts) => ({
      fbclid: { value: `IwAR${randomUUID().replace(/-/g, '')}`, ts },
      gclid: { value: `Cj0${randomUUID().replace(/-/g, '')}`, ts },
      ttclid: { value: `E.C.P.${randomUUID().replace(/-/g, '')}`, ts },
      msclkid: { value: randomUUID().replace(/-/g, ''), ts },
    }),
  });
  return {
    ...world,
    async connect(platform, fields = {}) {
      await world.connections.set({ client_id: world.client.id, platform, fields: { ...FAKE_FIELDS[platform], ...fields } }, world.ring);
    },
  };
}

/** Every audit record of the database, by platform and status (the audit log, whatever it links to). */
async function records(env: Env): Promise<Array<[string, string, string | null]>> {
  const rows = await env.rows('SELECT platform, status, reason FROM send_attempts ORDER BY id');
  return rows.map((r) => [String(r['platform']), String(r['status']), (r['reason'] as string | null) ?? null]);
}

let env: Env | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`a platform without a connection (${engine})`, () => {
    it('leaves no outbox row and no audit record, while the connected platform is sent', async () => {
      env = await open(engine);
      await env.connect('meta');
      const event = await env.addEvent();
      expect((await env.store.outbox.forEvent(event.id)).map((r) => r.platform)).toEqual([...PLATFORM_IDS]);

      const report = await env.pass();
      expect(report).toMatchObject({ claimed: PLATFORM_IDS.length, discarded: PLATFORM_IDS.length - 1, counts: { sent: 1, skipped: 0 } });
      expect((await env.store.outbox.forEvent(event.id)).map((r) => [r.platform, r.status])).toEqual([['meta', 'sent']]);
      expect(await records(env)).toEqual([['meta', 'sent', null]]);
      expect(await env.store.sends.list({ event_id: event.id, limit: 10 })).toEqual([expect.objectContaining({ platform: 'meta', status: 'sent' })]);
      expect(await env.rows("SELECT platform, status, count FROM daily_sends WHERE status <> 'sent'")).toEqual([]);
      expect(env.fakes.counted('meta').size).toBe(1);
      // Nothing is left waiting: no later pass finds a row, none is due.
      expect(await env.store.outbox.due({ now: new Date(env.clock.now().getTime() + 24 * HOUR), limit: 10 })).toEqual([]);
      expect(await env.store.outbox.nextFollowUp()).toBeUndefined();
      expect((await env.pass()).claimed).toBe(0);
    });

    it('sends a conversion admitted before its connection was made, when the pass runs after', async () => {
      env = await open(engine);
      await env.connect('meta');
      const event = await env.addEvent();
      env.clock.advance(HOUR);
      await env.connect('tiktok');
      const report = await env.pass();
      expect(report.platforms.tiktok.sent).toBe(1);
      expect(report.discarded).toBe(2);
      expect(env.fakes.counted('tiktok').size).toBe(1);
      expect((await env.store.outbox.forEvent(event.id)).map((r) => [r.platform, r.status])).toEqual([
        ['meta', 'sent'],
        ['tiktok', 'sent'],
      ]);
    });

    it('keeps the skipped records of a connection that exists but cannot send, with what to fix', async () => {
      env = await open(engine);
      await env.connect('meta', { dry_run: true });
      await env.connect('microsoft'); // the operator's Microsoft app is not configured
      const event = await env.addEvent();
      const report = await env.pass();
      expect(report).toMatchObject({ discarded: 2, counts: { skipped: 2 } });
      expect((await env.store.outbox.forEvent(event.id)).map((r) => [r.platform, r.status])).toEqual([
        ['meta', 'skipped'],
        ['microsoft', 'skipped'],
      ]);
      const sends = await env.store.sends.list({ event_id: event.id, limit: 10 });
      expect(sends.map((s) => [s.platform, s.status, s.reason])).toEqual(
        expect.arrayContaining([
          ['meta', 'skipped', 'dry_run'],
          ['microsoft', 'skipped', 'no_connection'],
        ]),
      );
      expect(sends).toHaveLength(2);
      expect(sends.find((s) => s.platform === 'microsoft')?.message).toContain('PRUUV_MICROSOFT_DEVELOPER_TOKEN');
      expect(env.fakes.requests('meta')).toHaveLength(0);
    });

    it('skips, with its record, a retry whose connection was deleted after its first attempt', async () => {
      env = await open(engine);
      await env.connect('meta');
      const event = await env.addEvent();
      env.fakes.script('meta', [{ kind: 'status', status: 500 }]);
      await env.pass();
      const [row] = await env.store.outbox.forEvent(event.id);
      expect(row).toMatchObject({ platform: 'meta', status: 'retrying', attempts: 1 });
      expect(await env.store.connections.remove(env.client.id, 'meta')).toBe(true);
      env.clock.set(row!.due_at);
      const report = await env.pass();
      expect(report).toMatchObject({ claimed: 1, discarded: 0, counts: { skipped: 1 } });
      expect((await env.store.outbox.forEvent(event.id)).map((r) => [r.platform, r.status, r.attempts])).toEqual([['meta', 'skipped', 2]]);
      expect((await env.store.sends.list({ event_id: event.id, limit: 10 })).map((s) => [s.status, s.reason])).toEqual([
        ['skipped', 'no_connection'],
        ['retrying', 'server_error'],
      ]);
    });
  });
}
