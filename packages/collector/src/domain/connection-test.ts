/**
 * "Send test event" on a connection: one synthetic conversion sent through the
 * sender's own `sendBatch` (the pre-flight, request builders and answer
 * readers of a real pass) over a COPY of the connection switched to the
 * platform's test mode, so a person sees what the platform says about the
 * stored credentials and settings before a pass does.
 *
 * Never a real conversion:
 * - nothing is written: no event, no outbox row, no audit record, no pause and
 *   no `last_used_at` (a pass's commit writes those; this calls `sendBatch` alone);
 * - it never leaves without test mode: {@link testConnection} makes the copy and
 *   {@link inTestMode} checks it again right before the send.
 *
 * Test modes come from the adapter, not from platform names: a platform whose dry
 * run is validated by the platform (`dryRun: 'validate-only'`, Google's
 * `validateOnly`: "the request is validated but not executed", google-data-manager.md §2)
 * is tested with `dry_run`; a platform whose connection has a `test_event_code`
 * field (Meta, TikTok: test events show in the events manager's Test Events tab,
 * platforms.md §1.2 and §4.2) is tested with the code the person types; a platform
 * with neither whose adapter makes an unmatched test click (`testClickId`: Microsoft's
 * offline conversions, which take a well-formed msclkid that belongs to no click silently
 * and count nothing, microsoft-ads.md §4.4) is tested with that click, and no email or
 * phone; a platform with none of them cannot be tested.
 *
 * Why the unmatched click for Microsoft: its sandbox needs separate accounts and
 * credentials, so it cannot test the production connection; an unknown click with the
 * connection's goal name goes through the same checks as a real upload (token,
 * developer token, customer and account ids, goal name 5606, goal age 5615) and,
 * matching no click and carrying no hash, cannot become a conversion.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  platformAdapter,
  sendBatch,
  type ApiVersions,
  type Connection,
  type ConversionEvent,
  type FetchLike,
  type OutcomeStatus,
  type Platform,
  type PlatformUrls,
  type StageOverrides,
} from '@pruuv/sender';
import type { Stage } from '../store/types.js';
import { toStageOverrides } from './conversion-event.js';
import { OperationError } from './operations.js';

/** The connection field that marks events as test events on platforms that have one. */
export const TEST_CODE_FIELD = 'test_event_code';

/**
 * How a platform takes a test event: it validates without executing, it files events under a
 * test code, it takes a made-up click that matches no click and counts nothing, or none of them.
 */
export type TestMode = 'validate-only' | 'test-event-code' | 'unmatched-click' | 'none';

/** The test mode of a platform, from its adapter. */
export function testModeOf(platform: Platform): TestMode {
  const adapter = platformAdapter(platform);
  // Validate-only first: then nothing at all is kept on the platform's side.
  if (adapter.dryRun === 'validate-only') return 'validate-only';
  if (adapter.connection.fields.some((f) => f.name === TEST_CODE_FIELD)) return 'test-event-code';
  if (adapter.testClickId !== undefined) return 'unmatched-click';
  return 'none';
}

/** A test event code as people copy it from an events manager: 1 to 100 visible characters, no spaces. */
const TEST_CODE = /^[\x21-\x7e]{1,100}$/;

/**
 * A copy of `connection` in test mode: `dry_run` for a validate-only platform; the
 * typed `test_event_code` (required) and no build-only dry run for the others.
 * @throws {OperationError} `invalid` without a usable code, or for a platform with no test mode.
 */
export function testConnection(connection: Connection, code: string | undefined): Connection {
  const mode = testModeOf(connection.platform);
  if (mode === 'validate-only') return { ...connection, dry_run: true };
  if (mode === 'none') throw new OperationError('invalid', `${platformAdapter(connection.platform).name} has no test mode: a test event cannot be sent.`);
  // The event is the test (a click that matches none): the platform must answer, so no build-only dry run.
  if (mode === 'unmatched-click') return { ...connection, dry_run: false };
  const clean = (code ?? '').trim();
  if (!TEST_CODE.test(clean)) {
    throw new OperationError('invalid', 'Type the test event code from the events manager (Test Events tab): 1 to 100 characters, no spaces.');
  }
  // A build-only dry run would not reach the platform: the test needs its answer.
  return { ...connection, [TEST_CODE_FIELD]: clean, dry_run: false } as Connection;
}

/**
 * Whether a connection, with this event, would go out in its platform's test mode. Checked again
 * right before the send. In `unmatched-click` mode the event is the test: it must be a test event
 * ({@link testEvent}'s reference) with one click of the platform's first kind and no email or phone.
 */
export function inTestMode(connection: Connection, event?: ConversionEvent): boolean {
  const mode = testModeOf(connection.platform);
  if (mode === 'unmatched-click') return event !== undefined && isUnmatchedTest(connection.platform, event);
  if (mode === 'validate-only') return connection.dry_run === true;
  if (mode === 'test-event-code') {
    const code = (connection as unknown as Record<string, unknown>)[TEST_CODE_FIELD];
    return typeof code === 'string' && code.trim() !== '';
  }
  return false;
}

/** A test event of {@link testEvent} that only an unmatched click could attribute: nothing else to match on. */
function isUnmatchedTest(platform: Platform, event: ConversionEvent): boolean {
  const kind = platformAdapter(platform).clickIds[0];
  const clicks = Object.keys(event.clicks);
  return (
    event.reference.startsWith(TEST_REFERENCE) &&
    kind !== undefined &&
    clicks.length === 1 &&
    clicks[0] === kind &&
    event.email_sha256 === undefined &&
    event.email_sha256_microsoft === undefined &&
    event.phone_sha256 === undefined
  );
}

