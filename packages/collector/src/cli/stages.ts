import { defaultEventNames } from '@pruuv/sender';
import { curlExample, webhookUrl } from '../domain/admin-input.js';
import { createStage, listStages, requireStage, rotateStageToken, setStageEventNames } from '../domain/operations.js';
import type { Stage, Store } from '../store/types.js';
import { emit, table, type CliOutput } from './output.js';

/** Options of `pruuv stages add`. */
export interface StagesAddOptions {
  client: string;
  key: string;
  name: string;
  /** Base URL printed in the webhook URL and curl line. */
  baseUrl: string;
}

/** JSON output of `pruuv stages add` (the admin API's response body). */
export interface StageWithToken {
  stage: Stage;
  token: string;
  webhook_url: string;
}

/**
 * `pruuv stages add --client ID --key KEY --name NAME`: adds a funnel stage and prints its id,
 * webhook URL and token (shown this once: only its hash is stored) with a ready curl line.
 * JSON: `{ stage, token, webhook_url }`.
 */
export async function stagesAdd(store: Store, options: StagesAddOptions, output: CliOutput): Promise<StageWithToken> {
  const { stage, token } = await createStage(store, options.client, { key: options.key, name: options.name });
  const url = webhookUrl(options.baseUrl, stage.id);
  emit(output, { stage, token, webhook_url: url }, () =>
    [
      `Stage created: ${stage.name} (key ${stage.key})`,
      `  stage id:      ${stage.id}`,
      `  webhook URL:   ${url}`,
      `  webhook token: ${token}`,
      '',
      'The token is shown only now (only its hash is stored); rotate it with',
      `\`pruuv stages rotate-token ${stage.id}\` if it is lost. Try it:`,
      '',
      `  ${curlExample(url, token)}`,
    ].join('\n'),
  );
  return { stage, token, webhook_url: url };
}

/** Options of `pruuv stages rotate-token`. */
export interface StagesRotateOptions {
  stageId: string;
  /** Base URL printed in the webhook URL. */
  baseUrl: string;
}

/**
 * `pruuv stages rotate-token STAGE_ID`: replaces the webhook token (the old one stops working
 * at once) and prints the new one. JSON: `{ stage_id, token, webhook_url }`.
 */
export async function stagesRotateToken(
  store: Store,
  options: StagesRotateOptions,
  output: CliOutput,
): Promise<{ stage_id: string; token: string; webhook_url: string }> {
  const stage = await requireStage(store, options.stageId);
  const token = await rotateStageToken(store, stage.id);
  const url = webhookUrl(options.baseUrl, stage.id);
  emit(output, { stage_id: stage.id, token, webhook_url: url }, () =>
    [
      `New webhook token for stage ${stage.key} (${stage.id}); the previous token no longer works.`,
      `  webhook URL:   ${url}`,
      `  webhook token: ${token}`,
    ].join('\n'),
  );
  return { stage_id: stage.id, token, webhook_url: url };
}

/** Options of `pruuv stages list`. */
export interface StagesListOptions {
  /** Only this client's stages. Defaults to every client. */
  client?: string;
}

/** `pruuv stages list [--client ID]`: stages without their tokens. JSON: `{ stages }`. */
export async function stagesList(store: Store, options: StagesListOptions, output: CliOutput): Promise<Stage[]> {
  const stages = await listStages(store, options.client);
  emit(output, { stages }, () =>
    stages.length === 0
      ? 'No stages yet. Add one with `pruuv stages add --client ID --key lead --name "Lead"`.'
      : table(
          ['ID', 'CLIENT', 'KEY', 'NAME', 'CREATED'],
          stages.map((s) => [s.id, s.client_id, s.key, s.name, s.created_at]),
        ),
  );
  return stages;
}

/** Options of `pruuv stages set-events`. */
export interface StagesSetEventsOptions {
  stageId: string;
  /** Meta `event_name` (standard or custom, at most 50 characters). */
  meta?: string;
  /** TikTok `event`. */
  tiktok?: string;
  /** Google conversion action id (digits) for this stage, instead of the connection's. */
  googleAction?: string;
  /** Remove every override first (back to the names derived from the stage key). */
  clear?: boolean;
}

/**
 * `pruuv stages set-events STAGE_ID [--meta NAME] [--tiktok NAME] [--google-action ID] [--clear]`:
 * per-stage event names on the ad platforms, merged over the stage's current ones. Without
 * overrides the names come from the stage key (`lead` → `Lead`, `sale` → `Purchase`…).
 * JSON: `{ stage }`.
 */
export async function stagesSetEvents(store: Store, options: StagesSetEventsOptions, output: CliOutput): Promise<Stage> {
  const updated = await setStageEventNames(
    store,
    options.stageId,
    { meta: options.meta, tiktok: options.tiktok, google_conversion_action_id: options.googleAction },
    { clear: options.clear === true, fieldNames: { meta: '--meta', tiktok: '--tiktok', google_conversion_action_id: '--google-action' } },
  );
  const defaults = defaultEventNames(updated.key);
  emit(output, { stage: updated }, () =>
    [
      `Event names of stage ${updated.key} (${updated.id}):`,
      `  Meta:    ${updated.event_names.meta ?? `${defaults.meta} (default)`}`,
      `  TikTok:  ${updated.event_names.tiktok ?? `${defaults.tiktok} (default)`}`,
      `  Google:  ${updated.event_names.google_conversion_action_id !== undefined ? `conversion action ${updated.event_names.google_conversion_action_id}` : "the connection's conversion action"}`,
    ].join('\n'),
  );
  return updated;
}
