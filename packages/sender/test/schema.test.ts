import { describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import { connectionSchema } from '../src/platforms/index.js';
import { conversionEventSchema } from '../src/schema.js';
import type { Connection, ConversionEvent } from '../src/types.js';
import { makeEvent } from './helpers.js';

describe('conversionEventSchema', () => {
  it('matches the ConversionEvent type', () => {
    expectTypeOf<z.infer<typeof conversionEventSchema>>().toEqualTypeOf<ConversionEvent>();
  });

  it('accepts a well-formed event', () => {
    expect(conversionEventSchema.safeParse(makeEvent()).success).toBe(true);
  });

  const bad: Array<{ name: string; patch: Partial<Record<keyof ConversionEvent, unknown>> }> = [
    { name: 'a raw email in the hash field', patch: { email_sha256: 'john@example.com' } },
    { name: 'an upper-case hash', patch: { phone_sha256: 'A'.repeat(64) } },
    { name: 'a lower-case currency', patch: { currency: 'eur' } },
    { name: 'an unparseable time', patch: { event_time: 'yesterday' } },
    { name: 'an IP that is not one', patch: { client_ip: 'not-an-ip' } },
  ];
  for (const { name, patch } of bad) {
    it(`rejects ${name}`, () => {
      expect(conversionEventSchema.safeParse({ ...makeEvent(), ...patch }).success).toBe(false);
    });
  }
});

describe('connectionSchema', () => {
  it('matches the Connection type', () => {
    expectTypeOf<z.input<typeof connectionSchema>>().toEqualTypeOf<Connection>();
  });

  it('strips hyphens from Google account ids', () => {
    const parsed = connectionSchema.parse({
      platform: 'google',
      api: 'ads',
      customer_id: '123-456-7890',
      conversion_action_id: '1',
      client_id: 'c',
      client_secret: 's',
      refresh_token: 'r',
    });
    expect(parsed).toMatchObject({ customer_id: '1234567890' });
  });
});
