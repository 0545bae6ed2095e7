/**
 * google.rpc.Status error bodies as Google's REST front end sends them, for the
 * Ads fake (with GoogleAdsFailure details, platforms.md §3.4) and the Data
 * Manager fake (ErrorInfo + RequestInfo + BadRequest, google-data-manager.md §9).
 */
import { adsRequestId, dataManagerErrorId } from './ids.js';
import type { FakeAnswer } from './request.js';

/** One field path element of a GoogleAdsError location. */
export interface AdsFieldPathElement {
  fieldName: string;
  index?: number;
}

/** One GoogleAdsError (platforms.md §3.4). */
export interface AdsError {
  /** One key, the error family, e.g. `{ conversionUploadError: 'EVENT_NOT_FOUND' }`. */
  errorCode: Record<string, string>;
  message: string;
  trigger?: { stringValue: string };
  location?: { fieldPathElements: AdsFieldPathElement[] };
  details?: Record<string, unknown>;
}

/** A BadRequest field violation. */
export interface FieldViolation {
  field: string;
  description: string;
  reason?: string;
}

/** Numeric gRPC code of each canonical code (used in `partialFailureError.code`). */
export const RPC_CODE: Readonly<Record<string, number>> = {
  CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, ABORTED: 10, OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, DATA_LOSS: 15, UNAUTHENTICATED: 16,
};

/** Default messages of the front end per canonical code. */
export const RPC_MESSAGES: Readonly<Record<string, string>> = {
  INVALID_ARGUMENT: 'Request contains an invalid argument.',
  UNAUTHENTICATED:
    'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
  PERMISSION_DENIED: 'The caller does not have permission',
  NOT_FOUND: 'Requested entity was not found.',
  RESOURCE_EXHAUSTED: 'Resource has been exhausted (e.g. check quota).',
  INTERNAL: 'Internal error encountered.',
  UNAVAILABLE: 'The service is currently unavailable.',
  DEADLINE_EXCEEDED: 'The request deadline was exceeded.',
};

/** Missing `Authorization` header message (G-ESF 484986557, google-data-manager.md §9 rule 2). */
export const MISSING_CREDENTIALS_MESSAGE =
  'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';

/** A bare google.rpc.Status error answer. */
export function rpcError(httpStatus: number, status: string, message: string, details: unknown[] = [], headers?: Record<string, string>): FakeAnswer {
  return {
    status: httpStatus,
    body: { error: { code: httpStatus, message, status, ...(details.length === 0 ? {} : { details }) } },
    ...(headers === undefined ? {} : { headers }),
  };
}

/** The GoogleAdsFailure detail of an Ads error (platforms.md §3.4). */
export function adsFailure(version: string, errors: AdsError[]): Record<string, unknown> {
  return {
    '@type': `type.googleapis.com/google.ads.googleads.${version}.errors.GoogleAdsFailure`,
    errors,
    requestId: adsRequestId(),
  };
}

/** A request-level Ads RPC error with one GoogleAdsFailure. */
export function adsRpcError(httpStatus: number, status: string, version: string, errors: AdsError[], message?: string): FakeAnswer {
  return rpcError(httpStatus, status, message ?? RPC_MESSAGES[status] ?? status, [adsFailure(version, errors)]);
}

