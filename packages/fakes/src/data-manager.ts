/**
 * Fake Google Data Manager API: `POST /v1/events:ingest` and
 * `GET /v1/requestStatus:retrieve` (google-data-manager.md §9, rules 1-28).
 * Fast-fail: one bad event rejects the whole request and nothing is counted
 * (§6); every violation is listed so the client can quarantine `events[i]`.
 */
import { isKnownCurrency, MS, SHA256_HEX } from './formats.js';
import { dataManagerRequestId } from './ids.js';
import type { Ledger } from './ledger.js';
import { authorization, GOOGLE_SCOPES, type TokenStore } from './google-oauth.js';
import { dataManagerError, dataManagerQuotaError, DM_QUOTA, MISSING_CREDENTIALS_MESSAGE, RPC_MESSAGES, type FieldViolation } from './google-rpc.js';
import { checkProtoJson, enumsToNames, P, type ProtoType } from './proto-json.js';
import { isRecord, type FakeAnswer, type FakeHttpRequest } from './request.js';

const NS = 'google.ads.datamanager.v1';
const MAX_DESTINATIONS = 10;
const MAX_EVENTS = 2000;
const MAX_USER_IDENTIFIERS = 10;
/** Event time window (UNCONFIRMED, google-data-manager.md §9 rule 16): at most 90 days old, 5 minutes ahead. */
const MAX_EVENT_AGE_MS = 90 * MS.day;
const MAX_EVENT_LEAD_MS = 5 * MS.minute;
/** Google needs 6 h to process a click before it can be matched (platforms.md §3.6). */
const MIN_CLICK_AGE_MS = 6 * MS.hour;
const CLICK_ID = /^[A-Za-z0-9_-]{4,512}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

// Enum numbers from google/ads/datamanager/v1 (the `@google-ads/datamanager` client's protos).
const consentStatus = P.enumOf(`${NS}.ConsentStatus`, { CONSENT_STATUS_UNSPECIFIED: 0, CONSENT_GRANTED: 1, CONSENT_DENIED: 2 });
const consent = P.message(`${NS}.Consent`, { adUserData: consentStatus, adPersonalization: consentStatus });
const productAccount = P.message(`${NS}.ProductAccount`, {
  accountId: P.string,
  accountType: P.enumOf(`${NS}.ProductAccount.AccountType`, {
    ACCOUNT_TYPE_UNSPECIFIED: 0, GOOGLE_ADS: 1, DISPLAY_VIDEO_PARTNER: 2, DISPLAY_VIDEO_ADVERTISER: 3, DATA_PARTNER: 4,
    GOOGLE_ANALYTICS_PROPERTY: 5, GOOGLE_AD_MANAGER_AUDIENCE_LINK: 6,
  }),
  product: P.enumOf(`${NS}.Product`, { PRODUCT_UNSPECIFIED: 0, GOOGLE_ADS: 1, DISPLAY_VIDEO_PARTNER: 2, DISPLAY_VIDEO_ADVERTISER: 3, DATA_PARTNER: 4 }),
});
const deviceInfo = P.message(`${NS}.DeviceInfo`, {
  userAgent: P.string, ipAddress: P.string, category: P.any, languageCode: P.string, screenHeight: P.int32, screenWidth: P.int32,
  operatingSystem: P.string, operatingSystemVersion: P.string, model: P.string, brand: P.string, browser: P.string, browserVersion: P.string,
});
const userIdentifier = P.message(`${NS}.UserIdentifier`, {
  emailAddress: P.string,
  phoneNumber: P.string,
  address: P.message(`${NS}.AddressInfo`, { givenName: P.string, familyName: P.string, regionCode: P.string, postalCode: P.string }),
});

