/**
 * A connection's fields as a person sets them, derived from its schema so the
 * names, their order and which are required are written once: in the
 * platform's `z.object`. The adapter adds only what a schema cannot say:
 * which fields are secrets, and defaults filled in for a person.
 */
import { z } from 'zod';
import type { ConnectionBase, ConnectionField, ConnectionSpec, FieldName } from './adapter.js';

/** Schema of `dry_run`, the switch every connection has (`ConnectionBase.dry_run`): validate only, deliver nothing. */
export const DRY_RUN_SCHEMA = z.boolean().optional();

/** Label of `dry_run`, the same on every platform. */
const DRY_RUN_LABEL = 'validate only: build (or have the platform validate) every request, deliver nothing, still write the audit log';

/** What the schema cannot say about a connection's fields. */
export interface FieldNotes<C extends ConnectionBase> {
  /** Fields stored encrypted and never shown back. */
  secrets: readonly FieldName<C>[];
  /** What each field is, for a person (`dry_run` has one for all). */
  labels: Readonly<Record<Exclude<FieldName<C>, 'dry_run'>, string>>;
  /**
   * Values filled in when a person leaves the field out. The schema may require
   * the field (Google's `api`) or take it as optional, the adapter reading a
   * missing value as the same default (TikTok's `match`, which connections
   * stored before it existed lack).
   */
  defaults?: Readonly<Partial<Record<FieldName<C>, string>>>;
}

/**
 * Every field of `schema` but `platform`, in schema order: a field is
 * required when the schema refuses it absent and no default stands in.
 */
export function connectionFields<C extends ConnectionBase>(schema: ConnectionSpec<C>['schema'], notes: FieldNotes<C>): ConnectionField[] {
  const secrets: ReadonlySet<string> = new Set(notes.secrets);
  const defaults: Readonly<Record<string, string | undefined>> = notes.defaults ?? {};
  const labels: Readonly<Record<string, string | undefined>> = notes.labels;
  return Object.entries(schema.shape)
    .filter(([name]) => name !== 'platform')
    .map(([name, field]) => {
      const fallback = defaults[name];
      const optional = z.safeParse(field, undefined).success;
      // An optional choice (`z.enum(…).optional()`) is still a choice.
      const inner = field instanceof z.ZodOptional ? field.unwrap() : field;
      const options = 'options' in inner && Array.isArray(inner.options) ? (inner.options as unknown[]).map(String) : undefined;
      const type = options !== undefined ? 'choice' : z.safeParse(field, true).success && !z.safeParse(field, 'x').success ? 'boolean' : 'text';
      const out: ConnectionField = {
        name,
        kind: secrets.has(name) ? 'secret' : 'setting',
        required: !optional && fallback === undefined,
        label: labels[name] ?? (name === 'dry_run' ? DRY_RUN_LABEL : name),
        type,
      };
      if (options !== undefined) out.choices = options;
      if (fallback !== undefined) out.default = fallback;
      return out;
    });
}
