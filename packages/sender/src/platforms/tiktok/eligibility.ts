/**
 * TikTok's pre-flight: a ttclid, and a conversion after the click. TikTok's
 * maximum event age is unknown (platforms.md §7.8): no age check. Consent is
 * checked before, for every platform.
 */
import { resolveEventNames } from '../../event-names.js';
import type { ConversionEvent, StageOverrides } from '../../types.js';
import { connectionProblem, precedesClick, skip, type Eligibility } from '../preflight.js';
import { TIKTOK_CONNECTION, type TikTokConnection } from './connection.js';

/** A TikTok send. */
export interface TikTokPlan {
  platform: 'tiktok';
  event: ConversionEvent;
  event_name: string;
  ttclid: string;
}

/** TikTok: a ttclid, conversion after the click. */
export function checkTikTok(
  event: ConversionEvent,
  connection: TikTokConnection | undefined,
  overrides: StageOverrides | undefined,
  now: Date,
): Eligibility<TikTokPlan> {
  void now; // TikTok's maximum event age is unknown (platforms.md §7.8): no age check.
  const problem = connectionProblem('tiktok', TIKTOK_CONNECTION, connection);
  if (problem) return skip('no_connection', problem);
  const ttclid = event.clicks.ttclid;
  if (!ttclid) return skip('missing_click_id', 'No ttclid; TikTok needs it to attribute the conversion.');
  if (precedesClick(event, ttclid)) return skip('conversion_before_click', 'The conversion time is before the TikTok click.');
  const eventName = resolveEventNames(event.stage_key, overrides).tiktok;
  return { send: true, plan: { platform: 'tiktok', event, event_name: eventName, ttclid: ttclid.value } };
}
