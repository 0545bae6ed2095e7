/**
 * @pruuv/sender: forwards conversions to Meta CAPI, Google (Data Manager or
 * Ads API) and the TikTok Events API. The curated public surface. Each
 * platform is an adapter under `platforms/<name>/`, listed in the registry
 * (`platforms/index.ts`).
 */
export { PLATFORMS, PLATFORM_IDS, CLICK_ID_NAMES, platformAdapter, DEFAULT_URLS, DEFAULT_VERSIONS, connectionSchema } from './platforms/index.js';
export { sendBatch } from './send-batch.js';
export { runSendPass, DEFAULT_LEASE_MS, DEFAULT_CLAIM_LIMIT, PASS_PLATFORMS, PASS_STATUSES } from './send-pass.js';
export { PLATFORM_BATCH_LIMITS, groupByConnection, splitBatches } from './pass-batches.js';
export { applyOutcome, expiredBeforeSend } from './pass-outcome.js';
export { checkEligibility } from './eligibility.js';
export { parseFbc, buildFbc } from './platforms/meta/eligibility.js';
export { chooseGoogleClick } from './platforms/google/eligibility.js';
export { defaultEventNames, resolveEventNames, customEventName } from './event-names.js';
export { RETRY_TABLE, DEFAULT_RETRY_POLICY, nextAttempt, ruleFor } from './retry-policy.js';
export { buildMetaRequest, metaServerEvent } from './platforms/meta/request.js';
export { classifyMetaResponse } from './platforms/meta/response.js';
export { buildGoogleAdsRequest, classifyGoogleAdsResponse, formatGoogleAdsDateTime } from './platforms/google/ads.js';
export { buildDataManagerRequest, classifyDataManagerResponse, formatRfc3339 } from './platforms/google/data-manager.js';
export { buildTikTokRequest } from './platforms/tiktok/request.js';
export { classifyTikTokResponse } from './platforms/tiktok/response.js';
export {
  buildRequestStatusRequest,
  readRequestStatus,
  nextStatusCheck,
  DATA_MANAGER_FIRST_STATUS_CHECK_MS,
  DATA_MANAGER_MAX_STATUS_INTERVAL_MS,
  DATA_MANAGER_STATUS_GIVE_UP_MS,
} from './platforms/google/data-manager-status.js';
export { createSender } from './runtime/sender.js';
export { startSendSchedule, startSendInterval, latestSlot, nextSlotAfter } from './runtime/schedule.js';
export { createGoogleStatusChecks } from './platforms/google/diagnostics.js';
export { checkStoredCredentials, openConnection, CredentialsError } from './runtime/credentials.js';
export { createOutboxPort } from './runtime/outbox-port.js';
export { createTokenCache } from './oauth.js';
export { createTokenBucket } from './rate-limit.js';
export { sendHttp, parseRetryAfter, redactRequest } from './http.js';
export { parseKeyRing, encryptSecret, decryptSecret, reencrypt, ciphertextKeyId } from './crypto.js';
export { conversionEventSchema, stageOverridesSchema } from './schema.js';
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
export type { Plan, PlatformUrls, ApiVersions, AnyPlatformAdapter } from './platforms/index.js';
export type { PlatformAdapter, ConnectionSpec, ConnectionField } from './platforms/adapter.js';
export type { MetaConnection } from './platforms/meta/connection.js';
export type { GoogleConnection } from './platforms/google/connection.js';
export type { TikTokConnection } from './platforms/tiktok/connection.js';
export type { SendBatchOptions, BatchResult, AttemptHistory } from './send-batch.js';
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
export type { Eligibility, EligibilityInput, Skip, SkipReason } from './eligibility.js';
export type { MetaPlan, ParsedFbc } from './platforms/meta/eligibility.js';
export type { GooglePlan, GoogleClick } from './platforms/google/eligibility.js';
export type { TikTokPlan } from './platforms/tiktok/eligibility.js';
export type { StageEventNames } from './event-names.js';
export type { RetryRule, RetryPolicy, VerdictKind, Verdict, NextAttempt, NextAttemptInput, DeadReason } from './retry-policy.js';
export type { MetaServerEvent, MetaEventsBody } from './platforms/meta/request.js';
export type { RequestStatus, RequestStatusReading, ReasonCount } from './platforms/google/data-manager-status.js';
export type { ClickConversion, UploadClickConversionsBody } from './platforms/google/ads.js';
export type { DataManagerEvent, IngestEventsBody } from './platforms/google/data-manager.js';
export type { TikTokEvent, TikTokTrackBody } from './platforms/tiktok/request.js';
export type { TokenCache, TokenCacheOptions, GoogleCredentials } from './oauth.js';
export type { Sender, SenderOptions } from './runtime/sender.js';
export type { SendSchedule, SendScheduleOptions, SendIntervalOptions, Timers } from './runtime/schedule.js';
export type { GoogleStatusChecks, GoogleStatusOptions, GoogleStatusSummary } from './platforms/google/diagnostics.js';
export type { DeliveryChecks, DeliveryCheckSummary, DeliveryCheckSpec, DeliveryCheckContext } from './platforms/adapter.js';
export type {
  SendStore,
  SendLogger,
  EncryptedConnection,
  DiagnosticsWrite,
  DiagnosticsCheck,
  DiagnosticsState,
  DiagnosticsReasonCount,
  DueDiagnostics,
} from './runtime/store.js';
export type { TokenBucket, TokenBucketOptions } from './rate-limit.js';
export type { FetchLike, HttpRequest, HttpResponse } from './http.js';
export type { KeyRing } from './crypto.js';
