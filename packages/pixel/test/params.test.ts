import { describe, expect, it } from 'vitest';
import { captureParams, readParams, validClickId, validValue } from '../src/params.js';

const long = (n: number) => 'a'.repeat(n);

describe('readParams', () => {
  const cases: { name: string; url: string; expected: Record<string, string> }[] = [
    { name: 'reads a gclid', url: 'https://shop.example/?gclid=EAIaIQobChMI', expected: { gclid: 'EAIaIQobChMI' } },
    { name: 'keeps case', url: 'https://s.example/?fbclid=IwAR1AbCdEfGh', expected: { fbclid: 'IwAR1AbCdEfGh' } },
    { name: 'decodes once', url: 'https://s.example/?gclid=a%2520b', expected: { gclid: 'a%20b' } },
    { name: 'decodes + as a space', url: 'https://s.example/?utm_campaign=spring+sale', expected: { utm_campaign: 'spring sale' } },
    { name: 'decodes UTF-8', url: 'https://s.example/?utm_term=caf%C3%A9', expected: { utm_term: 'café' } },
    { name: 'ignores a click ID with a space', url: 'https://s.example/?gclid=a+b&utm_term=a+b', expected: { utm_term: 'a b' } },
    { name: 'ignores a click ID with non-ASCII', url: 'https://s.example/?fbclid=caf%C3%A9', expected: {} },
    { name: 'keeps a click ID with URL-safe symbols', url: 'https://s.example/?ttclid=E.C.P.v3_-~Z', expected: { ttclid: 'E.C.P.v3_-~Z' } },
    { name: 'keeps 500 characters', url: `https://s.example/?ttclid=${long(500)}`, expected: { ttclid: long(500) } },
    { name: 'ignores 501 characters', url: `https://s.example/?ttclid=${long(501)}&gclid=ok`, expected: { gclid: 'ok' } },
    { name: 'ignores a newline', url: 'https://s.example/?gclid=a%0Ab', expected: {} },
    { name: 'ignores a NUL', url: 'https://s.example/?gclid=a%00b', expected: {} },
    { name: 'ignores a tab', url: 'https://s.example/?msclkid=a%09b', expected: {} },
    { name: 'ignores a control character in a UTM', url: 'https://s.example/?utm_source=a%0Db', expected: {} },
    { name: 'ignores a 501-character UTM', url: `https://s.example/?utm_content=${long(501)}`, expected: {} },
    { name: 'ignores DEL', url: 'https://s.example/?gclid=a%7Fb', expected: {} },
    { name: 'ignores a C1 control', url: 'https://s.example/?gclid=a%C2%85b', expected: {} },
    { name: 'ignores an empty value', url: 'https://s.example/?gclid=&wbraid=w1', expected: { wbraid: 'w1' } },
    { name: 'takes the first of repeated values', url: 'https://s.example/?gclid=one&gclid=two', expected: { gclid: 'one' } },
    { name: 'ignores the fragment', url: 'https://s.example/?a=1#gclid=x', expected: {} },
    { name: 'ignores a query inside the fragment', url: 'https://s.example/#/route?gclid=x', expected: {} },
    { name: 'ignores other parameters', url: 'https://s.example/?gad_source=1&fbclid=F', expected: { fbclid: 'F' } },
    { name: 'returns {} for an empty string', url: '', expected: {} },
    { name: 'returns {} for a relative URL', url: '/landing?gclid=x', expected: {} },
    {
      name: 'reads every captured parameter',
      url:
        'https://s.example/p?fbclid=F&gclid=G&wbraid=W&gbraid=B&ttclid=T&msclkid=M' +
        '&utm_source=src&utm_medium=med&utm_campaign=cmp&utm_content=cnt&utm_term=trm',
      expected: {
        fbclid: 'F',
        gclid: 'G',
        wbraid: 'W',
        gbraid: 'B',
        ttclid: 'T',
        msclkid: 'M',
        utm_source: 'src',
        utm_medium: 'med',
        utm_campaign: 'cmp',
        utm_content: 'cnt',
        utm_term: 'trm',
      },
    },
  ];
  for (const { name, url, expected } of cases) {
    it(name, () => {
      expect(readParams(url)).toEqual(expected);
    });
  }
});

