import { describe, expect, it } from 'vitest';
import { addressKey, createBeaconLimits, createTokenBuckets } from '../src/domain/beacon-limits.js';
import { holdReason, type BeaconHeaders } from '../src/domain/beacon-signals.js';
import { CHROME_USER_AGENT } from './helpers/payloads.js';

const SAFARI_17 = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
const FIREFOX_128 = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
const fetchMetadata = { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty' };

describe('holdReason', () => {
  const cases: Array<{ name: string; headers: BeaconHeaders; expected: string | undefined }> = [
    { name: 'Chrome fetch, same site', headers: { 'user-agent': CHROME_USER_AGENT, ...fetchMetadata, 'sec-fetch-site': 'same-site' }, expected: undefined },
    { name: 'Safari 17 sendBeacon (no-cors)', headers: { 'user-agent': SAFARI_17, ...fetchMetadata, 'sec-fetch-mode': 'no-cors' }, expected: undefined },
    { name: 'Firefox 128, no Sec-Fetch-Dest', headers: { 'user-agent': FIREFOX_128, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'cors' }, expected: undefined },
    { name: 'curl', headers: { 'user-agent': 'curl/8.5.0' }, expected: 'bot_user_agent' },
    { name: 'python-requests with copied metadata', headers: { 'user-agent': 'python-requests/2.31.0', ...fetchMetadata }, expected: 'bot_user_agent' },
    { name: 'headless Chrome', headers: { 'user-agent': CHROME_USER_AGENT.replace('Chrome/', 'HeadlessChrome/'), ...fetchMetadata }, expected: 'bot_user_agent' },
    { name: 'no User-Agent', headers: fetchMetadata, expected: 'no_user_agent' },
    { name: 'a blank User-Agent', headers: { 'user-agent': '  ', ...fetchMetadata }, expected: 'no_user_agent' },
    { name: 'IE 6', headers: { 'user-agent': 'Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)', ...fetchMetadata }, expected: 'not_a_browser_user_agent' },
    { name: 'Safari 16.3: no fetch metadata', headers: { 'user-agent': SAFARI_17.replace('17_4', '16_3').replace('17.4', '16.3') }, expected: 'no_fetch_metadata' },
    { name: 'Sec-Fetch-Mode only', headers: { 'user-agent': CHROME_USER_AGENT, 'sec-fetch-mode': 'cors' }, expected: 'no_fetch_metadata' },
    { name: 'a navigation', headers: { 'user-agent': CHROME_USER_AGENT, ...fetchMetadata, 'sec-fetch-mode': 'navigate' }, expected: 'not_a_beacon' },
    { name: 'typed in the address bar', headers: { 'user-agent': CHROME_USER_AGENT, ...fetchMetadata, 'sec-fetch-site': 'none' }, expected: 'not_a_beacon' },
    { name: 'an image request', headers: { 'user-agent': CHROME_USER_AGENT, ...fetchMetadata, 'sec-fetch-dest': 'image' }, expected: 'not_a_beacon' },
  ];
  for (const { name, headers, expected } of cases) {
    it(`${expected ?? 'passes'}: ${name}`, () => {
      expect(holdReason(headers)).toBe(expected);
    });
  }

  it('runs only the signals it is given', () => {
    expect(holdReason({ 'user-agent': 'curl/8.5.0' }, new Set(['fetch_metadata']))).toBe('no_fetch_metadata');
    expect(holdReason({ 'user-agent': CHROME_USER_AGENT }, new Set(['bot', 'user_agent']))).toBeUndefined();
    expect(holdReason({}, new Set())).toBeUndefined();
  });
});

describe('createTokenBuckets', () => {
  it('takes a burst, then refills at the rate, and says how long to wait', () => {
    const buckets = createTokenBuckets({ capacity: 3, refillPerSecond: 0.5 });
    expect([0, 0, 0].map((t) => buckets.take('a', t))).toEqual([undefined, undefined, undefined]);
    expect(buckets.take('a', 0)).toBe(2);
    expect(buckets.take('b', 0)).toBeUndefined();
    expect(buckets.take('a', 1000)).toBe(1);
    expect(buckets.take('a', 2000)).toBeUndefined();
    expect(buckets.take('a', 2000)).toBe(2);
  });

  it('forgets the least recently used bucket past maxKeys (it is full again)', () => {
    const buckets = createTokenBuckets({ capacity: 1, refillPerSecond: 0.001, maxKeys: 2 });
    expect(buckets.take('a', 0)).toBeUndefined();
    expect(buckets.take('b', 0)).toBeUndefined();
    expect(buckets.take('c', 0)).toBeUndefined();
    expect(buckets.take('b', 0)).toBe(1000);
    expect(buckets.take('a', 0)).toBeUndefined();
  });
});

describe('createBeaconLimits', () => {
  it('limits each address per site, then the site over every address', () => {
    const limits = createBeaconLimits({ burst: 2, perMinute: 60, sitePerHour: 3 });
    expect(limits.take('192.0.2.1', 'cli_a', 0)).toEqual({ ok: true });
    expect(limits.take('192.0.2.1', 'cli_a', 0)).toEqual({ ok: true });
    expect(limits.take('192.0.2.1', 'cli_a', 0)).toEqual({ ok: false, scope: 'address', retryAfterSeconds: 1 });
    expect(limits.take('192.0.2.1', 'cli_b', 0)).toEqual({ ok: true });
    expect(limits.take('192.0.2.2', 'cli_a', 0)).toEqual({ ok: true });
    expect(limits.take('192.0.2.3', 'cli_a', 0)).toEqual({ ok: false, scope: 'site', retryAfterSeconds: 1200 });
  });

  it('counts an IPv6 /64 as one address', () => {
    const limits = createBeaconLimits({ burst: 1, perMinute: 1, sitePerHour: 100 });
    expect(limits.take('2001:db8:1:2::1', 'cli_a', 0)).toEqual({ ok: true });
    expect(limits.take('2001:db8:1:2:ffff::9', 'cli_a', 0)).toMatchObject({ ok: false, scope: 'address' });
    expect(limits.take('2001:db8:1:3::1', 'cli_a', 0)).toEqual({ ok: true });
  });
});

describe('addressKey', () => {
  const cases = [
    { input: '192.0.2.10', expected: '192.0.2.10' },
    { input: '::ffff:192.0.2.10', expected: '192.0.2.10' },
    { input: '2001:db8:85a3:8d3:1319:8a2e:370:7348', expected: '2001:db8:85a3:8d3::/64' },
    { input: '2001:0db8:0000:0001::1', expected: '2001:db8:0:1::/64' },
    { input: '2001:db8::1', expected: '2001:db8:0:0::/64' },
    { input: '::1', expected: '0:0:0:0::/64' },
    { input: 'fe80::1%eth0', expected: 'fe80:0:0:0::/64' },
  ];
  for (const { input, expected } of cases) {
    it(`${input} → ${expected}`, () => {
      expect(addressKey(input)).toBe(expected);
    });
  }
});
