/**
 * Pre-flight: for one event and one platform, send or skip. A skip carries a
 * machine reason and a human message for the audit log. Sending what the
 * platform is certain to reject would only fail the whole batch (Meta and
 * TikTok reject a batch for one bad event, platforms.md §1.2, §4.3).
 */
import { resolveEventNames } from './event-names.js';
import { connectionSchema, formatIssues } from './schema.js';
import type {
  ClickRef,
  Connection,
  ConversionEvent,
  GoogleConnection,
  MetaConnection,
  Platform,
  StageOverrides,
  TikTokConnection,
} from './types.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Meta rejects a request with an `event_time` older than 7 days (platforms.md §1.3). */
export const META_MAX_EVENT_AGE_MS = 7 * DAY_MS;
/**
 * Google counts a conversion only within the action's click-through window,
 * 90 days at most (platforms.md §3.6, google-data-manager.md §10).
 */
export const GOOGLE_MAX_CLICK_AGE_MS = 90 * DAY_MS;
/**
 * A conversion may look a little earlier than its click when the click's
 * first-seen time came from a browser clock; 5 minutes of slack keeps such
 * events. Defaults to `300_000` ms.
 */
export const CLOCK_SKEW_TOLERANCE_MS = 5 * 60_000;

/** Why an event is not sent to a platform. */
export type SkipReason =
  | 'consent_denied'
  | 'no_connection'
  | 'missing_click_id'
  | 'gbraid_and_wbraid'
  | 'fbc_malformed'
  | 'event_too_old'
  | 'conversion_before_click'
  | 'click_too_old'
  | 'missing_value_currency'
  | 'invalid_event'
  | 'duplicate_in_batch';

/** Not sent, and why. */
export interface Skip {
  send: false;
  reason: SkipReason;
  /** One sentence for the audit log. */
  message: string;
}

/** A Meta send, with the values eligibility resolved. */
export interface MetaPlan {
  platform: 'meta';
  event: ConversionEvent;
  event_name: string;
  /** The event's `_fbc` when valid, else one built from the ledger's fbclid. */
  fbc: string;
}

/** The Google click a conversion is attributed to: exactly one per upload (platforms.md §3.2). */
export interface GoogleClick {
  name: 'gclid' | 'wbraid' | 'gbraid';
  value: string;
  ts?: string;
}

/** A Google send (Ads API or Data Manager). */
export interface GooglePlan {
  platform: 'google';
  event: ConversionEvent;
  /** The stage override, else the connection's action. */
  conversion_action_id: string;
  click: GoogleClick;
}

/** A TikTok send. */
export interface TikTokPlan {
  platform: 'tiktok';
  event: ConversionEvent;
  event_name: string;
  ttclid: string;
}

export type Plan = MetaPlan | GooglePlan | TikTokPlan;

/** Send with a plan, or skip with a reason. */
export type Eligibility<P extends Plan = Plan> = { send: true; plan: P } | Skip;

/** Input of {@link checkEligibility}. */
export interface EligibilityInput {
  event: ConversionEvent;
  platform: Platform;
  /** The client's connection for that platform; `undefined` when there is none. */
  connection: Connection | undefined;
  /** Overrides of the event's stage. */
  overrides?: StageOverrides;
  now: Date;
}

function skip(reason: SkipReason, message: string): Skip {
  return { send: false, reason, message };
}

/** A parsed `_fbc` (platforms.md §1.8, §2.1). */
export interface ParsedFbc {
  subdomainIndex: number;
  /** Milliseconds since the epoch. */
  creationTime: number;
  /** Segment 3, case kept (never "after the last dot": the 5th segment is an appendix). */
  fbclid: string;
  appendix?: string;
}

const LEGACY_APPENDIX = new Set(['AQ', 'Ag', 'Aw', 'BA', 'BQ', 'Bg']);

/**
 * Parses `fb.{subdomainIndex}.{creationTime}.{fbclid}[.{appendix}]` with the
 * param builder's rules (platforms.md §2.1 rules 1–3). Returns `undefined`
 * when the value is malformed.
 */