describe("captureParams: TikTok's own ttclid cases", () => {
  // tiktok/gtm-template-eapi, template.tpl, test "TestTtclid" (Apache-2.0): page_location and
  // page_referrer in, the ttclid the template sends out.
  const cases: { url: string; referrer: string; ttclid?: string }[] = [
    { url: 'https://www.tiktok.com?ttclid=myttclid', referrer: '', ttclid: 'myttclid' },
    { url: 'https://www.tiktok.com', referrer: 'https://www.tiktok.com?ttclid=myttclid', ttclid: 'myttclid' },
    { url: 'https://www.tiktok.com', referrer: 'https://www.fake-tiktok.com?ttclid=myttclid' },
    { url: 'https://www.tiktok.com', referrer: '' },
  ];
  for (const { url, referrer, ttclid } of cases) {
    it(`${ttclid ? 'takes' : 'takes no'} ttclid for ${url} from ${referrer || 'no referrer'}`, () => {
      expect(captureParams(url, referrer).ttclid).toBe(ttclid);
    });
  }
});

describe('readParams: fbclid in the fragment', () => {
  // Meta's reference reads `[?#&]fbclid=` anywhere in the URL, so a fragment counts
  // (facebook/capi-param-builder, client_js/shared/utils/urlUtil.js, getURLParameter);
  // some in-app browsers and redirects move the query behind the `#`.
  const cases: { name: string; url: string; expected: Record<string, string> }[] = [
    { name: 'reads an fbclid that is the fragment', url: 'https://s.example/#fbclid=IwAR_hash', expected: { fbclid: 'IwAR_hash' } },
    { name: 'reads an fbclid among fragment parameters', url: 'https://s.example/#a=1&fbclid=F2&b=2', expected: { fbclid: 'F2' } },
    { name: 'reads an fbclid in a route in the fragment', url: 'https://s.example/#/offer?fbclid=F3', expected: { fbclid: 'F3' } },
    { name: 'reads an fbclid after a query', url: 'https://s.example/?utm_source=fb#fbclid=F4', expected: { utm_source: 'fb', fbclid: 'F4' } },
    { name: 'decodes a fragment fbclid once, like the query', url: 'https://s.example/#fbclid=a%2Bb%2520', expected: { fbclid: 'a+b%20' } },
    { name: 'prefers the query fbclid', url: 'https://s.example/?fbclid=Query#fbclid=Hash', expected: { fbclid: 'Query' } },
    { name: 'reads no other parameter from the fragment', url: 'https://s.example/#fbclid=F5&gclid=G&utm_source=x', expected: { fbclid: 'F5' } },
    // Meta's own cases (client_js/shared/tests/urlUtil.test.js): a value, an empty value, a path.
    { name: "takes Meta's value", url: 'http://warbyparker.com/?fbclid=12345&test=abcd', expected: { fbclid: '12345' } },
    { name: "takes nothing for Meta's empty value", url: 'http://warbyparker.com/?foo=bar&fbclid=', expected: {} },
    { name: "takes nothing from Meta's path", url: 'http://warbyparker.com/fbclid=12345/?hello=world&foo=bar', expected: {} },
  ];
  for (const { name, url, expected } of cases) {
    it(name, () => {
      expect(readParams(url)).toEqual(expected);
    });
  }
});

describe('validValue', () => {
  for (const [value, ok] of [
    ['x', true],
    ['', false],
    [null, false],
    [undefined, false],
    [long(500), true],
    [long(501), false],
    ['a\u001fb', false],
    ['a\u0080b', false],
    ['a\u00a0b', true],
  ] as const) {
    it(`${ok ? 'accepts' : 'rejects'} ${JSON.stringify(value)?.slice(0, 12)}…(${String(value).length})`, () => {
      expect(validValue(value)).toBe(ok);
    });
  }
});

