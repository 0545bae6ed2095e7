import { stageOverridesSchema } from '@pruuv/sender';
import type { z } from 'zod';
import { CollectorError } from '../errors.js';
import { validationDetails, type ValidationDetails } from './schemas.js';
import {
  clientInputSchema,
  clientSettingsSchema,
  DEFAULT_EVENT_LIMIT,
  limitSchema,
  stageInputSchema,
} from './admin-input.js';
import type { Client, Stage, Store, StoredEvent } from '../store/types.js';

/**
 * The operator's operations (create a client, add a stage, rotate a token, list events),
 * shared by the `pruuv` CLI and the admin HTTP API so both validate and fail the same way.
 * Inputs are validated here; callers only map {@link OperationError} kinds to exit codes or
 * HTTP statuses.
 */

/** Why an operation failed: `invalid` input, an unknown id (`not_found`) or a `conflict`. */
export type OperationErrorKind = 'invalid' | 'not_found' | 'conflict';

/** A failed operator operation; `message` is one line written for the operator. */
export class OperationError extends CollectorError {
  override name = 'OperationError';
  readonly kind: OperationErrorKind;
  /** Per-field messages for `invalid` inputs, shaped like the webhook's `details`. */
  readonly details?: ValidationDetails;
  /** What was not found, for `not_found` errors. */
  readonly entity?: 'client' | 'stage';

  constructor(
    kind: OperationErrorKind,
    message: string,
    extra: { details?: OperationError['details']; entity?: 'client' | 'stage' } = {},
  ) {
    super(message);
    this.kind = kind;
    if (extra.details !== undefined) this.details = extra.details;
    if (extra.entity !== undefined) this.entity = extra.entity;
  }
}

/** The `invalid` {@link OperationError} of a failed zod parse: the first issue as its message. */
export function invalid(error: z.ZodError): OperationError {
  const first = error.issues[0];
  const message =
    first === undefined
      ? 'Invalid input'
      : first.code === 'unrecognized_keys'
        ? `Unknown field${first.keys.length > 1 ? 's' : ''}: ${first.keys.join(', ')}`
        : first.message;
  return new OperationError('invalid', message, { details: validationDetails(error) });
}

/** Validates the input and creates a client with a fresh site key. */
export async function createClient(store: Store, input: unknown): Promise<Client> {
  const parsed = clientInputSchema.safeParse(input);
  if (!parsed.success) throw invalid(parsed.error);
  const { name, origins, default_country } = parsed.data;
  return store.clients.create({ name, origins: [...new Set(origins)], ...(default_country === undefined ? {} : { default_country }) });
}

/** Validates and applies a client's settings (its default country; `null` clears it). */
export async function setClientSettings(store: Store, clientId: string, input: unknown): Promise<Client> {
  await requireClient(store, clientId);
  const parsed = clientSettingsSchema.safeParse(input);
  if (!parsed.success) throw invalid(parsed.error);
  const client = await store.clients.setDefaultCountry(clientId, parsed.data.default_country);
  if (client === undefined) throw new OperationError('not_found', `Unknown client '${clientId}'`, { entity: 'client' });
  return client;
}

/**
 * Validates the input (`{ name, origins }`, as for {@link createClient}) and replaces the
 * client's name and allowed origins. Both are checked before either is written.
 */
export async function updateClient(store: Store, clientId: string, input: unknown): Promise<Client> {
  await requireClient(store, clientId);
  const parsed = clientInputSchema.safeParse(input);
  if (!parsed.success) throw invalid(parsed.error);
  await store.clients.rename(clientId, parsed.data.name);
  const updated = await store.clients.setOrigins(clientId, [...new Set(parsed.data.origins)]);
  if (updated === undefined) throw new OperationError('not_found', `Unknown client '${clientId}'`, { entity: 'client' });
  return updated;
}

/** Returns the client or throws a `not_found` {@link OperationError}. */
export async function requireClient(store: Store, clientId: string): Promise<Client> {
  const client = await store.clients.get(clientId);
  if (client === undefined) throw new OperationError('not_found', `Unknown client '${clientId}'`, { entity: 'client' });
  return client;
}

/** Returns the stage or throws a `not_found` {@link OperationError}. */
export async function requireStage(store: Store, stageId: string): Promise<Stage> {
  const stage = await store.stages.get(stageId);
  if (stage === undefined) throw new OperationError('not_found', `Unknown stage '${stageId}'`, { entity: 'stage' });
  return stage;
}

/**
 * Validates the input and adds a stage to a client; returns the webhook token in plaintext,
 * the only time it is available (only its hash is stored).
 */
