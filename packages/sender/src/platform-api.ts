/**
 * `@pruuv/sender/platforms`: the platforms' building blocks, for tools that
 * build or read platform requests themselves (the collector's benchmarks, a
 * dry-run viewer): pre-flight eligibility, request builders and answer
 * classifiers per platform, the retry policy's functions, the Google Data
 * Manager diagnostics, and the shared plumbing (token cache, token bucket,
 * HTTP), and the preview of a pass (`previewPass`). `sendBatch` and the runtime in the main
 * entry use all of them.
 */
export { checkEligibility } from './eligibility.js';
export { parseFbc, buildFbc } from './platforms/meta/eligibility.js';
export { chooseGoogleClick } from './platforms/google/eligibility.js';
export { resolveEventNames, customEventName } from './event-names.js';
export { PLATFORM_BATCH_LIMITS, groupByConnection, splitBatches } from './pass-batches.js';
export { applyOutcome, expiredBeforeSend } from './pass-outcome.js';
export { previewPass } from './pass-preview.js';
export { DEFAULT_RETRY_POLICY, nextAttempt, ruleFor } from './retry-policy.js';
export { buildMetaRequest, metaServerEvent } from './platforms/meta/request.js';
export { metaExternalId } from './platforms/meta/external-id.js';
export { classifyMetaResponse } from './platforms/meta/response.js';
export { buildGoogleAdsRequest, classifyGoogleAdsResponse, formatGoogleAdsDateTime } from './platforms/google/ads.js';
export { buildDataManagerRequest, classifyDataManagerResponse, formatRfc3339 } from './platforms/google/data-manager.js';
export { buildTikTokRequest } from './platforms/tiktok/request.js';
export { tiktokExternalId } from './platforms/tiktok/external-id.js';
export { classifyTikTokResponse } from './platforms/tiktok/response.js';
export { buildMicrosoftRequest, offlineConversion } from './platforms/microsoft/request.js';
export { ACCEPTED_MESSAGE, classifyMicrosoftResponse } from './platforms/microsoft/response.js';
export { buildCapiRequest, capiEvent, capiEventName } from './platforms/microsoft/capi-request.js';
export { CAPI_LABEL, classifyCapiResponse } from './platforms/microsoft/capi-response.js';
export { fetchUetTagToken, listUetTags, readUetTagAuthKey, readUetTags } from './platforms/microsoft/capi-tags.js';
export { microsoftEmail } from './platforms/microsoft/email.js';
export { microsoftClickId } from './platforms/microsoft/click-id.js';
export {
  buildRequestStatusRequest,
  readRequestStatus,
  nextStatusCheck,
  DATA_MANAGER_FIRST_STATUS_CHECK_MS,
  DATA_MANAGER_MAX_STATUS_INTERVAL_MS,
  DATA_MANAGER_STATUS_GIVE_UP_MS,
} from './platforms/google/data-manager-status.js';
export { createGoogleStatusChecks } from './platforms/google/diagnostics.js';
export { createTokenCache } from './oauth.js';
export { googleOAuth, googleAccounts, googleScopesFor, GOOGLE_OAUTH_SCOPES, GOOGLE_TESTING_GRANT_MS, CUSTOMER_CLIENT_QUERY, CONVERSION_ACTION_QUERY } from './platforms/google/oauth.js';
export { oauthCall } from './platforms/oauth-provider.js';
export { metaOAuth, metaGraphFailure, metaListAll, metaBusinessPixels, mergePixels, appsecretProof, META_CONFIG_ID_ENV, META_DIALOG_URL, META_REQUIRED_PERMISSIONS } from './platforms/meta/oauth.js';
export { tiktokOAuth, tiktokAdvertisers, tiktokPixels, tiktokFailure, TIKTOK_AUTHORIZE_URL } from './platforms/tiktok/oauth.js';
export { createTokenBucket } from './rate-limit.js';
export { sendHttp, parseRetryAfter, redactRequest } from './http.js';

export type { Plan } from './platforms/index.js';
export type { ConnectionGroup } from './pass-batches.js';
export type { AttemptContext, AppliedOutcome } from './pass-outcome.js';
export type { PreviewItem, PreviewInput } from './pass-preview.js';
export type { Eligibility, EligibilityInput, Skip, SkipReason } from './eligibility.js';
export type { MetaPlan, ParsedFbc } from './platforms/meta/eligibility.js';
export type { GoogleAccountChoice } from './platforms/google/oauth.js';
export type { MetaPixelChoice } from './platforms/meta/oauth.js';
export type { TikTokPixelChoice } from './platforms/tiktok/oauth.js';
export type { GooglePlan, GoogleClick } from './platforms/google/eligibility.js';
export type { TikTokPlan } from './platforms/tiktok/eligibility.js';
export type { MicrosoftPlan } from './platforms/microsoft/eligibility.js';
export type { OfflineConversion, ApplyOfflineConversionsBody } from './platforms/microsoft/request.js';
export type { CapiBody, CapiEvent, CapiUserData, MicrosoftCapiPlan } from './platforms/microsoft/capi-request.js';
export type { UetTagChoice, UetTagToken } from './platforms/microsoft/capi-tags.js';
export type { StageEventNames } from './event-names.js';
export type { RetryPolicy, Verdict, NextAttempt, NextAttemptInput, DeadReason } from './retry-policy.js';
export type { MetaServerEvent, MetaEventsBody } from './platforms/meta/request.js';
export type { RequestStatus, RequestStatusReading, ReasonCount } from './platforms/google/data-manager-status.js';
export type { ClickConversion, UploadClickConversionsBody } from './platforms/google/ads.js';
export type { DataManagerEvent, IngestEventsBody } from './platforms/google/data-manager.js';
export type { TikTokEvent, TikTokTrackBody } from './platforms/tiktok/request.js';
export type { GoogleStatusChecks, GoogleStatusOptions, GoogleStatusSummary } from './platforms/google/diagnostics.js';
export type { TokenCache, TokenCacheOptions, GoogleCredentials } from './oauth.js';
export type { TokenBucket, TokenBucketOptions } from './rate-limit.js';