describe('validClickId', () => {
  for (const [value, ok] of [
    ['EAIaIQobChMI_-x', true],
    ['a b', false],
    ['', false],
    [undefined, false],
    ['café', false],
    [long(500), true],
    [long(501), false],
  ] as const) {
    it(`${ok ? 'accepts' : 'rejects'} ${JSON.stringify(value)?.slice(0, 12)}…(${String(value).length})`, () => {
      expect(validClickId(value)).toBe(ok);
    });
  }
});

describe('captureParams', () => {
  const cases = [
    {
      name: 'prefers the page URL',
      url: 'https://s.example/?gclid=page',
      referrer: 'https://s.example/?gclid=ref',
      expected: { gclid: 'page' },
    },
    {
      name: 'falls back to the referrer when the URL has none',
      url: 'https://s.example/thanks',
      referrer: 'https://s.example/landing?fbclid=IwAR9&utm_source=fb',
      expected: { fbclid: 'IwAR9', utm_source: 'fb' },
    },
    // Was "never mixes the two" ({ utm_source: 'news' }): the whole set came from one URL.
    // Issue 13 item 3 reverses that for click IDs, as Meta's reference takes the fbclid from
    // the referrer whenever the URLs before it lack one (client_js/shared/utils/cookieUtil.js,
    // getFbcFromQuery); the one-URL rule now holds for UTMs only.
    {
      name: 'takes the fbclid from the referrer when the URL has UTMs but no fbclid',
      url: 'https://s.example/?utm_source=news',
      referrer: 'https://s.example/?fbclid=IwAR9',
      expected: { utm_source: 'news', fbclid: 'IwAR9' },
    },
    {
      name: 'takes each click ID the URL lacks from the referrer, the URL first',
      url: 'https://s.example/?gclid=page',
      referrer: 'https://s.example/?gclid=ref&fbclid=F1&msclkid=M1&wbraid=W1&gbraid=B1&ttclid=T1',
      expected: { gclid: 'page', fbclid: 'F1', msclkid: 'M1', wbraid: 'W1', gbraid: 'B1', ttclid: 'T1' },
    },
    {
      name: "takes a click ID from the referrer when the URL's is invalid",
      url: 'https://s.example/?gclid=a+b',
      referrer: 'https://s.example/?gclid=G-ref',
      expected: { gclid: 'G-ref' },
    },
    {
      name: "takes the referrer's UTMs only when the URL has no parameter",
      url: 'https://s.example/?gclid=G1',
      referrer: 'https://s.example/?utm_source=news&utm_campaign=spring&fbclid=F1',
      expected: { gclid: 'G1', fbclid: 'F1' },
    },
    {
      name: 'never mixes the UTMs of two URLs',
      url: 'https://s.example/?utm_source=banner',
      referrer: 'https://s.example/?utm_source=news&utm_campaign=spring',
      expected: { utm_source: 'banner' },
    },
    { name: 'returns {} when neither has any', url: 'https://s.example/', referrer: '', expected: {} },
    // Issue 13 item 4: TikTok's template takes a referrer's ttclid only when the referrer's
    // hostname is the page's (tiktok/gtm-template-eapi, template.js getTtclidFromUrl).
    {
      name: 'takes no ttclid from a referrer on another host',
      url: 'https://shop.example/landing',
      referrer: 'https://blog.other.example/?ttclid=T-foreign&gclid=G-ref',
      expected: { gclid: 'G-ref' },
    },
    {
      name: 'takes no ttclid from a sibling subdomain (hostnames compare exactly)',
      url: 'https://www.shop.example/',
      referrer: 'https://shop.example/?ttclid=T-apex',
      expected: {},
    },
    {
      name: 'takes a ttclid from a referrer on the same host',
      url: 'https://shop.example/next',
      referrer: 'https://shop.example/?ttclid=T-same',
      expected: { ttclid: 'T-same' },
    },
  ];
  for (const { name, url, referrer, expected } of cases) {
    it(name, () => {
      expect(captureParams(url, referrer)).toEqual(expected);
    });
  }
});
