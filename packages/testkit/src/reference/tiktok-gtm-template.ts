/**
 * Test cases of TikTok's Events API server-side GTM template, transcribed (inputs
 * and expected outputs only) from github.com/tiktok/gtm-template-eapi @ 089e34e
 * (2024-05-30), `template.tpl` `___TESTS___` (scenarios `TestGA`, `TestPIIHashAndCleaning`,
 * `TestPIIHashed`, `TestPIIPlainButHashed`) and `template.js` (`hash`, `getBody`).
 * Copyright 2022 ByteDance Inc., Apache License 2.0.
 */

/** `TestPIIHashAndCleaning`: what the template hashes for each field (`external_id` keeps case, email is lower-cased). */
export const TIKTOK_CLEANING_CASES = [
  { field: 'phone', input: '  1231231234  ', hashed: '1231231234' },
  { field: 'email', input: 'test@TEST.com\n', hashed: 'test@test.com' },
  { field: 'external_id', input: ' UserABC', hashed: 'UserABC' },
] as const;

/**
 * `TestPIIHashed` / `TestPIIPlainButHashed`: a value that is already 64 hex
 * characters (`^[A-Fa-f0-9]{64}$`, either case) is sent as it is, not hashed again.
 */
export const TIKTOK_PREHASHED = {
  phone: '065f45b37b5dad20b5a67158468161cdf35b1ae3cda2a666e7852feab7424897',
  email: '7dcb0cd247aa94896e665c337696a7be18d387a78d6d55b4854b7ff7d5925042',
  external_id: '03ac674216f3e15c761ee1a5e255f067953623c8b388b4459e13f978d7c846f4',
} as const;

/**
 * `TestGA`: the request body the template sends for a GA4 `view_item`-style event
 * with an email and a phone and no ttclid (`event_time` mocked to 0 there; here a
 * time the fakes accept is filled in by the test). TikTok takes such events: the
 * template sends them with `user.email`/`user.phone` and no `user.ttclid`.
 */
export const TIKTOK_TEST_GA_BODY = {
  data: [
    {
      device: {},
      event: 'ViewContent',
      event_time: 0,
      page: { url: 'https://www.tiktok.com' },
      properties: {
        contents: [
          { brand: 'testbrand', content_category: 'Apparel', content_id: '12345', content_name: 'Test T-Shirt', content_type: 'product', price: 15.25, quantity: 1 },
          { brand: 'testbrand', content_category: 'Apparel', content_id: '67890', content_name: 'Test Pants', content_type: 'product', price: 33.33, quantity: 1 },
        ],
        currency: 'USD',
        event_trigger_source: 'GoogleTagManagerServer',
        gtm_version: 's2s_0_2_01',
        value: 99.99,
      },
      user: {
        email: 'f660ab912ec121d1b1e928a0bb4bc61b15f5ad44d5efdc4e1c92a25e99b8e44a',
        phone: '065f45b37b5dad20b5a67158468161cdf35b1ae3cda2a666e7852feab7424897',
      },
    },
  ],
  event_source: 'web',
  event_source_id: '1234',
  partner_name: 'GoogleTagManagerServer',
} as const;
