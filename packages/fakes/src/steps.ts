/**
 * Scripted faults: which step kinds each route can answer, and the answers of
 * the steps that replace normal processing.
 */
import { FakePlatformsError } from './errors.js';
import { DM_QUOTA, dataManagerQuotaError, scriptedAdsRpcError, scriptedDataManagerRpcError } from './google-rpc.js';
import { metaCodeError } from './meta.js';
import type { FakeAnswer } from './request.js';
import { microsoftFault } from './microsoft.js';
import { TIKTOK_MESSAGES, tiktokAnswer } from './tiktok.js';
import type { FakeRoute, FakeStep } from './types.js';

const COMMON: ReadonlyArray<FakeStep['kind']> = ['status', 'hang', 'reset', 'accept-then-drop', 'retry-after'];

/** Step kinds each route accepts besides the common ones. */
const ROUTE_KINDS: Readonly<Record<FakeRoute, ReadonlyArray<FakeStep['kind']>>> = {
  meta: ['meta-error'],
  metaDialog: ['consent'],
  googleAds: ['google-partial', 'google-rpc'],
  dataManager: ['google-partial', 'google-rpc'],
  oauth: ['google-rpc'],
  googleAuth: [],
  tiktok: ['tiktok-code'],
  tiktokPortal: ['consent'],
  microsoftOAuth: [],
  microsoftCampaign: ['microsoft-fault', 'microsoft-partial'],
  microsoftCustomer: ['microsoft-fault'],
  microsoftInspect: [],
  microsoftCapi: ['microsoft-capi-invalid'],
};

/** Throw a `FakePlatformsError` when a step cannot apply to a route or is malformed. */
export function assertStep(route: FakeRoute, step: FakeStep, index: number): void {
  const allowed = [...COMMON, ...ROUTE_KINDS[route]];
  const where = `script('${route}') step ${index}`;
  if (!allowed.includes(step.kind)) {
    throw new FakePlatformsError(`${where}: kind '${step.kind}' does not apply to the ${route} route; use one of ${allowed.join(', ')}.`);
  }
  if (step.kind === 'retry-after' && (!Number.isFinite(step.seconds) || step.seconds < 0)) {
    throw new FakePlatformsError(`${where}: retry-after needs seconds >= 0.`);
  }
  if (step.kind === 'status' && (!Number.isInteger(step.status) || step.status < 100 || step.status > 599)) {
    throw new FakePlatformsError(`${where}: status must be an HTTP status code (100-599), got ${step.status}.`);
  }
  if (step.kind === 'google-partial' && step.rows.some((r) => !Number.isInteger(r) || r < 0)) {
    throw new FakePlatformsError(`${where}: google-partial rows must be row indexes (integers >= 0).`);
  }
}

/** The route's throttle body for a `retry-after` step. */
function throttle(route: FakeRoute, seconds: number, now: Date, adsVersion: string): FakeAnswer {
  switch (route) {
    case 'meta':
      return { status: 429, body: metaCodeError(17) };
    case 'googleAds':
      return scriptedAdsRpcError(adsVersion, 429, 'RESOURCE_EXHAUSTED', 'RESOURCE_TEMPORARILY_EXHAUSTED', seconds);
    case 'dataManager':
      return dataManagerQuotaError(DM_QUOTA.perMinute, seconds);
    case 'oauth':
    case 'googleAuth':
      return { status: 429, body: { error: 'rate_limit_exceeded', error_description: 'Too many token requests.' } };
    case 'tiktok':
      return { ...tiktokAnswer(40100, TIKTOK_MESSAGES[40100] ?? 'Too many requests.', now), status: 429 };
    case 'metaDialog':
    case 'tiktokPortal':
      return { status: 429, body: 'Too many requests. Try again later.' };
    case 'microsoftOAuth':
    case 'microsoftInspect':
      return { status: 429, body: { error: 'temporarily_unavailable', error_description: 'AADSTS50196: The server terminated an operation because it encountered a client request loop.' } };
    case 'microsoftCampaign':
    case 'microsoftCustomer':
      return microsoftFault(117, 429);
    case 'microsoftCapi':
      // The Conversions API's throttling body is not documented (UNCONFIRMED, microsoft-ads.md §11.8).
      return { status: 429, body: { error: { code: 'TooManyRequests', message: 'Too many requests.' } } };
  }
}

/**
 * The answer of a step that replaces processing (`status`, `meta-error`,
 * `google-rpc`, `tiktok-code`, `retry-after`); `undefined` for the others.
 * `adsVersion` is the version in the request path, for GoogleAdsFailure type URLs.
 */
export function stepAnswer(route: FakeRoute, step: FakeStep, now: Date, adsVersion: string): FakeAnswer | undefined {
  switch (step.kind) {
    case 'status':
      return { status: step.status, body: step.body, ...(step.headers === undefined ? {} : { headers: step.headers }) };
    case 'meta-error':
      return {
        status: step.httpStatus ?? (step.code === 1 || step.code === 2 ? 500 : 400),
        body: metaCodeError(step.code, step.subcode, step.transient),
      };
    case 'google-rpc':
      if (route === 'googleAds') return scriptedAdsRpcError(adsVersion, step.httpStatus, step.status, step.reason, step.retryDelaySeconds);
      if (route === 'dataManager') return scriptedDataManagerRpcError(step.httpStatus, step.status, step.reason, step.retryDelaySeconds);
      return { status: step.httpStatus, body: { error: step.reason ?? step.status.toLowerCase(), error_description: `Scripted ${step.status}.` } };
    case 'microsoft-fault':
      return microsoftFault(step.code, step.httpStatus ?? (step.code === 105 || step.code === 109 ? 401 : step.code === 117 ? 429 : step.code === 0 ? 500 : 400));
    case 'tiktok-code':
      return tiktokAnswer(step.code, step.message ?? TIKTOK_MESSAGES[step.code] ?? 'Error', now);
    case 'retry-after': {
      const answer = throttle(route, step.seconds, now, adsVersion);
      return { ...answer, headers: { ...answer.headers, 'retry-after': String(step.seconds) } };
    }
    default:
      return undefined;
  }
}
