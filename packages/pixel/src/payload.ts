/**
 * Which `track()` properties travel. Pure.
 */
import { pick } from './pick.js';
import type { TrackPayload, TrackProps } from './types.js';

/** The `TrackProps` fields copied into the payload as they are (`email` and `phone` are hashed instead). */
export type PropName = Exclude<keyof TrackProps, 'email' | 'phone'>;

/** Every {@link PropName}, in the webhook's order. */
export const PROPS = (
  'reference item_reference revenue_value currency data_timestamp gender age_range ' +
  'location_country location_region job_title company_size industry'
).split(' ') as PropName[];

/**
 * The known fields of `props`. Anything else is left out, never sent: the collector's
 * schema rejects a beacon with an unknown key, and a stray key may carry raw PII.
 */
export const pickProps = (props: TrackProps): Partial<TrackPayload> =>
  // A missing field is copied as `undefined`, which JSON.stringify leaves out.
  pick(props, PROPS) as Partial<TrackPayload>;
