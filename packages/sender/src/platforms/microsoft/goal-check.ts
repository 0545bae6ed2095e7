/**
 * The goal checks before sending (microsoft-ads.md §7.3): once per pass and
 * connection, `ConversionGoals/QueryByIds` for the account's offline goals;
 * the connection's goal must exist under its exact name (the `ConversionName`
 * Microsoft matches on), be an offline goal and be active. Otherwise every
 * conversion would be refused (5606) or, for a paused goal, taken and never
 * counted: the connection is paused with the reason instead. The goal's
 * `IsEnhancedConversionsEnabled` read here decides whether new conversions
 * carry hashes. Pure reading of the answer; the request goes with the pass's
 * token (`sender.ts`).
 */
import { z } from 'zod';
import type { HttpRequest, HttpResponse } from '../../http.js';
import type { MicrosoftConnection } from './connection.js';
import { campaignHeaders } from './request.js';

const goalsSchema = z.object({
  ConversionGoals: z
    .array(
      z
        .object({
          Id: z.union([z.string(), z.number()]).nullish(),
          Name: z.string().nullish(),
          Status: z.string().nullish(),
          Type: z.string().nullish(),
          // Asked in ReturnAdditionalFields; a boolean in the JSON, a string accepted too.
          IsEnhancedConversionsEnabled: z.union([z.boolean(), z.enum(['true', 'false', 'True', 'False'])]).nullish(),
        })
        .nullable(),
    )
    .nullish(),
});

/**
 * What the check found: nothing wrong, with the goal's enhanced-conversions flag as Microsoft
 * reads it now (absent when the answer does not say), or why the connection cannot send.
 */
export type GoalCheck = { ok: true; enhanced?: boolean } | { ok: false; reason: 'goal_not_found' | 'goal_paused'; message: string };

/** The offline goal types' JSON `Type` (SDK-NET) and the doc templates' class name (DISAGREE in §7.2): both accepted. */
const OFFLINE_TYPES = new Set(['OfflineConversion', 'OfflineConversionGoal']);

/** `POST {campaign}/CampaignManagement/{version}/ConversionGoals/QueryByIds` for the account's offline goals. */
export function buildGoalQuery(connection: MicrosoftConnection, accessToken: string, endpoints: { campaign: string; version: string }): HttpRequest {
  return {
    method: 'POST',
    url: `${endpoints.campaign}/CampaignManagement/${endpoints.version}/ConversionGoals/QueryByIds`,
    headers: campaignHeaders(connection, accessToken, connection.developer_token ?? ''),
    // Null ids: every goal of the type (MS-GOALS); no space after the comma (UNCONFIRMED whether allowed).
    body: { ConversionGoalIds: null, ConversionGoalTypes: 'OfflineConversion', ReturnAdditionalFields: 'IsEnhancedConversionsEnabled,IsExternallyAttributed' },
  };
}

/** Reads the answer; `undefined` when it is no list of goals (a fault): the upload's own answer then speaks. */
export function readGoalCheck(connection: MicrosoftConnection, res: HttpResponse): GoalCheck | undefined {
  if (res.status < 200 || res.status >= 300) return undefined;
  const parsed = goalsSchema.safeParse(res.json);
  if (!parsed.success) return undefined;
  const goals = (parsed.data.ConversionGoals ?? []).filter((g) => g !== null);
  const goal = goals.find((g) => g.Name === connection.goal_name && OFFLINE_TYPES.has(g.Type ?? ''));
  if (goal === undefined) {
    return {
      ok: false,
      reason: 'goal_not_found',
      message: `Account ${connection.account_id} has no offline conversion goal named "${connection.goal_name}" (names match exactly); pick the goal again.`,
    };
  }
  if (goal.Status !== 'Active') {
    return {
      ok: false,
      reason: 'goal_paused',
      message: `The offline conversion goal "${connection.goal_name}" is ${goal.Status ?? 'not active'}: Microsoft does not count conversions of a goal that is not active.`,
    };
  }
  // The live flag decides whether hashes go (microsoft-ads.md §3.1, §7.3): the connection's switch was
  // read when the goal was picked and may be stale. A started conversion keeps its frozen switch (§5).
  const flag = goal.IsEnhancedConversionsEnabled;
  return flag === undefined || flag === null ? { ok: true } : { ok: true, enhanced: flag === true || String(flag).toLowerCase() === 'true' };
}
