import { describe, expect, it } from 'vitest';
import { nextFb, validFb } from '../src/meta.js';

const T = 1_700_000_000_123;

describe('validFb', () => {
  const cases: [string | undefined, boolean][] = [
    ['fb.1.1554763741205.AbCdEfGhIjKlMnOpQrStUvWxYz1234567890', true],
    ['fb.1.1596403881668.1116446470', true],
    ['fb.0.1.x', true],
    ['fb.1.1554763741205.IwAR2xyz.AQQCAQIB', true],
    ['fb.2.1554763741205.IwAR2xyz.BA', true],
    ['fb.1.1554763741205.IwAR2xyz.Bg', true],
    ['fb.1.1554763741205.IwAR2xyz.XY', false],
    ['fb.1.1554763741205.IwAR2xyz.AQQCAQI', false],
    ['fb.1.1554763741205.IwAR2xyz.AQQCAQIB.x', false],
    // The 8-character appendix is base64url (platforms.md §1.8: 6 bytes, no padding), the
    // character set the sender's parseFbc accepts (issue 13 item 6).
    ['fb.1.1554763741205.IwAR2xyz.AQ-C_QIB', true],
    ['fb.1.1554763741205.IwAR2xyz.AQQC+QIB', false],
    ['fb.1.1554763741205.IwAR2xyz.AQQCAQ/B', false],
    ['fb.1.1554763741205.IwAR2xyz.AQQCAQI=', false],
    ['fb.1.1554763741205.IwAR2xyz.AQQC QIB', false],
    ['fb.1.1554763741205.IwAR2xyz.AQQCAQIé', false],
    ['fb.1.1554763741205', false],
    ['fb.1.1554763741205.', false],
    ['fb.x.1554763741205.abc', false],
    ['fb.1.15547637412O5.abc', false],
    ['FB.1.1554763741205.abc', false],
    ['fp.1.1554763741205.abc', false],
    ['', false],
    [undefined, false],
  ];
  for (const [value, ok] of cases) {
    it(`${ok ? 'accepts' : 'rejects'} ${JSON.stringify(value)}`, () => {
      expect(validFb(value)).toBe(ok);
    });
  }
});

describe('nextFb (_fbc)', () => {
  const cases: { name: string; cur?: string; fbclid: string; idx?: number; expected: string }[] = [
    { name: 'writes a new value when there is none', fbclid: 'IwAR1', expected: `fb.1.${T}.IwAR1` },
    { name: 'keeps a value with the same fbclid', cur: 'fb.1.1000.IwAR1', fbclid: 'IwAR1', expected: 'fb.1.1000.IwAR1' },
    { name: 'replaces a value with another fbclid', cur: 'fb.1.1000.IwAR1', fbclid: 'IwAR2', expected: `fb.1.${T}.IwAR2` },
    {
      name: "keeps a 5-segment value from Meta's tools verbatim",
      cur: 'fb.1.1000.IwAR1.AQQCAQIB',
      fbclid: 'IwAR1',
      expected: 'fb.1.1000.IwAR1.AQQCAQIB',
    },
    {
      name: 'compares segment 3, never the part after the last dot',
      cur: 'fb.1.1000.IwAR1.BA',
      fbclid: 'BA',
      expected: `fb.1.${T}.BA`,
    },
    { name: 'replaces an invalid value', cur: 'fb.1.abc.IwAR1', fbclid: 'IwAR1', expected: `fb.1.${T}.IwAR1` },
    { name: 'compares case-sensitively and keeps case', cur: 'fb.1.1000.iwar1', fbclid: 'IwAR1', expected: `fb.1.${T}.IwAR1` },
    { name: 'uses the subdomainIndex given', fbclid: 'IwAR1', idx: 2, expected: `fb.2.${T}.IwAR1` },
    { name: 'writes index 0 for localhost', fbclid: 'IwAR1', idx: 0, expected: `fb.0.${T}.IwAR1` },
  ];
  for (const { name, cur, fbclid, idx = 1, expected } of cases) {
    it(name, () => {
      expect(nextFb(cur, idx, T, fbclid)).toBe(expected);
    });
  }
});
