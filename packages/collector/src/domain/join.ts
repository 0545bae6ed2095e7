/**
 * The attribution join: a funnel event that arrives without click IDs
 * (typically a CRM webhook for a later stage, e.g. `sale`) inherits the most
 * recent attribution known for the same client and reference, or failing that
 * the same email hash. Without it the later stage could never be sent to Google
 * (gclid is mandatory, conversion-sending.md "Click ID requirements") and would
 * lose Meta's and TikTok's best match keys.
 *
 * Pure logic; the store finds the source event.
 */
import { CLICK_ID_NAMES } from '@pruuv/sender';
import type { ClickIdName, StoredEvent, UtmName } from '../store/types.js';

/** The attribution part of an event. */
export type Attribution = Pick<StoredEvent, 'clicks' | 'utm' | 'fbc' | 'fbp' | 'ttp'>;

/** Names of fields that can be inherited, as recorded in `inherited.fields`. */
export type InheritableField = ClickIdName | UtmName | 'fbc' | 'fbp' | 'ttp';

/** The click IDs an event can carry: the sender's one list (a compile-time test keeps the pixel's equal). */
export const CLICK_IDS: readonly ClickIdName[] = CLICK_ID_NAMES;
/** The UTM parameters an event can carry. */
export const UTMS: readonly UtmName[] = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_content', 'utm_term'];

/** Whether the event carries a click ID of its own (a ledger entry, or Meta's `fbc`, which wraps an fbclid). */
export function hasClickIds(event: Attribution): boolean {
  return CLICK_IDS.some((k) => event.clicks[k] !== undefined) || event.fbc !== undefined;
}

/** Whether an event has any attribution another event could inherit. */
export function hasAttribution(event: Attribution): boolean {
  return (
    hasClickIds(event) ||
    event.fbp !== undefined ||
    event.ttp !== undefined ||
    UTMS.some((k) => event.utm[k] !== undefined)
  );
}

/** Whether the store should look for an earlier event to inherit from. */
export function needsJoin(event: Attribution): boolean {
  return !hasClickIds(event);
}

/** The result of {@link inheritAttribution}. */
export interface JoinResult {
  attribution: Attribution;
  /** Set when at least one field was inherited. */
  inherited?: { from_event_id: string; fields: InheritableField[] };
}

/**
 * Fills the attribution of `target` from `source` (an earlier event), when the
 * target has no click ID of its own:
 *
 * - every click ID of the source, with its click time;
 * - `fbc`, `fbp`, `ttp`, each only where the target has none;
 * - the UTMs as one set, only when the target has no UTM at all (mixing UTMs of
 *   two different landings would describe a visit that never happened).
 *
 * A target with its own click IDs keeps its attribution untouched: the latest
 * click is the one the platforms should credit.
 */
export function inheritAttribution(
  target: Attribution,
  source: (Attribution & { id: string }) | undefined,
): JoinResult {
  if (!source || !needsJoin(target)) return { attribution: target };
  const fields: InheritableField[] = [];
  const clicks: Attribution['clicks'] = { ...target.clicks };
  for (const k of CLICK_IDS) {
    const entry = source.clicks[k];
    if (entry !== undefined) {
      clicks[k] = { ...entry };
      fields.push(k);
    }
  }
  const attribution: Attribution = { clicks, utm: { ...target.utm } };
  for (const k of ['fbc', 'fbp', 'ttp'] as const) {
    const own = target[k];
    const theirs = source[k];
    if (own !== undefined) attribution[k] = own;
    else if (theirs !== undefined) {
      attribution[k] = theirs;
      fields.push(k);
    }
  }
  if (!UTMS.some((k) => target.utm[k] !== undefined)) {
    for (const k of UTMS) {
      const value = source.utm[k];
      if (value !== undefined) {
        attribution.utm[k] = value;
        fields.push(k);
      }
    }
  }
  if (fields.length === 0) return { attribution: target };
  return { attribution, inherited: { from_event_id: source.id, fields } };
}
