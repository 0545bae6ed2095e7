/**
 * TikTok's pre-flight: a ttclid, or (unless the connection is `click-id-only`)
 * a hashed email or phone or the `_ttp` cookie TikTok can match the event by,
 * and a conversion after the click. TikTok's maximum event age is unknown
 * (platforms.md §7.8): no age check. Consent is checked before, for every platform.
 */
import { resolveEventNames } from '../../event-names.js';
import type { ConversionEvent, StageOverrides } from '../../types.js';
import { connectionProblem, precedesClick, skip, type Eligibility, type Skip } from '../preflight.js';
import { TIKTOK_CONNECTION, TIKTOK_MATCH_DEFAULT, type TikTokConnection } from './connection.js';

/** A TikTok send. */
export interface TikTokPlan {
  platform: 'tiktok';
  event: ConversionEvent;
  event_name: string;
  /** Absent when TikTok is to match the event by its email, phone or `_ttp`. */
  ttclid?: string;
}

/** What TikTok can match an event by besides a ttclid (platforms.md §4.2 `user`). */
function userSignals(event: ConversionEvent): boolean {
  return event.email_sha256 !== undefined || event.phone_sha256 !== undefined || event.ttp !== undefined;
}

/** Why an event without a ttclid is not sent. */
function noClickSkip(event: ConversionEvent, connection: TikTokConnection): Skip | undefined {
  if ((connection.match ?? TIKTOK_MATCH_DEFAULT) === 'click-id-only') {
    return skip('missing_click_id', 'No ttclid, and the TikTok connection sends only events with one (match: click-id-only).');
  }
  if (!userSignals(event)) {
    // The email given would have been enough: say why it was left out (the collector refused it).
    if (event.email_rejected !== undefined) {
      return skip('invalid_email', `No ttclid, phone or _ttp cookie, and the email was not an address (${event.email_rejected}), so it was left out at ingest.`);
    }
    if (event.phone_rejected !== undefined) {
      return skip('invalid_phone', `No ttclid, email or _ttp cookie, and the phone could not be made E.164 (${event.phone_rejected}), so it was left out at ingest.`);
    }
    return skip('missing_click_id', 'No ttclid, and no hashed email, phone or _ttp cookie TikTok could match the conversion by.');
  }
  return undefined;
}

/** TikTok: a ttclid (or, unless `click-id-only`, an email, phone or `_ttp`), conversion after the click. */
export function checkTikTok(
  event: ConversionEvent,
  connection: TikTokConnection | undefined,
  overrides: StageOverrides | undefined,
  now: Date,
): Eligibility<TikTokPlan> {
  void now; // TikTok's maximum event age is unknown (platforms.md §7.8): no age check.
  const problem = connectionProblem('tiktok', TIKTOK_CONNECTION, connection);
  if (problem !== undefined || connection === undefined) return skip('no_connection', problem ?? 'No TikTok connection.');
  const ttclid = event.clicks.ttclid;
  const noClick = ttclid ? undefined : noClickSkip(event, connection);
  if (noClick) return noClick;
  if (precedesClick(event, ttclid)) return skip('conversion_before_click', 'The conversion time is before the TikTok click.');
  const plan: TikTokPlan = { platform: 'tiktok', event, event_name: resolveEventNames(event.stage_key, overrides).tiktok };
  if (ttclid) plan.ttclid = ttclid.value;
  return { send: true, plan };
}
