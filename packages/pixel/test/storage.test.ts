import { beforeEach, describe, expect, it, vi } from 'vitest';
import { MIRROR, createStore, lsGet, lsSet, type CookieAttrs, type Store } from '../src/storage.js';
import { blockCookies, blockLocalStorage, cookieJar, isolatePixels, settle } from './helpers.js';

/** The localStorage mirror record. */
const mirrored = (): Record<string, string> => JSON.parse(localStorage.getItem(MIRROR) ?? '{}') as Record<string, string>;

const attrs: CookieAttrs = { domain: 'example.com', expires: 90, secure: true };

describe('storage', () => {
  isolatePixels('https://www.example.com/');
  // A page's store: its one cookie read happens first.
  let read: Store[0];
  let cookie: Store[1];
  let get: Store[2];
  let put: Store[3];
  let probe: Store[5];
  /** A new page: a new store. */
  const page = () => ([read, cookie, get, put, , probe] = createStore(attrs));
  beforeEach(page);

  it('writes the cookie and the localStorage mirror', async () => {
    put('_pruuv_vid', 'v1');
    expect(cookieJar()._pruuv_vid).toBe('v1');
    await settle();
    expect(mirrored()).toEqual({ _pruuv_vid: 'v1' });
  });

  it('writes the mirror once for every put of one run, and never when nothing changed', async () => {
    // On the instance: happy-dom binds Storage methods to it at their first use.
    const setItem = vi.spyOn(localStorage, 'setItem');
    const getItem = vi.spyOn(localStorage, 'getItem');
    put('_pruuv_vid', 'v1');
    put('_fbp', 'fb.1.1.2');
    put('_pruuv', '{}');
    expect(setItem).not.toHaveBeenCalled();
    await settle();
    expect(setItem).toHaveBeenCalledTimes(1);
    put('_fbp', 'fb.1.1.2');
    await settle();
    expect(setItem).toHaveBeenCalledTimes(1);
    // Read once, at the first use.
    expect(getItem).toHaveBeenCalledTimes(1);
    expect(mirrored()).toEqual({ _pruuv_vid: 'v1', _fbp: 'fb.1.1.2', _pruuv: '{}' });
  });

  it('writes Domain, a 90-day Max-Age, SameSite=Lax and Secure', () => {
    let owner: object = document;
    while (!Object.getOwnPropertyDescriptor(owner, 'cookie')) owner = Object.getPrototypeOf(owner) as object;
    const set = vi.spyOn(owner as Document, 'cookie', 'set');
    put('_fbp', 'fb.1.1.2');
    put('_pruuv', '{"a":"b c;d"}');
    put('_fbp');
    expect(set.mock.calls.map((c) => c[0])).toEqual([
      '_fbp=fb.1.1.2; path=/; max-age=7776000; domain=example.com; samesite=lax; secure',
      // URI-encoded, so `;`, spaces and quotes cannot end or break the cookie.
      '_pruuv=%7B%22a%22%3A%22b%20c%3Bd%22%7D; path=/; max-age=7776000; domain=example.com; samesite=lax; secure',
      '_fbp=; path=/; max-age=-1; domain=example.com; samesite=lax; secure',
    ]);
    expect(cookieJar()._pruuv).toBe('{"a":"b c;d"}');
  });

  it('writes a host-only cookie without a Domain attribute', () => {
    let owner: object = document;
    while (!Object.getOwnPropertyDescriptor(owner, 'cookie')) owner = Object.getPrototypeOf(owner) as object;
    const set = vi.spyOn(owner as Document, 'cookie', 'set');
    [, , , put] = createStore({ domain: '', expires: 1 });
    put('_pruuv_vid', 'v1');
    expect(set.mock.calls[0]?.[0]).toBe('_pruuv_vid=v1; path=/; max-age=86400; samesite=lax');
  });

  it('reads every cookie in one document.cookie read, decoding values and skipping undecodable ones', () => {
    document.cookie = '_fbc=fb.1.2.A; path=/';
    document.cookie = '_pruuv=%7B%22x%22%3A1%7D; path=/';
    document.cookie = 'bad=%E0%A4%A; path=/';
    let owner: object = document;
    while (!Object.getOwnPropertyDescriptor(owner, 'cookie')) owner = Object.getPrototypeOf(owner) as object;
    const get = vi.spyOn(owner as Document, 'cookie', 'get');
    read();
    expect(get).toHaveBeenCalledTimes(1);
    expect([cookie('_fbc'), cookie('_pruuv'), cookie('bad')]).toEqual(['fb.1.2.A', '{"x":1}', undefined]);
    // The test helpers' own parse would throw on it.
    document.cookie = 'bad=; path=/; max-age=-1';
  });

  it('removes both copies without a value, and the record once it is empty', async () => {
    put('_pruuv', '{}');
    put('_fbp', 'fb.1.1.2');
    await settle();
    put('_pruuv');
    await settle();
    expect(cookieJar()._pruuv).toBeUndefined();
    expect(mirrored()).toEqual({ _fbp: 'fb.1.1.2' });
    put('_fbp');
    await settle();
    expect(localStorage.getItem(MIRROR)).toBeNull();
  });

  it('removes only the mirror copy with mirrorOnly', async () => {
    put('_fbc', 'fb.1.2.X');
    put('_fbc', undefined, 1);
    await settle();
    expect(cookieJar()._fbc).toBe('fb.1.2.X');
    expect(localStorage.getItem(MIRROR)).toBeNull();
  });

  it('restores a lost cookie from localStorage', () => {
    localStorage.setItem(MIRROR, JSON.stringify({ _pruuv_vid: 'from-ls' }));
    read();
    expect(get('_pruuv_vid')).toBe('from-ls');
    expect(cookieJar()._pruuv_vid).toBe('from-ls');
  });

  it('takes a mirror record that is not an object as empty', async () => {
    for (const bad of ['null', '"text"', '{broken', '42']) {
      localStorage.setItem(MIRROR, bad);
      page();
      read();
      expect(get('_pruuv_vid')).toBeUndefined();
      put('_pruuv_vid', 'v1');
      await settle();
      expect(mirrored()._pruuv_vid).toBe('v1');
      put('_pruuv_vid');
    }
  });

  it('restores lost localStorage from the cookie', async () => {
    put('_pruuv_vid', 'from-cookie');
    await settle();
    localStorage.clear();
    page();
    read();
    expect(get('_pruuv_vid')).toBe('from-cookie');
    await settle();
    expect(mirrored()._pruuv_vid).toBe('from-cookie');
  });

  it('lets the cookie win when the copies differ', async () => {
    put('_fbc', 'fb.1.2.NEW');
    localStorage.setItem(MIRROR, JSON.stringify({ _fbc: 'fb.1.1.OLD' }));
    page();
    read();
    expect(get('_fbc')).toBe('fb.1.2.NEW');
    await settle();
    expect(mirrored()._fbc).toBe('fb.1.2.NEW');
  });

  it("uses the probe's cookie read as the page's next read", () => {
    document.cookie = '_fbc=fb.1.2.A; path=/';
    let owner: object = document;
    while (!Object.getOwnPropertyDescriptor(owner, 'cookie')) owner = Object.getPrototypeOf(owner) as object;
    const reads = vi.spyOn(owner as Document, 'cookie', 'get');
    // happy-dom refuses cookies on public suffixes, as browsers do.
    expect(probe('com')).toBe(false);
    expect(probe('example.com')).toBe(true);
    read();
    expect(reads).toHaveBeenCalledTimes(2);
    expect(cookie('_fbc')).toBe('fb.1.2.A');
    expect(cookie('_pruuv_t')).toBeUndefined();
    // The read after that one reads.
    read();
    expect(reads).toHaveBeenCalledTimes(3);
    expect(cookieJar()._pruuv_t).toBeUndefined();
  });

  it('returns nothing when neither copy exists', () => {
    read();
    expect(get('_pruuv')).toBeFalsy();
  });

  it('keeps a value over 3,500 encoded bytes in localStorage only', () => {
    const big = JSON.stringify({ x: 'y'.repeat(3600) });
    put('_pruuv', '{"small":1}');
    put('_pruuv', big);
    expect(cookieJar()._pruuv).toBeUndefined();
    expect(get('_pruuv')).toBe(big);
  });

  it('survives a throwing localStorage', async () => {
    blockLocalStorage();
    expect(() => put('_pruuv_vid', 'v1')).not.toThrow();
    await settle();
    expect(get('_pruuv_vid')).toBe('v1');
    expect(lsGet('_pruuv_vid')).toBeUndefined();
    expect(() => lsSet('_pruuv_vid')).not.toThrow();
  });

  it('survives a throwing document.cookie', () => {
    blockCookies();
    expect(() => put('_pruuv_vid', 'v1')).not.toThrow();
    expect(() => read()).not.toThrow();
    expect(cookie('_pruuv_vid')).toBeUndefined();
    expect(get('_pruuv_vid')).toBe('v1');
  });

  it('survives a full localStorage (quota)', async () => {
    vi.spyOn(Storage.prototype, 'setItem').mockImplementation(() => {
      throw new DOMException('full', 'QuotaExceededError');
    });
    expect(() => put('_pruuv', '{}')).not.toThrow();
    await settle();
    expect(cookieJar()._pruuv).toBe('{}');
  });
});
