/**
 * The send runtime over an in-memory {@link SendStore}: the start-up credential
 * check, a pass that opens encrypted connections and keeps the request ids of
 * delivered Data Manager batches for their delivery checks, the checks
 * themselves, and the schedule claiming each slot once. The collector runs the
 * same runtime on SQLite and PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { FAKE_DEFAULTS, startFakePlatforms, type FakePlatforms } from '@pruuv/fakes';
import { encryptSecret, parseKeyRing, type KeyRing } from '../../src/crypto.js';
import type { ClaimedSend, CommitInput, LoadedEvent } from '../../src/outbox-store.js';
import { CredentialsError, checkStoredCredentials } from '../../src/runtime/credentials.js';
import { latestSlot, nextSlotAfter, startSendSchedule, type Timers } from '../../src/runtime/schedule.js';
import { createSender } from '../../src/runtime/sender.js';
import type { DiagnosticsCheck, DiagnosticsWrite, EncryptedConnection, SendStore } from '../../src/runtime/store.js';
import type { Platform } from '../../src/types.js';
import { makeEvent, NOW } from './../helpers.js';

const key = (): KeyRing => parseKeyRing(randomBytes(32).toString('base64'));

interface Memory {
  store: SendStore;
  commits: Array<CommitInput & { diagnostics?: DiagnosticsWrite[] }>;
  diagnostics: Map<string, DiagnosticsWrite & { checks: number; status: string; next: string | null }>;
  slots: Map<number, string>;
  /** What each finished slot recorded. */
  summaries: Record<string, unknown>[];
}

/** Enough of the port in memory to run passes, checks and the schedule. */
function memory(input: { rows: ClaimedSend[]; events: LoadedEvent[]; connections: EncryptedConnection[] }): Memory {
  const rows = new Map(input.rows.map((r) => [r.id, { ...r, state: r.status as string, lease: undefined as string | undefined }]));
  const commits: Memory['commits'] = [];
  const diagnostics: Memory['diagnostics'] = new Map();
  const slots = new Map<number, string>();
  const summaries: Record<string, unknown>[] = [];
  const store: SendStore = {
    async claim(c) {
      const out: ClaimedSend[] = [];
      for (const r of rows.values()) {
        if (out.length >= c.limit || (r.state !== 'pending' && r.state !== 'retrying') || r.lease !== undefined) continue;
        r.lease = c.owner;
        out.push({ id: r.id, event_id: r.event_id, client_id: r.client_id, platform: r.platform, status: r.status, attempts: r.attempts, due_at: r.due_at, ...(r.frozen !== undefined ? { frozen: r.frozen } : {}) });
      }
      return out;
    },
    freeze: async ({ owner, rows: frozen }) =>
      frozen.flatMap(({ id, fields }) => {
        const r = rows.get(id);
        if (r?.lease !== owner) return [];
        r.frozen ??= fields;
        return [{ id, fields: r.frozen }];
      }),
    renew: async ({ owner, ids }) => ids.filter((id) => rows.get(id)?.lease === owner),
    release: async ({ ids }) => {
      for (const id of ids) rows.get(id)!.lease = undefined;
    },
    async commit(c) {
      commits.push(c);
      for (const id of c.discard ?? []) if (rows.get(id)?.lease === c.owner && rows.get(id)?.attempts === 0) rows.delete(id);
      for (const u of c.updates) Object.assign(rows.get(u.id)!, { state: u.status, lease: undefined });
      for (const d of c.diagnostics ?? []) diagnostics.set(d.request_id, { ...d, checks: 0, status: 'PENDING', next: d.next_check_at });
    },
    held: async () => [],
    nextFollowUp: async () => undefined,
    events: async (ids) => new Map(input.events.filter((e) => ids.includes(e.event.id)).map((e) => [e.event.id, e])),
    connection: async (clientId, platform: Platform) => input.connections.find((c) => c.client_id === clientId && c.platform === platform),
    ciphertexts: async () => input.connections.filter((c) => c.secrets !== null).map((c) => ({ id: c.id, secrets: c.secrets! })),
    runs: {
      async claimSlot({ slot, owner }) {
        if (slots.has(slot.getTime())) return false;
        slots.set(slot.getTime(), owner);
        return true;
      },
      async finishSlot({ summary }) {
        summaries.push(summary);
      },
    },
    diagnostics: {
      async due(now, limit) {
        return [...diagnostics.values()]
          .filter((d) => d.next !== null && Date.parse(d.next) <= now.getTime())
          .slice(0, limit)
          .map((d) => ({ request_id: d.request_id, connection_id: d.connection_id, client_id: d.client_id, events: d.events, sent_at: d.sent_at, checks: d.checks }));
      },
      async record(check: DiagnosticsCheck) {
        const d = diagnostics.get(check.request_id)!;
        Object.assign(d, { checks: d.checks + 1, status: check.status, next: check.next_check_at });
      },
      async nextDue() {
        const times = [...diagnostics.values()].filter((d) => d.next !== null).map((d) => Date.parse(d.next!));
        return times.length > 0 ? new Date(Math.min(...times)) : undefined;
      },
    },
  };
  return { store, commits, diagnostics, slots, summaries };
}

function encrypted(ring: KeyRing, platform: Platform, settings: Record<string, string>, secrets: Record<string, string>): EncryptedConnection {
  return { id: `con_${platform}`, client_id: 'cli_1', platform, status: 'active', settings, secrets: encryptSecret(JSON.stringify(secrets), ring) };
}

