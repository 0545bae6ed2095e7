import { describe, expect, it, vi } from 'vitest';
import { OUTBOX, createTransport, readOutbox, retryable } from '../src/transport.js';
import type { TrackPayload } from '../src/types.js';
import { fakeFetch, isolatePixels } from './helpers.js';

const URL_ = 'https://collect.example.com/e';
const now = Date.UTC(2026, 5, 1);
const DAY = 864e5;
const event = (id: string, ageDays = 0): TrackPayload => ({
  v: 1,
  site: 'site_1',
  stage: 'lead',
  event_id: id,
  visitor_id: 'vid',
  reference: 'vid',
  clicks: {},
  utm: {},
  url: 'https://www.example.com/',
  client_time: new Date(now - ageDays * DAY).toISOString(),
  consent: 'unspecified',
});
const outboxIds = () => readOutbox(now).map((p) => p.event_id);

describe('retryable', () => {
  const table: [number, boolean][] = [
    [408, true],
    [429, true],
    [500, true],
    [502, true],
    [503, true],
    [400, false],
    [401, false],
    [403, false],
    [404, false],
    [413, false],
  ];
  for (const [status, retry] of table) {
    it(`${retry ? 'retries' : 'drops'} ${status}`, () => {
      expect(retryable(status)).toBe(retry);
    });
  }
});

describe('createTransport', () => {
  isolatePixels();

  it('POSTs the payload as a text/plain string with keepalive and credentials', async () => {
    const { fetch, sent } = fakeFetch();
    const [send] = createTransport(URL_, () => now, () => undefined, fetch);
    await send(event('e1'));
    expect(sent).toHaveLength(1);
    expect(sent[0]?.url).toBe(URL_);
    expect(sent[0]?.init).toMatchObject({ method: 'POST', keepalive: true, credentials: 'include' });
    // A string body: fetch sends it as text/plain;charset=UTF-8, a CORS-safelisted type.
    expect(typeof sent[0]?.init.body).toBe('string');
    expect(sent[0]?.body).toEqual(event('e1'));
    expect(outboxIds()).toEqual([]);
  });

  for (const answer of [500, 503, 408, 429, new TypeError('Failed to fetch')]) {
    it(`keeps the event in the outbox on ${answer instanceof Error ? 'a network error' : answer}`, async () => {
      const { fetch } = fakeFetch([answer]);
      const [send] = createTransport(URL_, () => now, () => undefined, fetch);
      await send(event('e1'));
      expect(outboxIds()).toEqual(['e1']);
    });
  }

  for (const status of [400, 401, 404]) {
    it(`drops the event with a warning on ${status}`, async () => {
      const { fetch } = fakeFetch([status]);
      const warn = vi.fn();
      const [send] = createTransport(URL_, () => now, warn, fetch);
      await send(event('e1'));
      expect(outboxIds()).toEqual([]);
      expect(warn).toHaveBeenCalledWith('dropped', status);
    });
  }

  it('falls back to sendBeacon when fetch throws synchronously', async () => {
    const beacon = vi.fn(() => true);
    vi.stubGlobal('navigator', { sendBeacon: beacon });
    const [send] = createTransport(URL_, () => now, () => undefined, (() => {
      throw new TypeError('blocked');
    }) as unknown as typeof fetch);
    await send(event('e1'));
    expect(beacon).toHaveBeenCalledWith(URL_, JSON.stringify(event('e1')));
    expect(outboxIds()).toEqual([]);
  });

  it('falls back to sendBeacon when fetch is missing', async () => {
    const beacon = vi.fn(() => true);
    vi.stubGlobal('navigator', { sendBeacon: beacon });
    vi.stubGlobal('fetch', undefined);
    const [send] = createTransport(URL_, () => now, () => undefined);
    await send(event('e1'));
    expect(beacon).toHaveBeenCalledOnce();
  });

  it('keeps the event when sendBeacon refuses it or is missing', async () => {
    vi.stubGlobal('fetch', undefined);
    vi.stubGlobal('navigator', { sendBeacon: () => false });
    const [send] = createTransport(URL_, () => now, () => undefined);
    await send(event('e1'));
    vi.stubGlobal('navigator', {});
    await send(event('e2'));
    expect(outboxIds()).toEqual(['e1', 'e2']);
  });

  it('bounds the outbox to the 50 newest events', async () => {
    const { fetch } = fakeFetch(Array.from({ length: 60 }, () => 503));
    const [send] = createTransport(URL_, () => now, () => undefined, fetch);
    for (let i = 0; i < 60; i++) await send(event(`e${i}`));
    expect(outboxIds()).toEqual(Array.from({ length: 50 }, (_, i) => `e${i + 10}`));
  });

  it('forgets events older than 7 days', () => {
    localStorage.setItem(OUTBOX, JSON.stringify([event('old', 8), event('week', 7), event('recent', 6.9)]));
    expect(outboxIds()).toEqual(['recent']);
  });

  it('reads a corrupt outbox as empty', () => {
    localStorage.setItem(OUTBOX, '{not json');
    expect(outboxIds()).toEqual([]);
    localStorage.setItem(OUTBOX, '{"a":1}');
    expect(outboxIds()).toEqual([]);
  });

  it('drains the outbox in order, keeping event_ids, and re-queues what fails again', async () => {
    localStorage.setItem(OUTBOX, JSON.stringify([event('e1', 1), event('e2', 1), event('e3', 10)]));
    const { fetch, sent } = fakeFetch([200, 503]);
    const [, drain] = createTransport(URL_, () => now, () => undefined, fetch);
    drain();
    await vi.waitFor(() => expect(sent).toHaveLength(2));
    expect(sent.map((s) => s.body.event_id)).toEqual(['e1', 'e2']);
    await vi.waitFor(() => expect(outboxIds()).toEqual(['e2']));
  });
});
