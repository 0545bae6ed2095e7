/**
 * Pre-flight: for one event and one platform, send or skip. A skip carries a
 * machine reason and a human message for the audit log. Consent and the
 * connection's platform are checked here for every platform; the rest is the
 * platform's own `check` (`platforms/<name>/eligibility.ts`).
 */
import { platformAdapter, type Connection, type Plan, type Platform } from './platforms/index.js';
import { skip, type Eligibility as PlatformEligibility } from './platforms/preflight.js';
import type { ConversionEvent, StageOverrides } from './types.js';

export type { Skip, SkipReason } from './platforms/preflight.js';

/** Send with a plan, or skip with a reason. */
export type Eligibility<P extends Plan = Plan> = PlatformEligibility<P>;

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
  return platformAdapter(platform).check(event, typed, overrides, now);
}
