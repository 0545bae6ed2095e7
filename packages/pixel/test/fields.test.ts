import { describe, expect, it } from 'vitest';
import { fieldValues, fillFields } from '../src/fields.js';
import type { Attribution } from '../src/types.js';

const attribution: Attribution = {
  clicks: {
    gclid: { value: 'G1', ts: '2026-01-01T00:00:00.000Z' },
    fbclid: { value: 'F1', ts: '2026-01-02T00:00:00.000Z' },
  },
  last_touch: { params: { fbclid: 'F1', utm_source: 'facebook', utm_campaign: 'spring' }, url: 'https://s.example/', ts: '2026-01-02T00:00:00.000Z' },
  fbc: 'fb.1.1767312000000.F1',
  fbp: 'fb.1.1767225600000.42',
  ttp: 'ttp-1',
};

describe('fieldValues', () => {
  const table: [string, string | undefined][] = [
    ['gclid', 'G1'],
    ['gclid_timestamp', '2026-01-01T00:00:00.000Z'],
    ['fbclid', 'F1'],
    ['fbclid_timestamp', '2026-01-02T00:00:00.000Z'],
    ['utm_source', 'facebook'],
    ['utm_campaign', 'spring'],
    ['utm_medium', undefined],
    ['fbc', 'fb.1.1767312000000.F1'],
    ['fbp', 'fb.1.1767225600000.42'],
    ['ttp', 'ttp-1'],
    ['ttclid', undefined],
  ];
  for (const [name, value] of table) {
    it(`gives ${name} = ${String(value)}`, () => {
      expect(fieldValues(attribution)[name]).toBe(value);
    });
  }
});

describe('fillFields', () => {
  it('fills known fields and leaves the others alone', () => {
    document.body.innerHTML = `<form>
      <input type="hidden" data-pruuv="gclid">
      <input type="hidden" data-pruuv="gclid_timestamp">
      <input type="hidden" data-pruuv="utm_medium" value="server-set">
      <input type="hidden" name="other" value="x">
    </form>`;
    fillFields(attribution);
    const value = (sel: string) => (document.querySelector(sel) as HTMLInputElement).value;
    expect(value('[data-pruuv="gclid"]')).toBe('G1');
    expect(value('[data-pruuv="gclid_timestamp"]')).toBe('2026-01-01T00:00:00.000Z');
    expect(value('[data-pruuv="utm_medium"]')).toBe('server-set');
    expect(value('[name="other"]')).toBe('x');
    document.body.innerHTML = '';
  });
});