const d = FAKE_DEFAULTS;
let fakes: FakePlatforms | undefined;
afterEach(async () => {
  await fakes?.close();
  fakes = undefined;
});

describe('the start-up credential check', () => {
  it('refuses stored secrets without a key ring, and a ring without their key', async () => {
    const ring = key();
    const { store } = memory({ rows: [], events: [], connections: [encrypted(ring, 'meta', { pixel_id: '1' }, { access_token: 't' })] });
    await expect(checkStoredCredentials(store, undefined)).rejects.toMatchObject({ kind: 'no_key', count: 1 });
    const other = key();
    const error = await checkStoredCredentials(store, other).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialsError);
    expect(error).toMatchObject({ kind: 'missing_keys', keyIds: [ring.currentId] });
    expect(await checkStoredCredentials(store, ring)).toBe(1);
    await expect(createSender({ store, keyRing: undefined })).rejects.toThrow(CredentialsError);
  });
});

describe('a pass through the runtime', () => {
  it('opens encrypted connections, sends, and keeps delivered Data Manager requests for their checks', async () => {
    fakes = await startFakePlatforms({ now: () => new Date() });
    const ring = key();
    const event = makeEvent({ client_id: 'cli_1', event_time: new Date().toISOString() });
    const second = makeEvent({ client_id: 'cli_1', event_time: new Date().toISOString() });
    const mem = memory({
      rows: [
        { id: 1, event_id: event.id, client_id: 'cli_1', platform: 'google', status: 'pending', attempts: 0, due_at: new Date().toISOString() },
        { id: 2, event_id: event.id, client_id: 'cli_1', platform: 'meta', status: 'pending', attempts: 0, due_at: new Date().toISOString() },
        { id: 3, event_id: second.id, client_id: 'cli_1', platform: 'google', status: 'pending', attempts: 0, due_at: new Date().toISOString() },
      ],
      events: [{ event }, { event: second }],
      connections: [
        encrypted(ring, 'google', { api: 'data-manager', customer_id: d.google.customerId, conversion_action_id: d.google.conversionActionId, client_id: d.google.clientId }, { client_secret: d.google.clientSecret, refresh_token: d.google.refreshToken }),
        encrypted(ring, 'meta', { pixel_id: d.meta.pixelId }, { access_token: d.meta.token }),
      ],
    });
    const sender = await createSender({ store: mem.store, keyRing: ring, urls: fakes.urls, random: () => 0.5 });
    const report = await sender.runPass();
    expect(report.counts.sent).toBe(3);
    expect(fakes.counted('google').size).toBe(2);
    expect(fakes.counted('meta').size).toBe(1);
    // Only the Google (Data Manager) batch is kept for delivery checks, first due 30 minutes on:
    // one write for its one request, counting its two events.
    const kept = mem.commits.flatMap((c) => c.diagnostics ?? []);
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatchObject({ connection_id: 'con_google', client_id: 'cli_1', events: 2 });
    expect(Date.parse(kept[0]!.next_check_at) - Date.parse(kept[0]!.sent_at)).toBe(30 * 60_000);
    expect(await sender.nextFollowUp()).toEqual(new Date(kept[0]!.next_check_at));
    // Not due yet: nothing checked.
    expect(await sender.checkDeliveries()).toEqual({ checked: 0, final: 0, with_errors: 0 });
  });
});

describe('the schedule', () => {
  const cases = [
    { now: '2026-11-20T10:00:00.000Z', latest: '2026-11-20T03:00:00.000Z', next: '2026-11-21T03:00:00.000Z' },
    { now: '2026-11-20T03:00:00.000Z', latest: '2026-11-20T03:00:00.000Z', next: '2026-11-21T03:00:00.000Z' },
    { now: '2026-11-20T02:59:59.000Z', latest: '2026-11-19T03:00:00.000Z', next: '2026-11-20T03:00:00.000Z' },
  ];
  for (const c of cases) {
    it(`finds the slots around ${c.now}`, () => {
      expect(latestSlot('0 3 * * *', new Date(c.now))?.toISOString()).toBe(c.latest);
      expect(nextSlotAfter('0 3 * * *', new Date(c.now))?.toISOString()).toBe(c.next);
    });
  }

  it('runs a missed slot at start in one of two processes only', async () => {
    const mem = memory({ rows: [], events: [], connections: [] });
    const passes: string[] = [];
    const timers: Timers = { setTimeout: () => 0, clearTimeout: () => {} };
    const process = (owner: string) =>
      startSendSchedule({
        store: mem.store,
        cron: '0 3 * * *',
        now: () => NOW,
        timers,
        sender: {
          owner,
          runPass: async () => {
            passes.push(owner);
            return { pass_id: owner, claimed: 3, discarded: 2, counts: { sent: 1, failed: 0, skipped: 0, retrying: 0, dead: 0 }, duration_ms: 5 } as never;
          },
          nextFollowUp: async () => undefined,
        },
      });
    const [a, b] = [process('a'), process('b')];
    await Promise.all([a.ready, b.ready]);
    expect(passes).toHaveLength(1);
    expect([...mem.slots.values()]).toEqual(passes);
    // The slot's row keeps the pass's counts, the rows it removed unsent included.
    expect(mem.summaries).toEqual([{ pass_id: passes[0], claimed: 3, discarded: 2, sent: 1, failed: 0, skipped: 0, retrying: 0, dead: 0, duration_ms: 5 }]);
    await Promise.all([a.stop(), b.stop()]);
  });
});