/** The proto3-JSON shape of IngestEventsRequest (google-data-manager.md §3, §4; DM-DISC). */
export const INGEST_REQUEST_TYPE: ProtoType = P.message(`${NS}.IngestEventsRequest`, {
  destinations: P.repeated(P.message(`${NS}.Destination`, {
    reference: P.string, loginAccount: productAccount, linkedAccount: productAccount, operatingAccount: productAccount, productDestinationId: P.string,
  })),
  events: P.repeated(P.message(`${NS}.Event`, {
    destinationReferences: P.repeated(P.string),
    transactionId: P.string,
    eventTimestamp: P.timestamp,
    lastUpdatedTimestamp: P.timestamp,
    userData: P.message(`${NS}.UserData`, { userIdentifiers: P.repeated(userIdentifier) }),
    consent,
    adIdentifiers: P.message(`${NS}.AdIdentifiers`, {
      sessionAttributes: P.string, gclid: P.string, gbraid: P.string, wbraid: P.string, landingPageDeviceInfo: deviceInfo,
      mobileDeviceId: P.string, dclid: P.string, impressionId: P.string, matchId: P.string, encryptedUserIds: P.any,
    }),
    currency: P.string,
    conversionValue: P.double,
    conversionCount: P.int64,
    // EVENT_SOURCE_UNSPECIFIED "should never be used" (§4): the fake refuses it.
    eventSource: P.enumOf(`${NS}.EventSource`, { WEB: 1, APP: 2, IN_STORE: 3, PHONE: 4, OTHER: 5, MESSAGE: 6 }),
    eventDeviceInfo: deviceInfo,
    cartData: P.any,
    customVariables: P.repeated(P.message(`${NS}.CustomVariable`, { variable: P.string, value: P.string, destinationReferences: P.repeated(P.string) })),
    experimentalFields: P.any,
    userProperties: P.any,
    eventName: P.string,
    clientId: P.string,
    userId: P.string,
    additionalEventParameters: P.any,
    appInstanceId: P.string,
    eventLocation: P.any,
    thirdPartyUserData: P.any,
  })),
  consent,
  validateOnly: P.bool,
  // ENCODING_UNSPECIFIED "must not be used" (§3).
  encoding: P.enumOf(`${NS}.Encoding`, { HEX: 1, BASE64: 2 }),
  encryptionInfo: P.any,
});

type Json = Record<string, unknown>;

