/**
 * The fields frozen at a conversion's first attempt (microsoft-ads.md §5):
 * Microsoft has no dedup field and ignores a resend only when the click, goal
 * name, conversion time and hashes are the same, so a goal picked again or an
 * enhanced-conversions switch flipped while a retry is pending must not change
 * what the retry sends (it could count as a second conversion). The runtime
 * stores the string on the outbox row before the first attempt is sent and
 * hands it back on every later one. Only what the connection adds is kept,
 * about 40 bytes (`{"name":"Offline purchases","hashes":true}`): the click,
 * time, value, currency and hashes come from the stored event, which does not
 * change. Pure.
 */
import { z } from 'zod';
import type { FrozenFieldsSpec } from '../adapter.js';
import type { MicrosoftCapiPlan } from './capi-request.js';
import { usesUetCapi, type MicrosoftConnection } from './connection.js';
import { hourAfterClick, type MicrosoftFrozen, type MicrosoftPlan } from './eligibility.js';
import { connectionFields } from './request.js';

const frozenSchema = z.object({ name: z.string().min(1).max(100), hashes: z.boolean() });

/**
 * Microsoft's `frozenFields`, for the offline path. The UET Conversions API path
 * (`api: 'uet-capi'`) freezes nothing: its dedup key is the event id, sent on every
 * attempt; fields frozen by an offline attempt before the connection changed path
 * are not applied to it.
 */
export const MICROSOFT_FROZEN: FrozenFieldsSpec<MicrosoftConnection, MicrosoftPlan | MicrosoftCapiPlan> = {
  take(connection, plan, now) {
    if ('api' in plan || usesUetCapi(connection)) return undefined;
    // A click under an hour old is held back by the sender: this attempt sends nothing, so it freezes nothing.
    if (hourAfterClick(plan) > now.getTime()) return undefined;
    const fields: MicrosoftFrozen = connectionFields(connection);
    return JSON.stringify(fields);
  },
  apply(plan, frozen) {
    if ('api' in plan) return plan;
    let parsed: unknown;
    try {
      parsed = JSON.parse(frozen);
    } catch {
      return undefined;
    }
    const fields = frozenSchema.safeParse(parsed);
    return fields.success ? { ...plan, frozen: fields.data } : undefined;
  },
};
