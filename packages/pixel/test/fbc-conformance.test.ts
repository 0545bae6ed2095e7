// @vitest-environment node
/**
 * The pixel and the sender must agree on what a valid `_fbc`/`_fbp` is (issue 13 item 6):
 * a value the pixel keeps and sends, the sender must accept, and the other way round, or
 * one side keeps what the other drops. Checked against the sender's own `parseFbc` (its
 * built `dist`, as `npm test` builds every package first), on Meta's shapes and on
 * generated values.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseFbc } from '@pruuv/sender/platforms';
import { validFb } from '../src/meta.js';

const senderAccepts = (v: string): boolean => parseFbc(v) !== undefined;

describe('validFb agrees with the sender', () => {
  const appendices = ['', '.AQ', '.Bg', '.BQ', '.XY', '.AQQCAQIB', '.AQ-C_QIB', '.AQQC+QIB', '.AQQCAQ/B', '.AQQCAQI=', '.AQQCAQI', '.AQQCAQIBx'];
  for (const a of appendices) {
    const v = `fb.1.1554763741205.IwAR2xyz${a}`;
    it(`on ${v}`, () => {
      expect(validFb(v)).toBe(senderAccepts(v));
    });
  }

  it('on generated values', () => {
    const part = fc.oneof(
      fc.constantFrom('fb', 'fp', 'FB', '1', '', 'AQ', 'Ag', 'Aw', 'BA', 'BQ', 'Bg'),
      fc.stringMatching(/^\d{1,14}$/),
      fc.string({ maxLength: 10 }),
      fc.string({ minLength: 8, maxLength: 8 }),
      fc.stringMatching(/^[\w-]{8}$/),
      fc.stringMatching(/^[\x21-\x7e]{8}$/),
    );
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 6 }), (parts) => {
        const v = parts.join('.');
        expect(validFb(v), v).toBe(senderAccepts(v));
      }),
      { numRuns: 5000 },
    );
  });
});
