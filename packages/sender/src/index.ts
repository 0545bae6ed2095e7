/**
 * @pruuv/sender: forwards conversions to Meta CAPI, Google (Data Manager or
 * Ads API) and the TikTok Events API. The curated public surface.
 */
export { sendBatch, DEFAULT_URLS, DEFAULT_VERSIONS } from './send-batch.js';
export { runSendPass, DEFAULT_LEASE_MS, DEFAULT_CLAIM_LIMIT, PASS_PLATFORMS, PASS_STATUSES } from './send-pass.js';
export { PLATFORM_BATCH_LIMITS, groupByConnection, splitBatches } from './pass-batches.js';
export { applyOutcome, expiredBeforeSend } from './pass-outcome.js';
export { checkEligibility, parseFbc, buildFbc, chooseGoogleClick } from './eligibility.js';
export { defaultEventNames, resolveEventNames, customEventName } from './event-names.js';
export { RETRY_TABLE, DEFAULT_RETRY_POLICY, nextAttempt, ruleFor } from './retry-policy.js';
export { buildMetaRequest, classifyMetaResponse, metaServerEvent } from './meta.js';
export { buildGoogleAdsRequest, classifyGoogleAdsResponse, formatGoogleAdsDateTime } from './google-ads.js';
export { buildDataManagerRequest, classifyDataManagerResponse, formatRfc3339 } from './data-manager.js';
export { buildTikTokRequest, classifyTikTokResponse } from './tiktok.js';
export {
  buildRequestStatusRequest,
  readRequestStatus,
  nextStatusCheck,
  DATA_MANAGER_FIRST_STATUS_CHECK_MS,
  DATA_MANAGER_MAX_STATUS_INTERVAL_MS,
  DATA_MANAGER_STATUS_GIVE_UP_MS,
} from './data-manager-status.js';
export { createTokenCache } from './oauth.js';
export { createTokenBucket } from './rate-limit.js';
export { sendHttp, parseRetryAfter, redactRequest } from './http.js';
export { parseKeyRing, encryptSecret, decryptSecret, reencrypt, ciphertextKeyId } from './crypto.js';
export { conversionEventSchema, connectionSchema, stageOverridesSchema } from './schema.js';
export {
  SenderError,
  HttpError,
  TimeoutError,
  NetworkError,
  OAuthError,
  KeyRingError,
  DecryptError,
} from './errors.js';

export type * from './types.js';
export type { SendBatchOptions, BatchResult, AttemptHistory, PlatformUrls, ApiVersions } from './send-batch.js';
export type { SendPassOptions, PassReport, PausedNow, BatchInfo } from './send-pass.js';
export type {
  Awaitable,
  OutboxStore,
  ClaimedSend,
  ClaimInput,
  StoredConnection,
  LoadedEvent,
  SendRecord,
  RowUpdate,
  CommitInput,
  HeldConnection,
} from './outbox-store.js';
export type { ConnectionGroup } from './pass-batches.js';
export type { AttemptContext, AppliedOutcome } from './pass-outcome.js';
export type { EventOutcome, OutcomeStatus } from './outcomes.js';
export type {
  Eligibility,
  EligibilityInput,
  Skip,
  SkipReason,
  Plan,
  MetaPlan,
  GooglePlan,
  TikTokPlan,
  GoogleClick,
  ParsedFbc,
} from './eligibility.js';
export type { StageEventNames } from './event-names.js';
export type { RetryRule, RetryPolicy, VerdictKind, Verdict, NextAttempt, NextAttemptInput, DeadReason } from './retry-policy.js';
export type { MetaServerEvent, MetaEventsBody } from './meta.js';
export type { RequestStatus, RequestStatusReading, ReasonCount } from './data-manager-status.js';
export type { ClickConversion, UploadClickConversionsBody } from './google-ads.js';
export type { DataManagerEvent, IngestEventsBody } from './data-manager.js';
export type { TikTokEvent, TikTokTrackBody } from './tiktok.js';
export type { TokenCache, TokenCacheOptions, GoogleCredentials } from './oauth.js';
export type { TokenBucket, TokenBucketOptions } from './rate-limit.js';
export type { FetchLike, HttpRequest, HttpResponse } from './http.js';
export type { KeyRing } from './crypto.js';