/** The reference of every test event. */
const TEST_REFERENCE = 'pruuv-test-';

/** How long ago the synthetic click was: past Google's 6-hour minimum age (TOO_RECENT_EVENT, platforms.md §3.6), within every window. */
const CLICK_AGE_MS = 7 * 3_600_000;

/**
 * The synthetic conversion: a fresh event id (never a stored event's, so no
 * platform can merge it with a real one), a made-up click ID of the platform's
 * first kind seven hours before `now`, consent granted, a value of 1 USD (a
 * stage whose event is a Meta `Purchase` needs one), the stage's key and
 * overrides when a stage is given, else a `lead`. The click is made up: a
 * platform that checks clicks may say it does not know it, which still shows
 * that the credentials, the account and the conversion settings were accepted.
 * A platform tested with an unmatched click makes the click itself (`testClickId`).
 */
export function testEvent(platform: Platform, clientId: string, stage: Stage | undefined, now: Date): { event: ConversionEvent; overrides?: StageOverrides } {
  const id = randomUUID();
  const adapter = platformAdapter(platform);
  const click = adapter.clickIds[0];
  const event: ConversionEvent = {
    id,
    client_id: clientId,
    stage_id: stage?.id ?? 'pruuv-test-event',
    stage_key: stage?.key ?? 'lead',
    reference: `${TEST_REFERENCE}${id.slice(0, 8)}`,
    event_time: now.toISOString(),
    source: 'webhook',
    consent: 'granted',
    revenue_value: 1,
    currency: 'USD',
    clicks: click === undefined ? {} : { [click]: { value: adapter.testClickId?.() ?? `PruuvTest${randomBytes(12).toString('base64url')}`, ts: new Date(now.getTime() - CLICK_AGE_MS).toISOString() } },
  };
  const overrides = stage === undefined ? undefined : toStageOverrides(stage.event_names);
  return overrides === undefined ? { event } : { event, overrides };
}

/** What the platform said, in the terms of the audit log, and what it means. */
export interface TestResult {
  platform: Platform;
  mode: Exclude<TestMode, 'none'>;
  /** The code the event was filed under (test-event-code mode). */
  code?: string;
  event_id: string;
  stage_key: string;
  /**
   * `accepted`: the platform took the test event; `validated`: it validated the request
   * and kept nothing; `not_sent`: the pre-flight stopped it (the message says why);
   * `refused`: the platform answered with an error; `unavailable`: no usable answer
   * (timeout, network, 5xx, rate limit): try again.
   */
  verdict: 'accepted' | 'validated' | 'not_sent' | 'refused' | 'unavailable';
  status: OutcomeStatus;
  reason?: string;
  message?: string;
  error_code?: string;
  error_message?: string;
  http_status?: number;
  request_id?: string;
  /** The answer says the credentials or the account are unusable: a pass would pause the connection. */
  would_pause: boolean;
}

/** Inputs of {@link sendTestEvent}. */
export interface SendTestOptions {
  /** The stored connection, secrets opened. */
  connection: Connection;
  clientId: string;
  /** The test event code typed (test-event-code platforms). */
  code?: string;
  /** Send as this stage (its key and event-name overrides). Defaults to a `lead`. */
  stage?: Stage;
  now: Date;
  urls?: Partial<PlatformUrls>;
  versions?: Partial<ApiVersions>;
  fetch?: FetchLike;
  /** Per request. Defaults to `15000` ms: a person is waiting. */
  timeoutMs?: number;
}

/** Sends the test event and reads the platform's answer. Writes nothing anywhere. */
export async function sendTestEvent(options: SendTestOptions): Promise<TestResult> {
  const connection = testConnection(options.connection, options.code);
  const { event, overrides } = testEvent(connection.platform, options.clientId, options.stage, options.now);
  // The last gate before the network: never without test mode.
  if (!inTestMode(connection, event)) throw new OperationError('invalid', 'Refused: the test event would not go out in test mode.');
  const result = await sendBatch({
    connection,
    events: [event],
    ...(overrides !== undefined ? { overrides: { [event.stage_id]: overrides } } : {}),
    now: () => options.now,
    timeoutMs: options.timeoutMs ?? 15_000,
    maxSplitRequests: 0,
    ...(options.urls !== undefined ? { urls: options.urls } : {}),
    ...(options.versions !== undefined ? { versions: options.versions } : {}),
    ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
  });
  const o = result.outcomes[0]!;
  const mode = testModeOf(connection.platform) as Exclude<TestMode, 'none'>;
  const out: TestResult = {
    platform: connection.platform,
    mode,
    event_id: event.id,
    stage_key: event.stage_key,
    verdict:
      o.status === 'sent'
        ? 'accepted'
        : o.status === 'skipped'
          ? o.reason === 'dry_run' && o.http_status !== undefined
            ? 'validated'
            : 'not_sent'
          : o.status === 'retrying'
            ? 'unavailable'
            : 'refused',
    status: o.status,
    would_pause: result.pause_connection,
  };
  if (mode === 'test-event-code') out.code = String((connection as unknown as Record<string, unknown>)[TEST_CODE_FIELD]);
  for (const key of ['reason', 'message', 'error_code', 'error_message', 'request_id'] as const) {
    const value = o[key];
    if (value !== undefined) out[key] = value;
  }
  if (o.http_status !== undefined) out.http_status = o.http_status;
  return out;
}