export function parseFbc(value: string): ParsedFbc | undefined {
  const parts = value.split('.');
  if (parts.length !== 4 && parts.length !== 5) return undefined;
  const [version, sub, created, fbclid, appendix] = parts as [string, string, string, string, string | undefined];
  if (version !== 'fb' || !/^\d+$/.test(sub) || !/^\d+$/.test(created) || fbclid.length === 0) return undefined;
  if (appendix !== undefined && !(LEGACY_APPENDIX.has(appendix) || /^[A-Za-z0-9_-]{8}$/.test(appendix))) return undefined;
  const parsed: ParsedFbc = { subdomainIndex: Number(sub), creationTime: Number(created), fbclid };
  if (appendix !== undefined) parsed.appendix = appendix;
  return parsed;
}

/**
 * `_fbc` built on the server from a stored fbclid: subdomain index `1`
 * ("If you're generating this field on a server … use the value 1") and the
 * time the fbclid was first observed, in milliseconds (platforms.md §1.8).
 */
export function buildFbc(fbclid: string, firstSeenMs: number): string {
  return `fb.1.${Math.floor(firstSeenMs)}.${fbclid}`;
}

function time(iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}

function precedesClick(event: ConversionEvent, click: ClickRef | undefined): boolean {
  const clickAt = time(click?.ts);
  return clickAt !== undefined && Date.parse(event.event_time) < clickAt - CLOCK_SKEW_TOLERANCE_MS;
}

function connectionProblem(platform: Platform, connection: Connection | undefined): string | undefined {
  if (connection === undefined) return `No ${platform} connection for this client; add one in Connections.`;
  if (connection.platform !== platform) return `The connection is for ${connection.platform}, not ${platform}.`;
  const parsed = connectionSchema.safeParse(connection);
  return parsed.success ? undefined : `The ${platform} connection is incomplete: ${formatIssues(parsed.error)}.`;
}

/** Meta: `fbc` (from the cookie or the ledger's fbclid), 7-day age, Purchase value. Consent is {@link checkEligibility}'s. */
export function checkMeta(
  event: ConversionEvent,
  connection: MetaConnection | undefined,
  overrides: StageOverrides | undefined,
  now: Date,
): Eligibility<MetaPlan> {
  const problem = connectionProblem('meta', connection);
  if (problem) return skip('no_connection', problem);

  const ledger = event.clicks.fbclid;
  const cookie = event.fbc === undefined ? undefined : parseFbc(event.fbc);
  let fbc: string;
  let clickRef: ClickRef | undefined;
  if (cookie && event.fbc !== undefined) {
    // Send the most recent click (platforms.md §1.8): the ledger's fbclid wins
    // only when it differs from the cookie's and was seen after the cookie was set.
    const ledgerAt = time(ledger?.ts);
    if (ledger && ledger.value !== cookie.fbclid && ledgerAt !== undefined && ledgerAt > cookie.creationTime) {
      fbc = buildFbc(ledger.value, ledgerAt);
      clickRef = ledger;
    } else {
      fbc = event.fbc; // kept verbatim, appendix included (platforms.md §2.1 rule 4)
      clickRef = ledger?.value === cookie.fbclid ? ledger : undefined;
    }
  } else if (ledger) {
    // Without a first-seen time, the conversion time is the latest moment the click surely existed.
    fbc = buildFbc(ledger.value, time(ledger.ts) ?? Date.parse(event.event_time));
    clickRef = ledger;
    if (!parseFbc(fbc)) return skip('fbc_malformed', `The stored fbclid cannot form a valid fbc (${fbc.length} characters).`);
  } else if (event.fbc !== undefined) {
    return skip('fbc_malformed', 'The _fbc cookie is malformed and no fbclid was stored to rebuild it.');
  } else {
    return skip('missing_click_id', 'No Meta click (fbc cookie or fbclid); Meta needs one to attribute the conversion.');
  }

  if (now.getTime() - Date.parse(event.event_time) > META_MAX_EVENT_AGE_MS) {
    return skip('event_too_old', 'The conversion is more than 7 days old; Meta rejects such events.');
  }
  if (precedesClick(event, clickRef)) {
    return skip('conversion_before_click', 'The conversion time is before the Meta click.');
  }
  const eventName = resolveEventNames(event.stage_key, overrides).meta;
  if (eventName === 'Purchase' && (event.revenue_value === undefined || event.currency === undefined)) {
    // value and currency are required for Purchase (platforms.md §1.5).
    return skip('missing_value_currency', 'A Meta Purchase needs revenue_value and currency; add them to the event.');
  }
  return { send: true, plan: { platform: 'meta', event, event_name: eventName, fbc } };
}

const GOOGLE_CLICKS = ['gclid', 'wbraid', 'gbraid'] as const;

