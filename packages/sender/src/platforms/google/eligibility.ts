/**
 * Google's pre-flight: exactly one click (gclid, wbraid or gbraid), within
 * 90 days, the conversion after it, and the conversion action (the stage's
 * override, else the connection's). Consent is checked before, for every
 * platform; Google is also told the consent state in the request.
 */
import type { ConversionEvent, StageOverrides } from '../../types.js';
import { connectionProblem, precedesClick, skip, time, type Eligibility } from '../preflight.js';
import { GOOGLE_CONNECTION, type GoogleConnection } from './connection.js';

const DAY_MS = 24 * 3_600_000;

/**
 * Google counts a conversion only within the action's click-through window,
 * 90 days at most (platforms.md §3.6, google-data-manager.md §10).
 */
export const GOOGLE_MAX_CLICK_AGE_MS = 90 * DAY_MS;

/** The click IDs Google takes, in the order ties are broken (gclid first). */
export const GOOGLE_CLICK_IDS = ['gclid', 'wbraid', 'gbraid'] as const;

/** The Google click a conversion is attributed to: exactly one per upload (platforms.md §3.2). */
export interface GoogleClick {
  name: (typeof GOOGLE_CLICK_IDS)[number];
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
  for (const name of GOOGLE_CLICK_IDS) {
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

/** The conversion action of a stage: its override, else the connection's. */
export function conversionActionOf(connection: GoogleConnection, overrides: StageOverrides | undefined): string {
  return overrides?.google_conversion_action_id ?? connection.conversion_action_id;
}

/** Google: exactly one click id, within 90 days, conversion after the click. */
export function checkGoogle(
  event: ConversionEvent,
  connection: GoogleConnection | undefined,
  overrides: StageOverrides | undefined,
  now: Date,
): Eligibility<GooglePlan> {
  const problem = connectionProblem('google', GOOGLE_CONNECTION, connection);
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
  const action = conversionActionOf(connection, overrides);
  return { send: true, plan: { platform: 'google', event, conversion_action_id: action, click } };
}
