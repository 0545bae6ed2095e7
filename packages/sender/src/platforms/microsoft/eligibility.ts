/**
 * Microsoft's pre-flight (microsoft-ads.md §3, §6): an msclkid (offline
 * conversions are routed by the click), a conversion after the click, within
 * 90 days of the click and of now. A click less than an hour old is not
 * skipped: the sender defers it to the next pass (`sender.ts`), since
 * Microsoft asks to "wait an hour before uploading offline conversions".
 * Consent is checked before, for every platform.
 */
import type { ConversionEvent, StageOverrides } from '../../types.js';
import { connectionProblem, precedesClick, skip, time, type Eligibility } from '../preflight.js';
import { microsoftClickId } from './click-id.js';
import { MICROSOFT_CONNECTION, missingAppSettings, type MicrosoftConnection } from './connection.js';

/** 90 days: the most a `ConversionTime` may lie in the past, and after the click (MS-OC, MS-HELP). */
export const MICROSOFT_MAX_AGE_MS = 90 * 24 * 3_600_000;

/** Microsoft asks to wait an hour after the click before uploading (MS-HELP). */
export const MICROSOFT_CLICK_WAIT_MS = 3_600_000;

/**
 * When the click of a plan is an hour old: a pass before then sends nothing for it.
 * An unknown click time is bounded by the conversion time: the click came before it.
 */
export function hourAfterClick(plan: MicrosoftPlan): number {
  const ts = plan.click.ts !== undefined ? Date.parse(plan.click.ts) : Number.NaN;
  return (Number.isNaN(ts) ? Date.parse(plan.event.event_time) : ts) + MICROSOFT_CLICK_WAIT_MS;
}

/** A Microsoft send: the event and its msclkid as uploaded. */
export interface MicrosoftPlan {
  platform: 'microsoft';
  event: ConversionEvent;
  /** The msclkid without `_uet` prefix or `-0`/`-1` suffix. */
  msclkid: string;
  /** The click's first-seen time, when known: it bounds the retries and the one-hour wait. */
  click: { ts?: string };
  /** The connection's fields as the first attempt sent them (`frozen.ts`), on every later attempt. */
  frozen?: MicrosoftFrozen;
}

/**
 * What a connection adds to a conversion, frozen at its first attempt: the goal name and
 * whether hashes went. Everything else comes from the stored event, which does not change.
 */
export interface MicrosoftFrozen {
  /** The `ConversionName` sent. */
  name: string;
  /** Whether the event's hashes were sent (the goal's enhanced conversions, as the connection said). */
  hashes: boolean;
}

/** Microsoft: an msclkid, a conversion after it, within 90 days of the click and of now. */
export function checkMicrosoft(
  event: ConversionEvent,
  connection: MicrosoftConnection | undefined,
  overrides: StageOverrides | undefined,
  now: Date,
): Eligibility<MicrosoftPlan> {
  void overrides; // one goal per connection: the stage does not change where the conversion goes.
  const problem = connectionProblem('microsoft', MICROSOFT_CONNECTION, connection);
  if (problem !== undefined || connection === undefined) return skip('no_connection', problem ?? 'No Microsoft connection.');
  const app = missingAppSettings(connection);
  if (app !== undefined) return skip('no_connection', app);
  const click = event.clicks.msclkid;
  if (click === undefined) return skip('missing_click_id', 'No msclkid: Microsoft offline conversions are matched by the Microsoft click.');
  const msclkid = microsoftClickId(click.value);
  if (msclkid === undefined) return skip('missing_click_id', 'The msclkid is not a Microsoft click id (32 hexadecimal characters).');
  if (precedesClick(event, click)) return skip('conversion_before_click', 'The conversion time is before the Microsoft click; Microsoft would reject it (5616).');
  const at = Date.parse(event.event_time);
  if (now.getTime() - at > MICROSOFT_MAX_AGE_MS) {
    return skip('event_too_old', 'The conversion is more than 90 days old; Microsoft takes offline conversions within 90 days.');
  }
  const clickAt = time(click.ts);
  if (clickAt !== undefined && at - clickAt > MICROSOFT_MAX_AGE_MS) {
    return skip('click_too_old', 'The conversion came more than 90 days after the Microsoft click; Microsoft does not import it.');
  }
  if (event.revenue_value !== undefined && event.revenue_value < 0) {
    return skip('invalid_event', 'The revenue value is negative; Microsoft takes 0 to 999999999999 (5610).');
  }
  const plan: MicrosoftPlan = { platform: 'microsoft', event, msclkid, click: click.ts !== undefined ? { ts: click.ts } : {} };
  return { send: true, plan };
}
