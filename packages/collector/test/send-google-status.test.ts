/**
 * Google Data Manager diagnostics end to end: passes send to the strict fake over real HTTP,
 * the request ids are kept with the audit rows, and the checks read `requestStatus:retrieve`
 * on the schedule google-data-manager.md §6 asks for, into a real SQLite file.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseKeyRing, type SendRecord } from '@pruuv/sender';
import { FAKE_DEFAULTS } from '@pruuv/fakes';
import { memoryOutput } from '../src/cli/output.js';
import { sendsGoogleStatus } from '../src/cli/sends.js';
import { listGoogleStatus } from '../src/domain/send-lists.js';
import { createOutboxPort } from '@pruuv/sender';
import { createGoogleStatusChecks, createTokenCache } from '@pruuv/sender/platforms';
import { createSendStore } from '../src/send/send-store.js';
import { newKey, sendEnv, type SendEnv } from './send-helpers.js';

const MIN = 60_000;
let env: SendEnv;
afterEach(async () => {
  await env.close();
});

const rows = async () => await listGoogleStatus(env.store, {});
const statusRequests = () => env.fakes.requests().filter((r) => r.path.endsWith('/v1/requestStatus:retrieve'));

describe('Google Data Manager diagnostics', () => {
  it('keeps the request id of a delivered batch and checks it from 30 minutes after the 200 until final', async () => {
    env = await sendEnv({ connect: ['google'] });
    env.addEvent();
    env.addEvent();
    const sender = await env.sender();
    await sender.runPass();
    const sentAt = env.clock.now().toISOString();
    const [row] = await rows();
    expect(await rows()).toHaveLength(1);
    expect(row).toMatchObject({ events: 2, status: 'PENDING', checks: 0, sent_at: sentAt });
    const firstCheck = new Date(env.clock.now().getTime() + 30 * MIN);
    expect(row!.next_check_at).toBe(firstCheck.toISOString());
    expect(await sender.nextFollowUp()).toEqual(firstCheck);

    // Not before the 30 minutes.
    env.clock.advance(29 * MIN);
    expect(await sender.checkDeliveries()).toEqual({ checked: 0, final: 0, with_errors: 0 });
    expect(statusRequests()).toHaveLength(0);

    // The fake answers PROCESSING to a request's first check: checked again 30 minutes later.
    env.clock.advance(MIN);
    expect(await sender.checkDeliveries()).toEqual({ checked: 1, final: 0, with_errors: 0 });
    expect((await rows())[0]).toMatchObject({ status: 'PENDING', checks: 1, next_check_at: new Date(env.clock.now().getTime() + 30 * MIN).toISOString() });

    // A pass with nothing to send still runs the due checks.
    env.clock.advance(30 * MIN);
    await sender.runPass();
    expect((await rows())[0]).toMatchObject({ status: 'SUCCESS', checks: 2, next_check_at: null, records: 2, errors: [] });
    expect(await sender.nextFollowUp()).toBeUndefined();
    expect(statusRequests().map((r) => r.query['requestId'])).toEqual([row!.request_id, row!.request_id]);
  });

  it('reports the records Google could not match, per reason, in `pruuv sends google-status`', async () => {
    env = await sendEnv({
      connect: ['google'],
      fakes: {
        google: {
          customers: [FAKE_DEFAULTS.google.customerId],
          conversionActions: [FAKE_DEFAULTS.google.conversionActionId],
          clientId: FAKE_DEFAULTS.google.clientId,
          clientSecret: FAKE_DEFAULTS.google.clientSecret,
          refreshTokens: [FAKE_DEFAULTS.google.refreshToken],
          knownClicks: ['Cj0-known-click'],
        },
      },
    });
    const ts = new Date(env.clock.now().getTime() - 3_600_000).toISOString();
    env.addEvent({ clicks: { gclid: { value: 'Cj0-known-click', ts } } });
    env.addEvent({ clicks: { gclid: { value: 'Cj0-unknown-1', ts } } });
    env.addEvent({ clicks: { gclid: { value: 'Cj0-unknown-2', ts } } });
    const sender = await env.sender();
    await sender.runPass();
    env.clock.advance(30 * MIN);
    await sender.checkDeliveries();
    env.clock.advance(30 * MIN);
    expect(await sender.checkDeliveries()).toEqual({ checked: 1, final: 1, with_errors: 1 });
    expect((await rows())[0]).toMatchObject({
      status: 'PARTIAL_SUCCESS',
      events: 3,
      records: 3,
      errors: [{ reason: 'PROCESSING_ERROR_REASON_CLICK_NOT_FOUND', count: 2 }],
    });
    const text = memoryOutput();
    await sendsGoogleStatus(env.store, {}, text);
    expect(text.text).toMatch(/PARTIAL_SUCCESS/);
    expect(text.text).toContain('PROCESSING_ERROR_REASON_CLICK_NOT_FOUND ×2');
    const json = memoryOutput(true);
    await sendsGoogleStatus(env.store, { status: 'PARTIAL_SUCCESS' }, json);
    expect(JSON.parse(json.text).requests).toHaveLength(1);
    await expect(sendsGoogleStatus(env.store, { status: 'MAYBE' }, memoryOutput())).rejects.toThrow(/status must be one of/);
  });

  it('keeps the request ids of delivered Data Manager batches only: not Ads API, validate-only or failed ones', async () => {
    env = await sendEnv({ connect: ['google'] });
    const event = env.addEvent();
    const outbox = createOutboxPort(createSendStore(env.store), env.ring);
    const google = (await env.connections.list({ client_id: env.client.id }))[0]!;
    const outboxId = (await env.store.outbox.forEvent(event.id)).find((r) => r.platform === 'google')!.id;
    // The pass opens the connection before it commits: that is how the port learns its API.
    await outbox.connection(env.client.id, 'google');
    const record = (request_id: string, over: Partial<SendRecord> = {}): SendRecord => ({
      outbox_id: outboxId,
      event_id: event.id,
      client_id: env.client.id,
      platform: 'google',
      connection_id: google.id,
      status: 'sent',
      request_id,
      dedup_key: event.id,
      batch_size: 1,
      retry_count: 0,
      attempted_at: env.clock.now().toISOString(),
      dry_run: false,
      pass_id: 'p1',
      ...over,
    });
    const commit = (records: SendRecord[]) => outbox.commit({ owner: 'test', now: env.clock.now(), updates: [], records });
    await commit([record('dm-sent'), record('dm-dry', { dry_run: true }), record('dm-failed', { status: 'failed' })]);
    await env.connections.set({ client_id: env.client.id, platform: 'google', fields: { api: 'ads', developer_token: 'fake-dev-token' } }, env.ring);
    const ads = createOutboxPort(createSendStore(env.store), env.ring);
    await ads.connection(env.client.id, 'google');
    await ads.commit({ owner: 'test', now: env.clock.now(), updates: [], records: [record('ads-sent')] });
    expect((await rows()).map((r) => r.request_id)).toEqual(['dm-sent']);
  });

  it('stops checking when the connection is removed or Google knows no such request', async () => {
    env = await sendEnv({ connect: ['google'] });
    env.addEvent();
    const sender = await env.sender();
    await sender.runPass();
    env.db.prepare("INSERT INTO google_request_status (request_id, connection_id, client_id, events, sent_at, next_check_at) SELECT 't-unknown', connection_id, client_id, 1, sent_at, next_check_at FROM google_request_status").run();
    env.clock.advance(30 * MIN);
    await sender.checkDeliveries();
    const unknown = (await rows()).find((r) => r.request_id === 't-unknown')!;
    expect(unknown).toMatchObject({ status: 'UNAVAILABLE', next_check_at: null, last_error: 'HTTP 400 INVALID_ARGUMENT INVALID_REQUEST_ID' });

    await env.store.connections.remove(env.client.id, 'google');
    env.clock.advance(30 * MIN);
    await sender.checkDeliveries();
    const real = (await rows()).find((r) => r.request_id !== 't-unknown')!;
    expect(real).toMatchObject({ status: 'UNAVAILABLE', next_check_at: null, last_error: 'connection removed or no longer on Data Manager' });
    expect(await sender.nextFollowUp()).toBeUndefined();
  });

  it('refreshes a refused token once, and checks again later after a server error', async () => {
    env = await sendEnv({ connect: ['google'] });
    env.addEvent();
    const sender = await env.sender();
    await sender.runPass();
    const tokensBefore = env.fakes.requests('oauth').length;
    env.fakes.script('dataManager', [{ kind: 'google-rpc', httpStatus: 401, status: 'UNAUTHENTICATED' }]);
    env.clock.advance(30 * MIN);
    await sender.checkDeliveries();
    expect(env.fakes.requests('oauth').length).toBe(tokensBefore + 1);
    expect((await rows())[0]).toMatchObject({ status: 'PENDING', checks: 1, last_error: null });

    env.fakes.script('dataManager', [{ kind: 'google-rpc', httpStatus: 503, status: 'UNAVAILABLE' }]);
    env.clock.advance(30 * MIN);
    await sender.checkDeliveries();
    expect((await rows())[0]).toMatchObject({ status: 'PENDING', checks: 2, last_error: 'HTTP 503 UNAVAILABLE' });
    env.clock.advance(60 * MIN);
    await sender.checkDeliveries();
    expect((await rows())[0]).toMatchObject({ status: 'SUCCESS', checks: 3, last_error: null });
  });

  it('waits while the connection is paused or cannot be read, without asking Google', async () => {
    env = await sendEnv({ connect: ['google'] });
    env.addEvent();
    const sender = await env.sender();
    await sender.runPass();
    const google = (await env.connections.list({ client_id: env.client.id }))[0]!;
    await env.store.connections.pause(google.id, 'auth', env.clock.now());
    env.clock.advance(30 * MIN);
    await sender.checkDeliveries();
    expect((await rows())[0]).toMatchObject({ status: 'PENDING', checks: 1, last_error: 'connection paused' });
    expect(statusRequests()).toHaveLength(0);

    // Checks whose key ring lacks the connection's key (re-saved by a process with a newer key).
    const unreadable = createOutboxPort(createSendStore(env.store), parseKeyRing(newKey()));
    const checks = createGoogleStatusChecks({
      store: createSendStore(env.store),
      connections: unreadable,
      tokenCache: createTokenCache({ fetch, tokenUrl: env.fakes.urls.oauthToken, now: env.clock.now }),
      fetch,
      urls: env.fakes.urls,
      versions: { dataManager: 'v1' },
      now: env.clock.now,
    });
    env.db.prepare("UPDATE connections SET status = 'active'").run();
    env.clock.advance(30 * MIN);
    expect(await checks.run()).toEqual({ checked: 1, final: 0, with_errors: 0 });
    expect((await rows())[0]).toMatchObject({ status: 'PENDING', checks: 2 });
    expect((await rows())[0]!.last_error).toMatch(/key/i);
    expect(statusRequests()).toHaveLength(0);
  });

  it('retries a check the platform could not answer, and gives up 7 days after the 200', async () => {
    env = await sendEnv({ connect: ['google'], fakes: { dataManagerStatusDelaySeconds: 30 * 24 * 3600 } });
    env.addEvent();
    const sender = await env.sender();
    await sender.runPass();
    const sentMs = env.clock.now().getTime();
    let checks = 0;
    for (let next = (await rows())[0]!.next_check_at; next !== null; next = (await rows())[0]!.next_check_at) {
      env.clock.set(next);
      await sender.checkDeliveries();
      checks++;
      expect(checks).toBeLessThan(60);
    }
    const row = (await rows())[0]!;
    expect(row.status).toBe('GAVE_UP');
    expect(Date.parse(row.checked_at!) - sentMs).toBeLessThanOrEqual(7 * 24 * 60 * MIN);
    expect(statusRequests()).toHaveLength(checks);
  });
});
