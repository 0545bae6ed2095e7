import { describe, expect, it } from 'vitest';
import { PROPS, pickProps, type PropName } from '../src/payload.js';
import type { TrackProps } from '../src/types.js';

/**
 * Every `TrackProps` field but `email` and `phone`, with a value. The compiler rejects
 * this literal when a field is missing (`Required`) or unknown (excess property check),
 * so a field added to `TrackProps` fails here until `PROPS` copies it.
 */
const all: Required<Pick<TrackProps, PropName>> = {
  reference: 'CRM-1',
  item_reference: 'deal-9',
  revenue_value: 250,
  currency: 'GBP',
  data_timestamp: '2026-03-01T12:00:00.000Z',
  gender: 'f',
  age_range: '25-34',
  location_country: 'GB',
  location_region: 'ENG',
  job_title: 'CTO',
  company_size: '11-50',
  industry: 'Retail',
};

describe('pickProps', () => {
  it('copies every known field', () => {
    expect(pickProps(all)).toEqual(all);
  });

  it('lists each known field once', () => {
    expect([...PROPS].sort()).toEqual(Object.keys(all).sort());
  });

  it('leaves out email, phone and unknown keys', () => {
    const out = pickProps({ ...all, email: 'jo@example.com', phone: '+447700900123', first_name: 'Jo' } as TrackProps);
    expect(out).toEqual(all);
    expect(JSON.stringify(out)).not.toMatch(/jo@example|7700900123|first_name/);
  });

  it('leaves missing fields out of the JSON', () => {
    expect(JSON.stringify(pickProps({ currency: 'GBP' }))).toBe('{"currency":"GBP"}');
  });
});
