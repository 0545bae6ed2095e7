import { describe, expect, it } from 'vitest';
import { parseCookieHeader, reissueCookies, sharedDomain } from '../src/http/cookies.js';

describe('sharedDomain', () => {
  const cases: { page: string; host: string; expected: string | undefined }[] = [
    { page: 'www.example.com', host: 'collect.example.com', expected: 'example.com' },
    { page: 'example.com', host: 'example.com', expected: 'example.com' },
    { page: 'www.example.co.uk', host: 'c.example.co.uk', expected: 'example.co.uk' },
    { page: 'WWW.Example.com', host: 'collect.example.com.', expected: 'example.com' },
    { page: 'www.example.com', host: 'pruuv.agency.io', expected: undefined },
    { page: 'example.com', host: 'other.com', expected: undefined },
    { page: 'localhost', host: 'localhost', expected: undefined },
    { page: '127.0.0.1', host: '127.0.0.1', expected: undefined },
    { page: '[::1]', host: '[::1]', expected: undefined },
    { page: 'a.example.com', host: 'b.notexample.com', expected: undefined },
  ];
  for (const { page, host, expected } of cases) {
    it(`gives ${String(expected)} for ${page} and ${host}`, () => {
      expect(sharedDomain(page, host)).toBe(expected);
    });
  }
});

describe('parseCookieHeader', () => {
  it('keeps values as sent and the first of repeated names', () => {
    expect([...parseCookieHeader('a=1; _pruuv=%7B%7D;a=2; bad; =x; b = 3 ')]).toEqual([
      ['a', '1'],
      ['_pruuv', '%7B%7D'],
      ['b', '3'],
    ]);
  });
});

describe('reissueCookies', () => {
  it('narrows the domain to where the pixel wrote, per the fbp subdomainIndex', () => {
    // Collector proxied on the page's own host: the shared suffix is the whole host,
    // but _fbp says the pixel wrote on a 2-label domain (platforms.md §1.8).
    expect(
      reissueCookies({ cookieHeader: '_fbp=fb.1.1.2', pageOrigin: 'https://www.example.com', requestHost: 'www.example.com' }),
    ).toEqual(['_fbp=fb.1.1.2; Domain=example.com; Path=/; Max-Age=7776000; SameSite=Lax; Secure']);
  });

  it('omits Secure for an http page', () => {
    expect(
      reissueCookies({ cookieHeader: '_pruuv_vid=v1', pageOrigin: 'http://www.example.com', requestHost: 'c.example.com' }),
    ).toEqual(['_pruuv_vid=v1; Domain=example.com; Path=/; Max-Age=7776000; SameSite=Lax']);
  });

  it('skips values that are not cookie-safe and cookies it does not own', () => {
    expect(
      reissueCookies({
        cookieHeader: '_fbc="quoted"; _fbp=a\\b; session=secret',
        pageOrigin: 'https://www.example.com',
        requestHost: 'c.example.com',
      }),
    ).toEqual([]);
  });

  it('sets nothing cross-site or without cookies', () => {
    expect(reissueCookies({ cookieHeader: '_fbp=fb.1.1.2', pageOrigin: 'https://www.example.com', requestHost: 'pruuv.io' })).toEqual([]);
    expect(reissueCookies({ cookieHeader: undefined, pageOrigin: 'https://www.example.com', requestHost: 'c.example.com' })).toEqual([]);
    expect(reissueCookies({ cookieHeader: '_fbp=fb.1.1.2', pageOrigin: 'null', requestHost: 'c.example.com' })).toEqual([]);
  });
});
