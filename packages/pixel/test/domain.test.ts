import { describe, expect, it } from 'vitest';
import { findDomain, levels, subdomainIndex } from '../src/domain.js';
import { probeCookie } from '../src/storage.js';
import { blockCookies, cookieJar, isolatePixels, setUrl } from './helpers.js';

/** A probe that behaves like a browser with this public-suffix list, and records its calls. */
function fakeProbe(suffixes = ['com', 'uk', 'co.uk', 'io', 'github.io']) {
  const calls: string[] = [];
  const probe = (domain: string) => {
    calls.push(domain);
    return !suffixes.includes(domain);
  };
  return { probe, calls };
}

describe('findDomain', () => {
  const cases = [
    { host: 'www.shop.example.co.uk', expected: 'example.co.uk', probes: ['co.uk', 'example.co.uk'] },
    { host: 'example.com', expected: 'example.com', probes: ['example.com'] },
    { host: 'www.example.com', expected: 'example.com', probes: ['example.com'] },
    { host: 'user.github.io', expected: 'user.github.io', probes: ['github.io', 'user.github.io'] },
    { host: 'localhost', expected: '', probes: [] },
    { host: '127.0.0.1', expected: '', probes: [] },
    { host: '[::1]', expected: '', probes: [] },
  ];
  for (const { host, expected, probes } of cases) {
    it(`finds ${JSON.stringify(expected)} for ${host}`, () => {
      const { probe, calls } = fakeProbe();
      expect(findDomain(host, probe)).toBe(expected);
      expect(calls).toEqual(probes);
    });
  }

  it('returns "" when every probe fails (cookies blocked)', () => {
    expect(findDomain('www.example.com', () => false)).toBe('');
  });
});

describe('levels', () => {
  it('lists every domain from the host to its top label', () => {
    expect(levels('www.shop.example.co.uk')).toEqual(['www.shop.example.co.uk', 'shop.example.co.uk', 'example.co.uk', 'co.uk', 'uk']);
  });

  it('lists a single-label host alone', () => {
    expect(levels('localhost')).toEqual(['localhost']);
  });
});

describe('subdomainIndex', () => {
  const cases: [string, number][] = [
    ['example.com', 1],
    ['www.example.com', 2],
    ['example.co.uk', 2],
    ['.example.com', 1],
    ['localhost', 0],
    ['127.0.0.1', 0],
    ['[::1]', 0],
  ];
  for (const [domain, index] of cases) {
    it(`is ${index} for ${domain}`, () => {
      expect(subdomainIndex(domain)).toBe(index);
    });
  }
});

describe('probeCookie (happy-dom, which refuses cookies on public suffixes)', () => {
  isolatePixels('https://www.shop.example.co.uk/');

  it('finds the registrable domain and leaves no test cookie behind', () => {
    expect(findDomain(location.hostname, probeCookie)).toBe('example.co.uk');
    expect(cookieJar()).toEqual({});
  });

  it('returns false when document.cookie throws', () => {
    blockCookies();
    expect(probeCookie('example.co.uk')).toBe(false);
  });
});

it('finds no cookie domain on localhost', () => {
  setUrl('http://localhost:3000/');
  expect(findDomain(location.hostname, probeCookie)).toBe('');
});