function violation(field: string, reason: string, description: string): FieldViolation {
  return { field, description, reason };
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Check one hashed identifier value against the request encoding (rules 21-22). */
function checkHashedValue(value: unknown, encoding: string, field: string): FieldViolation | undefined {
  const text = typeof value === 'string' ? value : '';
  if (encoding === 'HEX') {
    if (!/^[0-9a-f]*$/.test(text) || text === '') return violation(field, 'INVALID_HEX_ENCODING', 'The HEX encoded value is malformed.');
    if (!SHA256_HEX.test(text)) return violation(field, 'INVALID_SHA256_FORMAT', 'The value is not a SHA-256 digest (64 hex characters).');
    return undefined;
  }
  if (!BASE64.test(text) || text.length % 4 !== 0) return violation(field, 'INVALID_BASE64_ENCODING', 'The BASE64 encoded value is malformed.');
  if (text.length !== 44 || Buffer.from(text, 'base64').length !== 32) {
    return violation(field, 'INVALID_SHA256_FORMAT', 'The value is not a SHA-256 digest (44 padded Base64 characters).');
  }
  return undefined;
}

function checkAccount(account: unknown, path: string, allowed: readonly string[], out: FieldViolation[]): void {
  if (!isRecord(account)) return;
  const type = str(account['accountType']);
  if (type === undefined) out.push(violation(`${path}.account_type`, 'REQUIRED_FIELD_MISSING', 'accountType is required (e.g. GOOGLE_ADS).'));
  else if (!allowed.includes(type)) out.push(violation(`${path}.account_type`, 'INVALID_DESTINATION', `accountType must be ${allowed.join(' or ')} here.`));
  const id = account['accountId'];
  if (str(id) === undefined) out.push(violation(`${path}.account_id`, 'REQUIRED_FIELD_MISSING', 'accountId is required: the 10-digit customer id without hyphens.'));
  else if (!/^\d+$/.test(String(id))) out.push(violation(`${path}.account_id`, 'INVALID_NUMBER_FORMAT', 'String is not a valid number.'));
}

/**
 * Every semantic violation of a shape-valid IngestEventsRequest (google-data-manager.md §9
 * rules 10-22). Pure; `nowMs` is the fake's clock.
 */
export function validateIngestRequest(request: Json, nowMs: number): FieldViolation[] {
  const out: FieldViolation[] = [];
  const destinations = (request['destinations'] ?? []) as Json[];
  const references = new Set<string>();
  if (destinations.length === 0) out.push(violation('destinations', 'REQUIRED_FIELD_MISSING', 'At least one destination is required.'));
  if (destinations.length > MAX_DESTINATIONS) out.push(violation('destinations', 'TOO_MANY_DESTINATIONS', `At most ${MAX_DESTINATIONS} destinations per request.`));
  for (const [i, destination] of destinations.entries()) {
    const path = `destinations[${i}]`;
    const reference = str(destination['reference']);
    if (reference !== undefined) {
      if (references.has(reference)) out.push(violation(`${path}.reference`, 'DUPLICATE_DESTINATION_REFERENCE', `Destination reference "${reference}" is used twice.`));
      references.add(reference);
    }
    if (!isRecord(destination['operatingAccount'])) {
      out.push(violation(`${path}.operating_account`, 'REQUIRED_FIELD_MISSING', 'operatingAccount is required: the Google Ads account that owns the conversion action.'));
    }
    checkAccount(destination['operatingAccount'], `${path}.operating_account`, ['GOOGLE_ADS'], out);
    checkAccount(destination['loginAccount'], `${path}.login_account`, ['GOOGLE_ADS', 'DATA_PARTNER'], out);
    checkAccount(destination['linkedAccount'], `${path}.linked_account`, ['GOOGLE_ADS'], out);
    const login = destination['loginAccount'];
    if (isRecord(destination['linkedAccount']) && !(isRecord(login) && login['accountType'] === 'DATA_PARTNER')) {
      out.push(violation(`${path}.linked_account`, 'LINKED_ACCOUNT_ONLY_ALLOWED_WITH_DATA_PARTNER_LOGIN_ACCOUNT', 'linkedAccount needs a DATA_PARTNER loginAccount; leave it unset for direct or manager access.'));
    }
    const product = str(destination['productDestinationId']);
    if (product === undefined) out.push(violation(`${path}.product_destination_id`, 'REQUIRED_FIELD_MISSING', 'productDestinationId is required: the numeric conversion action id.'));
    else if (!/^\d+$/.test(product)) out.push(violation(`${path}.product_destination_id`, 'INVALID_CONVERSION_ACTION_ID', 'productDestinationId must be the numeric conversion action id, not its resource name.'));
  }

  const events = (request['events'] ?? []) as Json[];
  if (events.length === 0) {
    out.push(violation('events', 'REQUIRED_FIELD_MISSING', 'At least one event is required.'));
    return out;
  }
  if (events.length > MAX_EVENTS) {
    out.push(violation('events', 'TOO_MANY_EVENTS', `At most ${MAX_EVENTS} events per request (got ${events.length}).`));
    return out;
  }
  const encoding = str(request['encoding']);
  let encodingReported = false;
  for (const [i, event] of events.entries()) {
    const path = `events.events[${i}]`;
    if (str(event['transactionId']) === undefined) {
      // Optional for Google; required by the fake as Pruuv's dedup key (rule 18).
      out.push(violation(`${path}.transaction_id`, 'REQUIRED_FIELD_MISSING', 'transactionId is required: a stable id so a resend is not counted twice.'));
    }
    const timestamp = str(event['eventTimestamp']);
    if (timestamp === undefined) out.push(violation(`${path}.event_timestamp`, 'REQUIRED_FIELD_MISSING', 'eventTimestamp is required (RFC 3339).'));
    else {
      const at = Date.parse(timestamp);
      if (at < nowMs - MAX_EVENT_AGE_MS || at > nowMs + MAX_EVENT_LEAD_MS) {
        out.push(violation(`${path}.event_timestamp`, 'EVENT_TIME_INVALID', 'eventTimestamp must be within the last 90 days and not in the future.'));
      }
    }
    const ad = isRecord(event['adIdentifiers']) ? event['adIdentifiers'] : {};
    const userData = isRecord(event['userData']) ? event['userData'] : undefined;
    const identifiers = (userData?.['userIdentifiers'] ?? []) as Json[];
    const hasClick = ['gclid', 'gbraid', 'wbraid'].some((k) => str(ad[k]) !== undefined);
    if (!hasClick && identifiers.length === 0) {
      out.push(violation(path, 'NO_IDENTIFIERS_PROVIDED', 'An event needs a click id (adIdentifiers.gclid/gbraid/wbraid) or userData.userIdentifiers.'));
    }
    const currency = event['currency'];
    if (currency !== undefined && currency !== null && !isKnownCurrency(currency)) {
      out.push(violation(`${path}.currency`, 'INVALID_CURRENCY_CODE', 'currency must be an upper-case ISO 4217 code.'));
    }
    const refs = (event['destinationReferences'] ?? []) as string[];
    for (const [j, ref] of refs.entries()) {
      if (!references.has(ref)) out.push(violation(`${path}.destination_references[${j}]`, 'INVALID_DESTINATION', `No destination has reference "${ref}".`));
    }
    if (userData !== undefined && encoding === undefined && !encodingReported) {
      out.push(violation('encoding', 'REQUIRED_FIELD_MISSING', 'encoding (HEX or BASE64) is required when events carry userData.'));
      encodingReported = true;
    }
    if (identifiers.length > MAX_USER_IDENTIFIERS) {
      out.push(violation(`${path}.user_data.user_identifiers`, 'TOO_MANY_USER_IDENTIFIERS', `At most ${MAX_USER_IDENTIFIERS} user identifiers per event.`));
    }
    for (const [j, identifier] of identifiers.entries()) {
      const field = `${path}.user_data.user_identifiers[${j}]`;
      const kinds = ['emailAddress', 'phoneNumber', 'address'].filter((k) => identifier[k] !== undefined && identifier[k] !== null);
      if (kinds.length !== 1) {
        out.push(violation(field, 'INVALID_ARGUMENT', 'A user identifier holds exactly one of emailAddress, phoneNumber or address.'));
        continue;
      }
      if (encoding === undefined) continue;
      const kind = kinds[0] ?? '';
      if (kind === 'address') {
        const address = isRecord(identifier['address']) ? identifier['address'] : {};
        for (const name of ['givenName', 'familyName']) {
          const problem = checkHashedValue(address[name], encoding, field);
          if (problem !== undefined) out.push(problem);
        }
      } else {
        const problem = checkHashedValue(identifier[kind], encoding, field);
        if (problem !== undefined) out.push(problem);
      }
    }
  }
  return out;
}

/** Per-project (OAuth client) ingest quota in fixed minute and UTC-day windows (rule 24). */
export class QuotaCounter {
  readonly #perMinute: number;
  readonly #perDay: number;
  readonly #usage = new Map<string, { minute: number; minuteCount: number; day: number; dayCount: number }>();

  constructor(perMinute: number, perDay: number) {
    this.#perMinute = perMinute;
    this.#perDay = perDay;
  }

  /** Take one request from the quota; returns the exhausted quota's name, or `undefined` when allowed. */
  take(project: string, nowMs: number): string | undefined {
    const minute = Math.floor(nowMs / MS.minute);
    const day = Math.floor(nowMs / MS.day);
    const usage = this.#usage.get(project) ?? { minute, minuteCount: 0, day, dayCount: 0 };
    if (usage.minute !== minute) Object.assign(usage, { minute, minuteCount: 0 });
    if (usage.day !== day) Object.assign(usage, { day, dayCount: 0 });
    this.#usage.set(project, usage);
    if (usage.dayCount >= this.#perDay) return DM_QUOTA.perDay;
    if (usage.minuteCount >= this.#perMinute) return DM_QUOTA.perMinute;
    usage.minuteCount += 1;
    usage.dayCount += 1;
    return undefined;
  }

  clear(): void {
    this.#usage.clear();
  }
}

/** Diagnostics of one destination of an accepted request (google-data-manager.md §6). */
interface DestinationOutcome {
  destination: Json;
  recordCount: number;
  errors: Map<string, number>;
}

/** An accepted (or validate-only) ingest request, kept for `requestStatus:retrieve`. */
export interface StoredIngest {
  validateOnly: boolean;
  acceptedAtMs: number;
  retrievals: number;
  destinations: DestinationOutcome[];
}

/** What the Data Manager fake needs besides the request. */
export interface DataManagerContext {
  customers: ReadonlySet<string>;
  conversionActions: ReadonlySet<string>;
  knownClicks: ReadonlyMap<string, number | undefined> | undefined;
  tokens: TokenStore;
  now: () => Date;
  /** Google's counting ledger, keyed `{productDestinationId}:{transactionId}` (shared with Ads). */
  ledger: Ledger;
  quota: QuotaCounter;
  requests: Map<string, StoredIngest>;
  statusDelayMs: number;
}

function invalidArgument(violations: FieldViolation[], message = 'There was a problem with the request.'): FakeAnswer {
  return dataManagerError({ httpStatus: 400, status: 'INVALID_ARGUMENT', message, reason: 'INVALID_ARGUMENT', violations });
}

/** The processing error Google would report for an event's click, if any (rule 26). */
function clickProcessingError(event: Json, ctx: DataManagerContext, nowMs: number): string | undefined {
  const ad = isRecord(event['adIdentifiers']) ? event['adIdentifiers'] : {};
  const click = str(ad['gclid']) ?? str(ad['gbraid']) ?? str(ad['wbraid']);
  if (click === undefined) return undefined;
  if (!CLICK_ID.test(click)) return 'PROCESSING_ERROR_REASON_INVALID_GCLID';
  if (ctx.knownClicks === undefined) return undefined;
  if (!ctx.knownClicks.has(click)) return 'PROCESSING_ERROR_REASON_CLICK_NOT_FOUND';
  const clickedAt = ctx.knownClicks.get(click);
  if (clickedAt === undefined) return undefined;
  if (Date.parse(String(event['eventTimestamp'])) < clickedAt) return 'PROCESSING_ERROR_REASON_CONVERSION_PRECEDES_CLICK';
  if (nowMs - clickedAt < MIN_CLICK_AGE_MS) return 'PROCESSING_ERROR_REASON_TOO_RECENT_CLICK';
  return undefined;
}

/** Count the events of an accepted request and build its diagnostics (rules 25-26). */
function ingest(request: Json, ctx: DataManagerContext, nowMs: number): DestinationOutcome[] {
  const destinations = request['destinations'] as Json[];
  const outcomes = destinations.map((destination) => ({ destination, recordCount: 0, errors: new Map<string, number>() }));
  const byReference = new Map<string, DestinationOutcome>();
  for (const outcome of outcomes) {
    const ref = str(outcome.destination['reference']);
    if (ref !== undefined) byReference.set(ref, outcome);
  }
  for (const event of request['events'] as Json[]) {
    const refs = (event['destinationReferences'] ?? []) as string[];
    const targets = refs.length === 0 ? outcomes : refs.map((r) => byReference.get(r)).filter((o) => o !== undefined);
    const clickError = clickProcessingError(event, ctx, nowMs);
    for (const target of targets) {
      target.recordCount += 1;
      const key = `${String(target.destination['productDestinationId'])}:${String(event['transactionId'])}`;
      let error: string | undefined;
      if (ctx.ledger.has(key, nowMs)) {
        // A resend with the same transactionId is not counted again (google-data-manager.md §6).
        ctx.ledger.bump(key);
        error = 'PROCESSING_ERROR_REASON_DUPLICATE_TRANSACTION_ID';
      } else if (clickError !== undefined) error = clickError;
      else ctx.ledger.receive(key, nowMs);
      if (error !== undefined) target.errors.set(error, (target.errors.get(error) ?? 0) + 1);
    }
  }
  return outcomes;
}

function retrieve(req: FakeHttpRequest, ctx: DataManagerContext, nowMs: number): FakeAnswer {
  const id = req.query.get('requestId') ?? '';
  if (id === '') return invalidArgument([violation('request_id', 'REQUIRED_FIELD_MISSING', 'requestId is required.')]);
  const stored = ctx.requests.get(id);
  if (stored === undefined || stored.validateOnly) {
    return invalidArgument([violation('request_id', 'INVALID_REQUEST_ID', stored === undefined ? 'No request with this id.' : 'Status cannot be retrieved for validateOnly requests.')]);
  }
  stored.retrievals += 1;
  // The first retrieve always answers PROCESSING, so a client must poll (rule 26).
  const processing = stored.retrievals === 1 || nowMs < stored.acceptedAtMs + ctx.statusDelayMs;
  return {
    status: 200,
    body: {
      requestStatusPerDestination: stored.destinations.map((d) => {
        if (processing) return { destination: d.destination, requestStatus: 'PROCESSING' };
        const failed = [...d.errors.values()].reduce((a, b) => a + b, 0);
        const status = failed === 0 ? 'SUCCESS' : failed >= d.recordCount ? 'FAILED' : 'PARTIAL_SUCCESS';
        return {
          destination: d.destination,
          requestStatus: status,
          ...(failed === 0 ? {} : { errorInfo: { errorCounts: [...d.errors].map(([reason, count]) => ({ recordCount: String(count), reason })) } }),
          eventsIngestionStatus: { recordCount: String(d.recordCount) },
        };
      }),
    },
  };
}

/** Rows a scripted `google-partial` step fails: Data Manager has no partial failure, so they fail the request. */
export interface ScriptedEventFailure {
  rows: readonly number[];
  error: string;
}

/** Answer one request to the Data Manager route (google-data-manager.md §9). */
export function handleDataManager(req: FakeHttpRequest, ctx: DataManagerContext, scripted?: ScriptedEventFailure): FakeAnswer {
  const isIngest = req.method === 'POST' && req.path === '/v1/events:ingest';
  const isRetrieve = req.method === 'GET' && req.path === '/v1/requestStatus:retrieve';
  if (!isIngest && !isRetrieve) {
    return dataManagerError({ httpStatus: 404, status: 'NOT_FOUND', message: `${req.method} ${req.path} is not a Data Manager method.`, reason: 'NOT_FOUND' });
  }
  const nowMs = ctx.now().getTime();
  const bearer = ctx.tokens.check(authorization(req), nowMs);
  if (!bearer.ok) {
    const missing = bearer.refusal === 'missing';
    return dataManagerError({
      httpStatus: 401,
      status: 'UNAUTHENTICATED',
      message: missing ? MISSING_CREDENTIALS_MESSAGE : (RPC_MESSAGES['UNAUTHENTICATED'] ?? 'Unauthenticated'),
      reason: missing ? 'CREDENTIALS_MISSING' : bearer.refusal === 'expired' ? 'ACCESS_TOKEN_EXPIRED' : 'ACCESS_TOKEN_INVALID',
      domain: 'googleapis.com',
      metadata: { service: 'datamanager.googleapis.com' },
    });
  }
  if (!bearer.token.scopes.has(GOOGLE_SCOPES.dataManager)) {
    return dataManagerError({
      httpStatus: 403, status: 'PERMISSION_DENIED', message: 'Request had insufficient authentication scopes.',
      reason: 'ACCESS_TOKEN_SCOPE_INSUFFICIENT', domain: 'googleapis.com', metadata: { service: 'datamanager.googleapis.com' },
    });
  }
  if (isRetrieve) return retrieve(req, ctx, nowMs);

  const exhausted = ctx.quota.take(bearer.token.clientId, nowMs);
  if (exhausted !== undefined) return dataManagerQuotaError(exhausted);
  if (req.contentType !== 'application/json') {
    return invalidArgument([], `Content-Type must be application/json (got ${req.contentType || 'none'}).`);
  }
  if (req.body.kind !== 'json') {
    return invalidArgument([], `Invalid JSON payload received. ${req.body.kind === 'invalid-json' ? req.body.error : 'The body is empty.'}`);
  }
  const shape = checkProtoJson(req.body.value, INGEST_REQUEST_TYPE);
  if (shape.length > 0) return invalidArgument(shape, shape.map((v) => v.description).join('\n'));
  // Enums may come as numbers (`$alt=json;enum-encoding=int`, Google's Node client): the rules read names.
  const request = enumsToNames(req.body.value, INGEST_REQUEST_TYPE) as Json;
  const violations = validateIngestRequest(request, nowMs);
  if (violations.length > 0) return invalidArgument(violations);

  const denied: FieldViolation[] = [];
  for (const [i, destination] of (request['destinations'] as Json[]).entries()) {
    const account = String((destination['operatingAccount'] as Json)['accountId']);
    const action = String(destination['productDestinationId']);
    if (!ctx.customers.has(account)) denied.push(violation(`destinations[${i}].operating_account.account_id`, 'PERMISSION_DENIED', `The caller has no access to account ${account}.`));
    if (!ctx.conversionActions.has(action)) denied.push(violation(`destinations[${i}].product_destination_id`, 'PERMISSION_DENIED', `Conversion action ${action} is not owned by an account the caller can access.`));
  }
  if (denied.length > 0) {
    return dataManagerError({ httpStatus: 403, status: 'PERMISSION_DENIED', message: RPC_MESSAGES['PERMISSION_DENIED'] ?? 'Permission denied', reason: 'PERMISSION_DENIED', violations: denied });
  }
  if (scripted !== undefined) {
    return invalidArgument(scripted.rows.map((i) => violation(`events.events[${i}]`, scripted.error, `Scripted failure: ${scripted.error}.`)));
  }

  const requestId = dataManagerRequestId();
  const validateOnly = request['validateOnly'] === true;
  ctx.requests.set(requestId, {
    validateOnly,
    acceptedAtMs: nowMs,
    retrievals: 0,
    destinations: validateOnly ? [] : ingest(request, ctx, nowMs),
  });
  return { status: 200, body: { requestId } };
}
