import { afterEach, describe, expect, it, vi } from 'vitest';
import { googleEmail, hashIdentity, normalizeEmail, normalizePhone, sha256Hex } from '../src/normalize.js';

describe('published hash vectors', () => {
  const cases = [
    {
      name: 'Meta em (platforms.md §1.4)',
      hash: async () => sha256Hex(normalizeEmail('John_Smith@gmail.com') as string),
      expected: '62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f',
    },
    {
      name: "Meta ph, US with defaultCountryCode '1' (§1.4)",
      hash: async () => (await hashIdentity(undefined, '(650)555-1212', '1')).phone_sha256_meta,
      expected: 'e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176',
    },
    {
      name: 'Google phone E.164 (§3.3)',
      hash: async () => (await hashIdentity(undefined, '+1 800 5550102')).phone_sha256,
      expected: 'c5383c2eeada28210d27f011bc127d4f9562cf38ff0c9bba33dd45ae79b9fe7c',
    },
    {
      name: 'TikTok phone (§4.2)',
      hash: async () => (await hashIdentity(undefined, '(+1)2133734253')).phone_sha256,
      expected: '9f7ec22d72092cd3c0b58726ed9c2d91b92e51a3f29837508fb2948bb22dd2fd',
    },
    {
      name: 'TikTok email (§4.2)',
      hash: async () => (await hashIdentity(' ALICE_abc@gmail.com ', undefined)).email_sha256,
      expected: '848a771458438fc2ec420560d769fb9b9b86851ee338ec56517baabd79d3bb4f',
    },
    {
      name: 'Data Manager email (google-data-manager.md §5)',
      hash: async () => (await hashIdentity('dana.smith@example.com', undefined)).email_sha256,
      expected: 'e4a1b8efe85d61e41b6e903f00f6a587969bac9aeb0e8c57e30b246ee72ee2ae',
    },
  ];
  for (const { name, hash, expected } of cases) {
    it(`matches ${name}`, async () => {
      expect(await hash()).toBe(expected);
    });
  }
});

describe('normalizePhone', () => {
  const cases: [string, string | undefined, string | undefined][] = [
    ['(650)555-1212', '1', '+16505551212'],
    ['16505551212', '1', '+16505551212'],
    ['(650)555-1212', undefined, undefined],
    ['+1 800 5550102', undefined, '+18005550102'],
    ['(+1)2133734253', undefined, '+12133734253'],
    ['0044 844 412 4653', undefined, '+448444124653'],
    ['07700 900123', '44', '+447700900123'],
    ['123', '1', undefined],
    ['+1234567890123456', undefined, undefined],
    // A `(0)` trunk marker inside an international number is dropped.
    ['+44 (0)20 7946 0018', undefined, '+442079460018'],
    ['+44(0)2079460018', '1', '+442079460018'],
    ['0044 (0)20 7946 0018', undefined, '+442079460018'],
    ['(0)20 7946 0018', '44', '+442079460018'],
  ];
  for (const [input, cc, expected] of cases) {
    it(`normalises ${input} (${cc ?? 'no code'}) to ${expected}`, () => {
      expect(normalizePhone(input, cc)).toBe(expected);
    });
  }
});

describe('emails', () => {
  const cases: [string, string | undefined, string | undefined][] = [
    [' John_Smith@gmail.com ', 'john_smith@gmail.com', 'john_smith@gmail.com'],
    ['Cloudy.SanFrancisco+shopping@gmail.com', 'cloudy.sanfrancisco+shopping@gmail.com', 'cloudysanfrancisco@gmail.com'],
    ['a.b+c@googlemail.com', 'a.b+c@googlemail.com', 'ab@googlemail.com'],
    ['user.name+NYC@Example.com', 'user.name+nyc@example.com', 'user.name+nyc@example.com'],
    ['not-an-email', undefined, undefined],
    ['two words@example.com', undefined, undefined],
  ];
  for (const [input, normalized, google] of cases) {
    it(`normalises ${input.trim()}`, () => {
      const n = normalizeEmail(input);
      expect(n).toBe(normalized);
      if (n) expect(googleEmail(n)).toBe(google);
    });
  }
});

describe('hashIdentity', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('adds the Google email hash only when the Gmail form differs', async () => {
    expect(Object.keys(await hashIdentity('a.b@gmail.com', undefined))).toEqual(['email_sha256', 'email_sha256_google']);
    expect(Object.keys(await hashIdentity('a.b@example.com', undefined))).toEqual(['email_sha256']);
  });

  it('leaves out values that do not normalise', async () => {
    expect(await hashIdentity('nope', '12', '1')).toEqual({});
  });

  it('returns only lowercase hex hashes', async () => {
    const out = await hashIdentity('Jo@Example.com', '+44 20 7946 0018');
    for (const v of Object.values(out)) expect(v).toMatch(/^[0-9a-f]{64}$/);
  });

  it('rejects without WebCrypto (insecure context)', async () => {
    vi.stubGlobal('crypto', { getRandomValues: crypto.getRandomValues.bind(crypto) });
    await expect(hashIdentity('jo@example.com', undefined)).rejects.toThrow();
  });
});
