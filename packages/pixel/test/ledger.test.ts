import { describe, expect, it } from 'vitest';
import { gclFallback, record, utmOf, type Saved } from '../src/ledger.js';

const t0 = Date.UTC(2026, 0, 1);
const t1 = t0 + 3_600_000;
const iso0 = '2026-01-01T00:00:00.000Z';
const iso1 = '2026-01-01T01:00:00.000Z';
const fresh = (): Saved => ({ clicks: {} });

describe('record', () => {
  it('adds a click ID with its first-seen time and sets both touches', () => {
    const s = fresh();
    record(s, { gclid: 'G1', utm_source: 'google' }, 'https://s.example/?gclid=G1&utm_source=google', t0);
    expect(s.clicks).toEqual({ gclid: { value: 'G1', ts: iso0 } });
    const touch = { params: { gclid: 'G1', utm_source: 'google' }, url: 'https://s.example/?gclid=G1&utm_source=google', ts: iso0 };
    expect(s.first_touch).toEqual(touch);
    expect(s.last_touch).toEqual(touch);
  });

  it('keeps the first time when the same value comes back', () => {
    const s = fresh();
    record(s, { gclid: 'G1' }, 'https://s.example/a', t0);
    record(s, { gclid: 'G1' }, 'https://s.example/b', t1);
    expect(s.clicks.gclid).toEqual({ value: 'G1', ts: iso0 });
    expect(s.last_touch?.url).toBe('https://s.example/a');
  });

  it('replaces a new value with a new time and moves the last touch only', () => {
    const s = fresh();
    record(s, { gclid: 'G1' }, 'https://s.example/a', t0);
    record(s, { gclid: 'G2' }, 'https://s.example/b', t1);
    expect(s.clicks.gclid).toEqual({ value: 'G2', ts: iso1 });
    expect(s.first_touch).toMatchObject({ params: { gclid: 'G1' }, ts: iso0 });
    expect(s.last_touch).toMatchObject({ params: { gclid: 'G2' }, ts: iso1 });
  });

  it('keeps one entry per click ID across platforms', () => {
    const s = fresh();
    record(s, { fbclid: 'F1' }, 'https://s.example/a', t0);
    record(s, { ttclid: 'T1' }, 'https://s.example/b', t1);
    expect(s.clicks).toEqual({ fbclid: { value: 'F1', ts: iso0 }, ttclid: { value: 'T1', ts: iso1 } });
  });

  it('moves the last touch on a new UTM set without click IDs', () => {
    const s = fresh();
    record(s, { utm_source: 'news', utm_medium: 'email' }, 'https://s.example/a', t0);
    record(s, { utm_source: 'news', utm_medium: 'social' }, 'https://s.example/b', t1);
    expect(s.first_touch?.params).toEqual({ utm_source: 'news', utm_medium: 'email' });
    expect(s.last_touch?.params).toEqual({ utm_source: 'news', utm_medium: 'social' });
  });

  it('keeps the last touch when the same UTM set comes back', () => {
    const s = fresh();
    record(s, { utm_source: 'news' }, 'https://s.example/a', t0);
    record(s, { utm_source: 'news' }, 'https://s.example/b', t1);
    expect(s.last_touch).toMatchObject({ url: 'https://s.example/a', ts: iso0 });
  });

  it('keeps the last touch when a known click ID comes back without UTMs', () => {
    const s = fresh();
    record(s, { gclid: 'G1', utm_source: 'google' }, 'https://s.example/a', t0);
    record(s, { gclid: 'G1' }, 'https://s.example/b', t1);
    expect(s.last_touch?.params).toEqual({ gclid: 'G1', utm_source: 'google' });
  });

  it('cuts touch URLs at 500 characters', () => {
    const s = fresh();
    const url = 'https://s.example/?gclid=G&pad=' + 'x'.repeat(600);
    record(s, { gclid: 'G' }, url, t0);
    expect(s.last_touch?.url).toBe(url.slice(0, 500));
  });
});

describe('utmOf', () => {
  it('picks UTMs in a fixed order', () => {
    expect(JSON.stringify(utmOf({ utm_term: 't', gclid: 'G', utm_source: 's' }))).toBe('{"utm_source":"s","utm_term":"t"}');
  });
  it('returns {} without parameters', () => {
    expect(utmOf()).toEqual({});
  });
});

describe('gclFallback', () => {
  const cases: { name: string; cookie?: string; before?: Saved['clicks']; expected: Saved['clicks'] }[] = [
    {
      name: 'reads a gclid with the cookie time',
      cookie: 'GCL.1700000000.EAIaIQobChMI',
      expected: { gclid: { value: 'EAIaIQobChMI', ts: '2023-11-14T22:13:20.000Z' } },
    },
    {
      name: 'ignores extra segments after the click ID',
      cookie: 'GCL.1700000000.EAIaIQ.x',
      expected: { gclid: { value: 'EAIaIQ', ts: '2023-11-14T22:13:20.000Z' } },
    },
    {
      name: 'never replaces a ledger entry',
      cookie: 'GCL.1700000000.OLD',
      before: { gclid: { value: 'NEW', ts: iso0 } },
      expected: { gclid: { value: 'NEW', ts: iso0 } },
    },
    { name: 'ignores a missing cookie', expected: {} },
    { name: 'ignores another prefix', cookie: 'GA1.1700000000.X', expected: {} },
    { name: 'ignores a non-numeric time', cookie: 'GCL.17000x.X', expected: {} },
    { name: 'ignores a time of more than 10 digits', cookie: 'GCL.99999999999999.X', expected: {} },
    { name: 'ignores an empty ID', cookie: 'GCL.1700000000.', expected: {} },
    { name: 'ignores an ID with a space', cookie: 'GCL.1700000000.a b', expected: {} },
  ];
  for (const { name, cookie, before = {}, expected } of cases) {
    it(name, () => {
      const s: Saved = { clicks: { ...before } };
      gclFallback(s, 'gclid', cookie);
      expect(s.clicks).toEqual(expected);
    });
  }

  it('reads _gcl_gb into gbraid', () => {
    const s = fresh();
    gclFallback(s, 'gbraid', 'GCL.1700000000.0AAAAAB');
    expect(s.clicks).toEqual({ gbraid: { value: '0AAAAAB', ts: '2023-11-14T22:13:20.000Z' } });
  });
});
