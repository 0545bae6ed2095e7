/**
 * The UET Conversions API's pre-flight (microsoft-ads.md §8, §9): an
 * identifier Microsoft can match (the msclkid, or a hashed email or phone:
 * `userData` needs at least one), an event time within the last 7 days and
 * not in the future, no negative value. Checked again on every retry, so a
 * retry that would land past the 7 days is skipped with its reason. No hour
 * after the click and no 90-day click window: those are offline-import rules.
 * Consent is checked before, for every platform.
 */
import type { ConversionEvent } from '../../types.js';
import { CLOCK_SKEW_TOLERANCE_MS, connectionProblem, skip, type Eligibility } from '../preflight.js';
import { microsoftClickId } from './click-id.js';
import { MICROSOFT_CONNECTION, type MicrosoftConnection } from './connection.js';
import { MICROSOFT_CAPI_MAX_AGE_MS, type MicrosoftCapiPlan } from './capi-request.js';

/** The Conversions API path: an msclkid or a hash, within 7 days. */
export function checkMicrosoftCapi(event: ConversionEvent, connection: MicrosoftConnection | undefined, now: Date): Eligibility<MicrosoftCapiPlan> {
  const problem = connectionProblem('microsoft', MICROSOFT_CONNECTION, connection);
  if (problem !== undefined || connection === undefined) return skip('no_connection', problem ?? 'No Microsoft connection.');
  const click = event.clicks.msclkid;
  const msclkid = click === undefined ? undefined : microsoftClickId(click.value);
  const hashed = (event.email_sha256_microsoft ?? event.email_sha256) !== undefined || event.phone_sha256 !== undefined;
  if (msclkid === undefined && !hashed) {
    return skip(
      'missing_click_id',
      click === undefined
        ? 'No msclkid, email or phone: the UET Conversions API needs one to match the conversion.'
        : 'The msclkid is not a Microsoft click id (32 hexadecimal characters), and there is no email or phone to match by.',
    );
  }
  const at = Date.parse(event.event_time);
  if (now.getTime() - at > MICROSOFT_CAPI_MAX_AGE_MS) {
    return skip('event_too_old', 'The conversion is more than 7 days old; the UET Conversions API takes events of the last 7 days.');
  }
  // A future eventTime is an error at Microsoft (UNCONFIRMED, microsoft-ads.md §11.8): the fake and Pruuv treat it as one.
  if (at - now.getTime() > CLOCK_SKEW_TOLERANCE_MS) return skip('invalid_event', 'The conversion time is in the future.');
  if (event.revenue_value !== undefined && event.revenue_value < 0) return skip('invalid_event', 'The revenue value is negative.');
  const plan: MicrosoftCapiPlan = {
    platform: 'microsoft',
    api: 'uet-capi',
    event,
    ...(msclkid !== undefined ? { msclkid } : {}),
  };
  return { send: true, plan };
}
