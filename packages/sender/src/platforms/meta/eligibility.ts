/**
 * Meta's pre-flight: a click (the `_fbc` cookie, or one built from the stored
 * fbclid), the 7-day age limit, and value and currency for a Purchase.
 * Consent is checked before, for every platform.
 */
import { resolveEventNames } from '../../event-names.js';
import type { ClickRef, ConversionEvent, StageOverrides } from '../../types.js';
import { connectionProblem, precedesClick, skip, time, type Eligibility, type Skip } from '../preflight.js';
import { META_CONNECTION, type MetaConnection } from './connection.js';

const DAY_MS = 24 * 3_600_000;

/** Meta rejects a request with an `event_time` older than 7 days (platforms.md §1.3). */
export const META_MAX_EVENT_AGE_MS = 7 * DAY_MS;

/** A Meta send, with the values eligibility resolved. */
export interface MetaPlan {
  platform: 'meta';
  event: ConversionEvent;
  event_name: string;
  /** The event's `_fbc` when valid, else one built from the ledger's fbclid. */
  fbc: string;
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

/** The `fbc` to send and the click it stands for, or a skip. */
function chooseFbc(event: ConversionEvent): { fbc: string; click: ClickRef | undefined } | Skip {
  const ledger = event.clicks.fbclid;
  const cookie = event.fbc === undefined ? undefined : parseFbc(event.fbc);
  if (cookie && event.fbc !== undefined) {
    // Send the most recent click (platforms.md §1.8): the ledger's fbclid wins
    // only when it differs from the cookie's and was seen after the cookie was set.
    const ledgerAt = time(ledger?.ts);
    if (ledger && ledger.value !== cookie.fbclid && ledgerAt !== undefined && ledgerAt > cookie.creationTime) {
      return { fbc: buildFbc(ledger.value, ledgerAt), click: ledger };
    }
    // Kept verbatim, appendix included (platforms.md §2.1 rule 4).
    return { fbc: event.fbc, click: ledger?.value === cookie.fbclid ? ledger : undefined };
  }
  if (ledger) {
    // Without a first-seen time, the conversion time is the latest moment the click surely existed.
    const fbc = buildFbc(ledger.value, time(ledger.ts) ?? Date.parse(event.event_time));
    if (!parseFbc(fbc)) return skip('fbc_malformed', `The stored fbclid cannot form a valid fbc (${fbc.length} characters).`);
    return { fbc, click: ledger };
  }
  if (event.fbc !== undefined) return skip('fbc_malformed', 'The _fbc cookie is malformed and no fbclid was stored to rebuild it.');
  return skip('missing_click_id', 'No Meta click (fbc cookie or fbclid); Meta needs one to attribute the conversion.');
}

/** Meta: `fbc` (from the cookie or the ledger's fbclid), 7-day age, Purchase value. Consent is `checkEligibility`'s. */
export function checkMeta(
  event: ConversionEvent,
  connection: MetaConnection | undefined,
  overrides: StageOverrides | undefined,
  now: Date,
): Eligibility<MetaPlan> {
  const problem = connectionProblem('meta', META_CONNECTION, connection);
  if (problem) return skip('no_connection', problem);
  const chosen = chooseFbc(event);
  if ('send' in chosen) return chosen;
  if (now.getTime() - Date.parse(event.event_time) > META_MAX_EVENT_AGE_MS) {
    return skip('event_too_old', 'The conversion is more than 7 days old; Meta rejects such events.');
  }
  if (precedesClick(event, chosen.click)) {
    return skip('conversion_before_click', 'The conversion time is before the Meta click.');
  }
  const eventName = resolveEventNames(event.stage_key, overrides).meta;
  if (eventName === 'Purchase' && (event.revenue_value === undefined || event.currency === undefined)) {
    // value and currency are required for Purchase (platforms.md §1.5).
    return skip('missing_value_currency', 'A Meta Purchase needs revenue_value and currency; add them to the event.');
  }
  return { send: true, plan: { platform: 'meta', event, event_name: eventName, fbc: chosen.fbc } };
}
