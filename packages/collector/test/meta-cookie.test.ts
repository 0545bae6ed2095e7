/**
 * The `_fbc`/`_fbp` appendix (the optional 5th segment Meta's own SDKs add) is
 * checked with ONE character set across Pruuv: the pixel's and the sender's
 * `[A-Za-z0-9_-]{8}` (base64url without padding: 6 bytes, platforms.md §1.8),
 * or one of the legacy 2-character language tokens (issue 13, item 6).
 */
import { parseFbc } from '@pruuv/sender/platforms';
import { describe, expect, it } from 'vitest';
import { isMetaCookie } from '../src/domain/schemas.js';

const cases: { name: string; value: string; valid: boolean }[] = [
  { name: 'no appendix', value: 'fb.1.1554763741205.IwAR1abc', valid: true },
  { name: "the param builder's base64url appendix", value: 'fb.1.1554763741205.IwAR1abc.AQQCAQIB', valid: true },
  { name: 'a base64url appendix with - and _', value: 'fb.1.1554763741205.IwAR1abc.AQ-C_QIB', valid: true },
  { name: 'the legacy NodeJS token', value: 'fb.1.1554763741205.IwAR1abc.BA', valid: true },
  { name: 'an appendix with +', value: 'fb.1.1554763741205.IwAR1abc.AQQC+QIB', valid: false },
  { name: 'an appendix with /', value: 'fb.1.1554763741205.IwAR1abc.AQQC/QIB', valid: false },
  { name: 'an appendix with = padding', value: 'fb.1.1554763741205.IwAR1abc.AQQCAQ==', valid: false },
  { name: 'an appendix of punctuation', value: 'fb.1.1554763741205.IwAR1abc.!!!!!!!!', valid: false },
  { name: 'an appendix with a non-ASCII letter', value: 'fb.1.1554763741205.IwAR1abc.AQQCAQIé', valid: false },
  { name: 'an unknown 2-character token', value: 'fb.1.1554763741205.IwAR1abc.ZZ', valid: false },
  { name: 'a 7-character appendix', value: 'fb.1.1554763741205.IwAR1abc.AQQCAQI', valid: false },
];

describe('isMetaCookie', () => {
  for (const { name, value, valid } of cases) {
    it(`${valid ? 'accepts' : 'refuses'} ${name}, as the sender does`, () => {
      expect(isMetaCookie(value)).toBe(valid);
      expect(parseFbc(value) !== undefined).toBe(valid);
    });
  }
});