/**
 * The one Google click to upload. No gclid but both braids: unusable, as
 * Google rejects `GBRAID_WBRAID_BOTH_SET` and we cannot tell app (gbraid) from
 * web (wbraid) conversions (platforms.md §3.2, §6). Otherwise the most recent
 * click by first-seen time; unknown times rank oldest and ties favour gclid.
 */
export function chooseGoogleClick(event: ConversionEvent): GoogleClick | 'both_braids' | undefined {
  const { gclid, wbraid, gbraid } = event.clicks;
  if (!gclid && wbraid && gbraid) return 'both_braids';
  let best: GoogleClick | undefined;
  let bestAt = -Infinity;
  for (const name of GOOGLE_CLICKS) {
    const ref = event.clicks[name];
    if (!ref) continue;
    const at = time(ref.ts) ?? -Infinity;
    if (best === undefined || at > bestAt) {
      best = { name, value: ref.value };
      if (ref.ts !== undefined) best.ts = ref.ts;
      bestAt = at;
    }
  }
  return best;
}

/** Google: exactly one click id, within 90 days, conversion after the click. */
export function checkGoogle(
  event: ConversionEvent,
  connection: GoogleConnection | undefined,
  overrides: StageOverrides | undefined,
  now: Date,
): Eligibility<GooglePlan> {
  const problem = connectionProblem('google', connection);
  if (problem || connection === undefined) return skip('no_connection', problem ?? 'No google connection.');
  const click = chooseGoogleClick(event);
  if (click === undefined) {
    return skip('missing_click_id', 'No gclid, wbraid or gbraid; Google needs one to upload a click conversion.');
  }
  if (click === 'both_braids') {
    return skip('gbraid_and_wbraid', 'Both gbraid and wbraid are set and no gclid; Google accepts only one of them.');
  }
  const clickAt = time(click.ts);
  // Measured from now, which also bounds the conversion: it happened before now.
  if (clickAt !== undefined && now.getTime() - clickAt > GOOGLE_MAX_CLICK_AGE_MS) {
    return skip('click_too_old', `The ${click.name} is more than 90 days old; Google no longer accepts it.`);
  }
  if (precedesClick(event, click.ts === undefined ? undefined : { value: click.value, ts: click.ts })) {
    return skip('conversion_before_click', `The conversion time is before the ${click.name} click.`);
  }
  const action = resolveEventNames(event.stage_key, overrides).google_conversion_action_id ?? connection.conversion_action_id;
  return { send: true, plan: { platform: 'google', event, conversion_action_id: action, click } };
}

/** TikTok: a ttclid, conversion after the click. */
export function checkTikTok(
  event: ConversionEvent,
  connection: TikTokConnection | undefined,
  overrides: StageOverrides | undefined,
  now: Date,
): Eligibility<TikTokPlan> {
  void now; // TikTok's maximum event age is unknown (platforms.md §7.8): no age check.
  const problem = connectionProblem('tiktok', connection);
  if (problem) return skip('no_connection', problem);
  const ttclid = event.clicks.ttclid;
  if (!ttclid) return skip('missing_click_id', 'No ttclid; TikTok needs it to attribute the conversion.');
  if (precedesClick(event, ttclid)) return skip('conversion_before_click', 'The conversion time is before the TikTok click.');
  const eventName = resolveEventNames(event.stage_key, overrides).tiktok;
  return { send: true, plan: { platform: 'tiktok', event, event_name: eventName, ttclid: ttclid.value } };
}

/**
 * Send or skip one event on one platform. Denied consent skips every platform;
 * `unspecified` (the site did not ask) sends.
 */
export function checkEligibility(input: EligibilityInput): Eligibility {
  const { event, platform, connection, overrides, now } = input;
  if (event.consent === 'denied') return skip('consent_denied', 'The user denied consent to ad use of their data.');
  const typed = connection?.platform === platform ? connection : undefined;
  if (connection !== undefined && typed === undefined) {
    return skip('no_connection', `The connection is for ${connection.platform}, not ${platform}.`);
  }
  switch (platform) {
    case 'meta':
      return checkMeta(event, typed as MetaConnection | undefined, overrides, now);
    case 'google':
      return checkGoogle(event, typed as GoogleConnection | undefined, overrides, now);
    case 'tiktok':
      return checkTikTok(event, typed as TikTokConnection | undefined, overrides, now);
  }
}
