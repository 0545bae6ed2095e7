/**
 * @pruuv/sender: forwards conversions to the ad platforms' server-side APIs
 * (Meta CAPI, Google Data Manager or Ads API, the TikTok Events API), and runs
 * the send runtime over any storage that implements {@link SendStore}.
 *
 * The curated surface: the runtime (a sender per process, its schedule, a pass,
 * a batch), the platform registry, the input schemas, the credential key ring
 * and the errors. The platforms' own building blocks (request builders, answer
 * classifiers, eligibility, the retry policy's functions) are
 * `@pruuv/sender/platforms`.
 */

// The runtime.
export { createSender } from './runtime/sender.js';
export { startSendSchedule, startSendInterval, latestSlot, nextSlotAfter } from './runtime/schedule.js';
export { runSendPass, DEFAULT_LEASE_MS, DEFAULT_CLAIM_LIMIT, PASS_PLATFORMS, PASS_STATUSES } from './send-pass.js';
export { sendBatch } from './send-batch.js';
export { createOutboxPort } from './runtime/outbox-port.js';
export { checkStoredCredentials, openConnection, CredentialsError } from './runtime/credentials.js';

// The platforms.
export { PLATFORMS, PLATFORM_IDS, CLICK_ID_NAMES, COOKIE_ID_NAMES, platformAdapter, DEFAULT_URLS, DEFAULT_VERSIONS, connectionSchema } from './platforms/index.js';
export { OAUTH_PROVIDERS, oauthProvider } from './platforms/index.js';
export { authorizationUrl, OAuthFlowError, pkcePair, pkceChallenge, newOAuthState, readStandardCallback } from './platforms/oauth-provider.js';
export { RETRY_TABLE } from './retry-policy.js';
export { standardMessage, DRY_RUN_MESSAGE } from './standard-messages.js';
export { defaultEventNames } from './event-names.js';

// What goes in, and the credentials.
export { conversionEventSchema, stageOverridesSchema } from './schema.js';
export { parseKeyRing, encryptSecret, decryptSecret, reencrypt, ciphertextKeyId } from './crypto.js';

export { SenderError, HttpError, TimeoutError, NetworkError, OAuthError, KeyRingError, DecryptError } from './errors.js';

export type {
  Platform,
  ClickIdName,
  CookieIdName,
  ClickRef,
  Consent,
  ConversionEvent,
  StageOverrides,
  Connection,
} from './types.js';
export type { PlatformUrls, ApiVersions, AnyPlatformAdapter } from './platforms/index.js';
export type {
  PlatformAdapter,
  ConnectionSpec,
  ConnectionField,
  DeliveryChecks,
  DeliveryCheckSummary,
  DeliveryCheckSpec,
  DeliveryCheckContext,
  FrozenFieldsSpec,
} from './platforms/adapter.js';
export type {
  OAuthProvider,
  OAuthApp,
  OAuthEnv,
  OAuthCallContext,
  OAuthTokenSet,
  AuthorizeInput,
  CallbackResult,
  ExchangeInput,
  DiscoveryChoice,
  DiscoveryStep,
  DiscoveryResult,
  TokenHealth,
  GrantFacts,
  OAuthFlowFailure,
} from './platforms/oauth-provider.js';
export type { MetaConnection } from './platforms/meta/connection.js';
export type { GoogleConnection } from './platforms/google/connection.js';
export type { TikTokConnection, TikTokMatch } from './platforms/tiktok/connection.js';
export type { MicrosoftConnection } from './platforms/microsoft/connection.js';
export type { Sender, SenderOptions } from './runtime/sender.js';
export type { SendSchedule, SendScheduleOptions, SendIntervalOptions, Timers } from './runtime/schedule.js';
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
export type { SendPassOptions, PassReport, PausedNow, BatchInfo } from './send-pass.js';
export type { SendBatchOptions, BatchResult, AttemptHistory } from './send-batch.js';
export type {
  OutboxStore,
  ClaimedSend,
  ClaimInput,
  FreezeInput,
  StoredConnection,
  LoadedEvent,
  SendRecord,
  RowUpdate,
  CommitInput,
  HeldConnection,
} from './outbox-store.js';
export type { EventOutcome, OutcomeStatus } from './outcomes.js';
export type { RetryRule, VerdictKind } from './retry-policy.js';
export type { KeyRing } from './crypto.js';
export type { FetchLike, HttpRequest, HttpResponse } from './http.js';