export async function createStage(store: Store, clientId: string, input: unknown): Promise<{ stage: Stage; token: string }> {
  await requireClient(store, clientId);
  const parsed = stageInputSchema.safeParse(input);
  if (!parsed.success) throw invalid(parsed.error);
  if ((await store.stages.byKey(clientId, parsed.data.key)) !== undefined) {
    throw new OperationError('conflict', `Client '${clientId}' already has a stage with key '${parsed.data.key}'`);
  }
  return store.stages.create({ client_id: clientId, key: parsed.data.key, name: parsed.data.name });
}

/** Replaces a stage's webhook token; the old token stops working at once. */
export async function rotateStageToken(store: Store, stageId: string): Promise<string> {
  await requireStage(store, stageId);
  const token = await store.stages.rotateToken(stageId);
  if (token === undefined) throw new OperationError('not_found', `Unknown stage '${stageId}'`, { entity: 'stage' });
  return token;
}

/** A stage's event-name overrides to change: a value sets one, `null` or `''` removes it, `undefined` keeps it. */
export interface StageEventNamesInput {
  /** Meta `event_name` (standard or custom, at most 50 characters). */
  meta?: string | null;
  /** TikTok `event` (at most 50 characters). */
  tiktok?: string | null;
  /** Google conversion action id (digits) for this stage, instead of the connection's. */
  google_conversion_action_id?: string | null;
}

const EVENT_NAME_FIELDS = {
  meta: 'meta_event_name',
  tiktok: 'tiktok_event_name',
  google_conversion_action_id: 'google_conversion_action_id',
} as const satisfies Record<keyof StageEventNamesInput, keyof z.infer<typeof stageOverridesSchema>>;

/**
 * Sets a stage's per-platform event names, merged over its current ones (or over none
 * with `clear`), checked with the sender's own `stageOverridesSchema`. Without an
 * override a name comes from the stage key (`lead` → `Lead`, `sale` → `Purchase`…).
 * `fieldNames` names the fields in the error message (the CLI's flags, the dashboard's labels).
 */
export async function setStageEventNames(
  store: Store,
  stageId: string,
  input: StageEventNamesInput,
  options: { clear?: boolean; fieldNames?: Partial<Record<keyof StageEventNamesInput, string>> } = {},
): Promise<Stage> {
  const stage = await requireStage(store, stageId);
  const names: Stage['event_names'] = options.clear === true ? {} : { ...stage.event_names };
  const check: Record<string, string> = {};
  for (const key of Object.keys(EVENT_NAME_FIELDS) as Array<keyof StageEventNamesInput>) {
    const value = input[key];
    if (value === undefined) continue;
    const clean = value === null ? '' : value.trim();
    if (clean === '') delete names[key];
    else names[key] = check[EVENT_NAME_FIELDS[key]] = clean;
  }
  const parsed = stageOverridesSchema.safeParse(check);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = (Object.keys(EVENT_NAME_FIELDS) as Array<keyof StageEventNamesInput>).find((k) => EVENT_NAME_FIELDS[k] === issue?.path[0]) ?? 'meta';
    const message = issue?.message ?? 'invalid value';
    throw new OperationError('invalid', `${options.fieldNames?.[field] ?? field}: ${message}`, { details: { [field]: [message] } });
  }
  await store.stages.setEventNames(stage.id, names);
  return requireStage(store, stage.id);
}

/** Lists a client's stages, or every stage; an unknown client is an error rather than an empty list. */
export async function listStages(store: Store, clientId?: string): Promise<Stage[]> {
  if (clientId !== undefined) await requireClient(store, clientId);
  return store.stages.list(clientId);
}

/** Filter of {@link listEvents}. */
export interface EventFilter {
  client?: string;
  stage?: string;
  /** Only held events not yet released. */
  held?: boolean;
  /** Page size, 1 to 1000. Defaults to `50`. */
  limit?: unknown;
}

/** Lists the newest events, optionally of one client and/or stage. */
export async function listEvents(store: Store, filter: EventFilter): Promise<StoredEvent[]> {
  const limit = limitSchema.safeParse(filter.limit ?? DEFAULT_EVENT_LIMIT);
  if (!limit.success) throw invalid(limit.error);
  if (filter.client !== undefined) await requireClient(store, filter.client);
  if (filter.stage !== undefined) await requireStage(store, filter.stage);
  const query: { client_id?: string; stage_id?: string; held?: boolean; limit: number } = { limit: limit.data };
  if (filter.held === true) query.held = true;
  if (filter.client !== undefined) query.client_id = filter.client;
  if (filter.stage !== undefined) query.stage_id = filter.stage;
  return store.events.list(query);
}
