/**
 * `@pruuv/fakes`: strict fake Meta, Google (OAuth, Ads, Data Manager)
 * and TikTok servers on 127.0.0.1, for tests, the `npm start` sandbox and the bench.
 * Each validates every request as platforms.md §8 and google-data-manager.md §9 say.
 */
export { startFakePlatforms } from './server.js';
export { FAKE_DEFAULTS } from './options.js';
export { sandboxBanner } from './sandbox.js';
export { FakePlatformsError } from './errors.js';
export { validateMetaEvent, META_ACTION_SOURCES, META_API_VERSIONS, META_HASHED_FIELDS } from './meta.js';
export { validateClickConversion, parseAdsDateTime, ADS_API_VERSIONS } from './google-ads.js';
export { validateIngestRequest } from './data-manager.js';
export { validateTikTokEvent, TIKTOK_EVENT_SOURCES } from './tiktok.js';
export { GOOGLE_SCOPES, ACCESS_TOKEN_TTL_SECONDS } from './google-oauth.js';
export { META_SHORT_LIVED_SECONDS, META_LONG_LIVED_SECONDS } from './meta-oauth.js';
export { TIKTOK_OAUTH_MESSAGES, TIKTOK_MAX_REDIRECT_URIS } from './tiktok-oauth.js';
export { MICROSOFT_SCOPES, MICROSOFT_TOKEN_TTL_SECONDS } from './microsoft-oauth.js';
export { MICROSOFT_ERRORS } from './microsoft.js';
export { DEFAULT_ADS_ACCOUNTS, DEFAULT_ACCESSIBLE } from './google-accounts.js';
export type {
  FakePlatforms,
  FakePlatformsOptions,
  FakeStep,
  FakeRequestLog,
  FakeRoute,
  FakeCountedPlatform,
  FakeOutcome,
  FakeKnownClick,
  FakeConsentStep,
  FakeMetaOAuthSeed,
  FakeMetaPixel,
  FakeMetaTokenInfo,
  FakeOAuthControl,
  FakeTikTokOAuthSeed,
  FakeTikTokPixel,
  FakeTikTokTokenInfo,
  FakeMicrosoftOptions,
  FakeGoogleOAuth,
} from './types.js';
export type { MicrosoftGoalSeed, MicrosoftSilentRecord, MicrosoftStoredConversion } from './microsoft.js';
export type { MicrosoftCapiReceipt, UetTagSeed } from './microsoft-capi.js';
export type { FakeAdsAccount, FakeConversionAction } from './google-accounts.js';
export type { GoogleConsentMode } from './google-consent.js';
export type { MetaProblem, MetaEventCheck } from './meta.js';
export type { ClickKnowledge } from './google-ads.js';
export type { AdsError, AdsFieldPathElement, FieldViolation } from './google-rpc.js';
