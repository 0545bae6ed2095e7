import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createStore, lsGet, lsSet, type CookieAttrs, type Store } from '../src/storage.js';
import { blockCookies, blockLocalStorage, cookieJar, isolatePixels } from './helpers.js';

const attrs: CookieAttrs = { domain: 'example.com', expires: 90, secure: true };

describe('storage', () => {
  isolatePixels('https://www.example.com/');
  // A page's store: its one cookie read happens first.
  let read: Store[0];
  let cookie: Store[1];
  let get: Store[2];
  let put: Store[3];
  /** A new page: a new store. */
  const page = () => ([read, cookie, get, put] = createStore(attrs));
  beforeEach(page);

  it('writes the cookie and the localStorage mirror', () => {
    put('_pruuv_vid', 'v1');
    expect(cookieJar()._pruuv_vid).toBe('v1');
    expect(localStorage.getItem('_pruuv_vid')).toBe('v1');
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

  it('removes both copies without a value', () => {
    put('_pruuv', '{}');
    put('_pruuv');
    expect(cookieJar()._pruuv).toBeUndefined();
    expect(localStorage.getItem('_pruuv')).toBeNull();
  });

  it('restores a lost cookie from localStorage', () => {
    localStorage.setItem('_pruuv_vid', 'from-ls');
    read();
    expect(get('_pruuv_vid')).toBe('from-ls');
    expect(cookieJar()._pruuv_vid).toBe('from-ls');
  });

  it('restores lost localStorage from the cookie', () => {
    put('_pruuv_vid', 'from-cookie');
    localStorage.clear();
    page();
    read();
    expect(get('_pruuv_vid')).toBe('from-cookie');
    expect(localStorage.getItem('_pruuv_vid')).toBe('from-cookie');
  });

  it('lets the cookie win when the copies differ', () => {
    put('_fbc', 'fb.1.2.NEW');
    localStorage.setItem('_fbc', 'fb.1.1.OLD');
    page();
    read();
    expect(get('_fbc')).toBe('fb.1.2.NEW');
    expect(localStorage.getItem('_fbc')).toBe('fb.1.2.NEW');
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

  it('survives a throwing localStorage', () => {
    blockLocalStorage();
    expect(() => put('_pruuv_vid', 'v1')).not.toThrow();
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

  it('survives a full localStorage (quota)', () => {
    vi.spyOn(Storage.prototype, 'setItem').mockImplementation(() => {
      throw new DOMException('full', 'QuotaExceededError');
    });
    expect(() => put('_pruuv', '{}')).not.toThrow();
    expect(cookieJar()._pruuv).toBe('{}');
  });
});
