import { describe, expect, it, vi } from 'vitest';
import { get, lsGet, lsSet, put, readCookie, type CookieAttrs } from '../src/storage.js';
import { blockCookies, blockLocalStorage, cookieJar, isolatePixels } from './helpers.js';

const attrs: CookieAttrs = { domain: 'example.com', expires: 90, sameSite: 'Lax', secure: true };

describe('storage', () => {
  isolatePixels('https://www.example.com/');

  it('writes the cookie and the localStorage mirror', () => {
    put(attrs, '_pruuv_vid', 'v1');
    expect(cookieJar()._pruuv_vid).toBe('v1');
    expect(localStorage.getItem('_pruuv_vid')).toBe('v1');
  });

  it('writes Domain, a 90-day expiry, SameSite=Lax and Secure', () => {
    let owner: object = document;
    while (!Object.getOwnPropertyDescriptor(owner, 'cookie')) owner = Object.getPrototypeOf(owner) as object;
    const set = vi.spyOn(owner as Document, 'cookie', 'set');
    const before = Date.now();
    put(attrs, '_fbp', 'fb.1.1.2');
    const written = set.mock.calls[0]?.[0] as string;
    expect(written).toMatch(/^_fbp=fb\.1\.1\.2; /);
    expect(written).toContain('; domain=example.com');
    expect(written).toContain('; sameSite=Lax');
    expect(written).toContain('; secure');
    expect(written).toContain('; path=/');
    const expires = Date.parse(/expires=([^;]+)/.exec(written)?.[1] ?? '');
    expect(expires - before).toBeGreaterThan(90 * 864e5 - 60_000);
    expect(expires - before).toBeLessThan(90 * 864e5 + 60_000);
  });

  it('removes both copies without a value', () => {
    put(attrs, '_pruuv', '{}');
    put(attrs, '_pruuv');
    expect(cookieJar()._pruuv).toBeUndefined();
    expect(localStorage.getItem('_pruuv')).toBeNull();
  });

  it('restores a lost cookie from localStorage', () => {
    localStorage.setItem('_pruuv_vid', 'from-ls');
    expect(get(attrs, '_pruuv_vid')).toBe('from-ls');
    expect(cookieJar()._pruuv_vid).toBe('from-ls');
  });

  it('restores lost localStorage from the cookie', () => {
    put(attrs, '_pruuv_vid', 'from-cookie');
    localStorage.clear();
    expect(get(attrs, '_pruuv_vid')).toBe('from-cookie');
    expect(localStorage.getItem('_pruuv_vid')).toBe('from-cookie');
  });

  it('lets the cookie win when the copies differ', () => {
    put(attrs, '_fbc', 'fb.1.2.NEW');
    localStorage.setItem('_fbc', 'fb.1.1.OLD');
    expect(get(attrs, '_fbc')).toBe('fb.1.2.NEW');
    expect(localStorage.getItem('_fbc')).toBe('fb.1.2.NEW');
  });

  it('returns nothing when neither copy exists', () => {
    expect(get(attrs, '_pruuv')).toBeFalsy();
  });

  it('keeps a value over 3,500 encoded bytes in localStorage only', () => {
    const big = JSON.stringify({ x: 'y'.repeat(3600) });
    put(attrs, '_pruuv', '{"small":1}');
    put(attrs, '_pruuv', big);
    expect(cookieJar()._pruuv).toBeUndefined();
    expect(get(attrs, '_pruuv')).toBe(big);
  });

  it('survives a throwing localStorage', () => {
    blockLocalStorage();
    expect(() => put(attrs, '_pruuv_vid', 'v1')).not.toThrow();
    expect(get(attrs, '_pruuv_vid')).toBe('v1');
    expect(lsGet('_pruuv_vid')).toBeUndefined();
    expect(() => lsSet('_pruuv_vid')).not.toThrow();
  });

  it('survives a throwing document.cookie', () => {
    blockCookies();
    expect(() => put(attrs, '_pruuv_vid', 'v1')).not.toThrow();
    expect(readCookie('_pruuv_vid')).toBeUndefined();
    expect(get(attrs, '_pruuv_vid')).toBe('v1');
  });

  it('survives a full localStorage (quota)', () => {
    vi.spyOn(Storage.prototype, 'setItem').mockImplementation(() => {
      throw new DOMException('full', 'QuotaExceededError');
    });
    expect(() => put(attrs, '_pruuv', '{}')).not.toThrow();
    expect(cookieJar()._pruuv).toBe('{}');
  });
});
