/**
 * `external_id` is normalised by each platform's own rule, in its adapter
 * (issue 13, item 9): Meta's parameter builder strips every whitespace
 * character and lower-cases; TikTok's Events API template trims and keeps case.
 */
import { META_EXTERNAL_ID_CASES } from '@pruuv/testkit/reference/meta-param-builder';
import { TIKTOK_CLEANING_CASES, TIKTOK_PREHASHED } from '@pruuv/testkit/reference/tiktok-gtm-template';
import { describe, expect, it } from 'vitest';
import { metaExternalId } from '../../src/platforms/meta/external-id.js';
import { checkMeta } from '../../src/platforms/meta/eligibility.js';
import { metaServerEvent } from '../../src/platforms/meta/request.js';
import { tiktokExternalId } from '../../src/platforms/tiktok/external-id.js';
import { checkTikTok } from '../../src/platforms/tiktok/eligibility.js';
import { tiktokEvent } from '../../src/platforms/tiktok/request.js';
import { NOW, makeEvent, metaConnection, sha256, tiktokConnection } from '../helpers.js';

function metaUserData(reference: string) {
  const r = checkMeta(makeEvent({ reference }), metaConnection(), undefined, NOW);
  if (!r.send) throw new Error(r.message);
  return metaServerEvent(r.plan).user_data;
}

function tiktokUser(reference: string) {
  const r = checkTikTok(makeEvent({ reference }), tiktokConnection(), undefined, NOW);
  if (!r.send) throw new Error(r.message);
  return tiktokEvent(r.plan).user;
}

describe('Meta external_id', () => {
  it('strips all whitespace before hashing, as Meta\'s parameter builder does', () => {
    expect(metaUserData('user id 456').external_id).toBe(sha256('userid456'));
    expect(metaUserData('CRM\t42\n').external_id).toBe(sha256('crm42'));
  });

  it('is lower-cased', () => {
    expect(metaUserData(' USER_123 ').external_id).toBe(sha256('user_123'));
  });

  // Transcribed from Meta's capi-param-builder tests/externalIDUtil.test.js (see the module's header).
  describe("matches every case of Meta's externalIDUtil tests", () => {
    for (const [input, expected] of META_EXTERNAL_ID_CASES) {
      it(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => {
        const want = expected === '' ? undefined : /^[a-f0-9]{64}$/i.test(expected) ? expected.toLowerCase() : sha256(expected);
        expect(metaExternalId(input)).toBe(want);
      });
    }
  });

  it('hashes a 32-hex reference instead of sending it raw as an MD5 (on purpose, unlike the builder)', () => {
    const uuid = '3b241101e2bb42558caf4136c566a962';
    expect(metaExternalId(uuid)).toBe(sha256(uuid));
  });
});

describe('TikTok external_id', () => {
  it("keeps case, as TikTok's Events API template does", () => {
    expect(tiktokUser(' UserABC').external_id).toBe(sha256('UserABC'));
    expect(tiktokUser('CRM-42').external_id).toBe(sha256('CRM-42'));
  });

  it('keeps inner spaces and trims the ends', () => {
    expect(tiktokExternalId(' user id 456 ')).toBe(sha256('user id 456'));
  });

  // Transcribed from TikTok's gtm-template-eapi template.tpl (TestPIIHashAndCleaning, TestPIIHashed).
  it("matches the template's cleaning case", () => {
    const row = TIKTOK_CLEANING_CASES.find((c) => c.field === 'external_id')!;
    expect(tiktokExternalId(row.input)).toBe(sha256(row.hashed));
  });

  it('sends a value that is already 64 hex characters as it is', () => {
    expect(tiktokExternalId(TIKTOK_PREHASHED.external_id)).toBe(TIKTOK_PREHASHED.external_id);
  });

  it('leaves external_id out when the reference is blank', () => {
    expect(tiktokExternalId('   ')).toBeUndefined();
  });
});