/** A google.rpc.BadRequest detail. */
export function badRequest(violations: FieldViolation[]): Record<string, unknown> {
  return { '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: violations };
}

/** Options of a Data Manager error envelope. */
export interface DataManagerErrorInit {
  httpStatus: number;
  status: string;
  message: string;
  /** ErrorInfo reason. */
  reason: string;
  /** ErrorInfo domain. Defaults to `datamanager.googleapis.com`. */
  domain?: string;
  /** Extra ErrorInfo metadata (e.g. `quota_limit`). */
  metadata?: Record<string, string>;
  violations?: FieldViolation[];
  retryDelaySeconds?: number;
}

/** The Data Manager error envelope: ErrorInfo, RequestInfo, then BadRequest when there are violations (google-data-manager.md §9). */
export function dataManagerError(init: DataManagerErrorInit): FakeAnswer {
  const requestId = dataManagerErrorId();
  const details: unknown[] = [
    {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: init.reason,
      domain: init.domain ?? 'datamanager.googleapis.com',
      metadata: { ...init.metadata, requestId },
    },
    { '@type': 'type.googleapis.com/google.rpc.RequestInfo', requestId },
  ];
  if (init.violations !== undefined && init.violations.length > 0) details.push(badRequest(init.violations));
  if (init.retryDelaySeconds !== undefined) {
    details.push({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${init.retryDelaySeconds}s` });
  }
  return rpcError(init.httpStatus, init.status, init.message, details);
}

/** Quota names of the Data Manager ingestion service (google-data-manager.md §6, §7). */
export const DM_QUOTA = {
  perMinute: 'IngestionMutateRequestsPerMinutePerProject',
  perDay: 'IngestionMutateRequestsPerDayPerProject',
} as const;

/** The 429 Data Manager sends when a quota is spent (google-data-manager.md §9 rule 24). */
export function dataManagerQuotaError(quotaLimit: string, retryDelaySeconds?: number, httpStatus = 429): FakeAnswer {
  return dataManagerError({
    httpStatus,
    status: 'RESOURCE_EXHAUSTED',
    message: `Quota exceeded for quota metric 'Ingestion mutate requests' and limit '${quotaLimit}' of service 'datamanager.googleapis.com'.`,
    reason: 'RATE_LIMIT_EXCEEDED',
    domain: 'googleapis.com',
    metadata: { quota_limit: quotaLimit, service: 'datamanager.googleapis.com' },
    ...(retryDelaySeconds === undefined ? {} : { retryDelaySeconds }),
  });
}

/** The GoogleAdsError family a scripted request-level error uses, by canonical code. */
function adsFamily(status: string, reason: string | undefined): Record<string, string> {
  switch (status) {
    case 'RESOURCE_EXHAUSTED':
      return { quotaError: reason ?? 'RESOURCE_EXHAUSTED' };
    case 'INTERNAL':
    case 'UNAVAILABLE':
    case 'UNKNOWN':
      return { internalError: reason ?? 'TRANSIENT_ERROR' };
    case 'DEADLINE_EXCEEDED':
      return { internalError: reason ?? 'DEADLINE_EXCEEDED' };
    case 'UNAUTHENTICATED':
      return { authenticationError: reason ?? 'OAUTH_TOKEN_INVALID' };
    case 'PERMISSION_DENIED':
      return reason === 'CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE'
        ? { notAllowlistedError: reason }
        : { authorizationError: reason ?? 'USER_PERMISSION_DENIED' };
    default:
      return { requestError: reason ?? 'UNKNOWN' };
  }
}

/**
 * A scripted Ads RPC error. `reason` is the error code inside the family the
 * status implies (quotaError, internalError, authenticationError…); a retry
 * delay goes into `quotaErrorDetails.retryDelay` (platforms.md §3.5).
 */
export function scriptedAdsRpcError(version: string, httpStatus: number, status: string, reason?: string, retryDelaySeconds?: number): FakeAnswer {
  const error: AdsError = {
    errorCode: adsFamily(status, reason),
    message: RPC_MESSAGES[status] ?? status,
    ...(retryDelaySeconds === undefined
      ? {}
      : { details: { quotaErrorDetails: { rateScope: 'DEVELOPER', rateName: 'Number of operations for basic access', retryDelay: `${retryDelaySeconds}s` } } }),
  };
  return adsRpcError(httpStatus, status, version, [error]);
}

/**
 * A scripted Data Manager RPC error. For `RESOURCE_EXHAUSTED`, a `reason` naming
 * a quota (`IngestionMutateRequestsPerDayPerProject`) becomes `metadata.quota_limit`
 * (default: the per-minute quota); otherwise `reason` is the ErrorInfo reason.
 */
export function scriptedDataManagerRpcError(httpStatus: number, status: string, reason?: string, retryDelaySeconds?: number): FakeAnswer {
  if (status === 'RESOURCE_EXHAUSTED' && (reason === undefined || reason.startsWith('Ingestion'))) {
    return dataManagerQuotaError(reason ?? DM_QUOTA.perMinute, retryDelaySeconds, httpStatus);
  }
  const defaults: Record<string, string> = { INTERNAL: 'INTERNAL_ERROR', DEADLINE_EXCEEDED: 'DEADLINE_EXCEEDED', UNAVAILABLE: 'SERVICE_UNAVAILABLE' };
  return dataManagerError({
    httpStatus,
    status,
    message: RPC_MESSAGES[status] ?? status,
    reason: reason ?? defaults[status] ?? status,
    ...(retryDelaySeconds === undefined ? {} : { retryDelaySeconds }),
  });
}
