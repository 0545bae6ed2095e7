import type { ConnectionField, Platform } from '@pruuv/sender';
import type { Config } from '../config.js';
import {
  CONNECTION_PLATFORMS,
  connectionFields,
  createConnections,
  type ConnectionView,
  type FieldValue,
} from '../domain/connections.js';
import type { Store } from '../store/types.js';
import { emit, table, type CliOutput } from './output.js';

/** Options of `pruuv connections set`: the flags as commander gives them (camelCase; `--no-x` gives `false`). */
export interface ConnectionsSetOptions {
  client: string;
  platform: Platform;
  [flag: string]: string | boolean | undefined;
}

/** `pixel_id` → `pixelId`, the key commander gives a flag's value under. */
export function optionKey(field: string): string {
  return field.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Every field of every platform once, with the platforms that take it: one `--flag` each. */
export function connectionFlags(): Array<{ field: ConnectionField; platforms: Platform[] }> {
  const byName = new Map<string, { field: ConnectionField; platforms: Platform[] }>();
  for (const platform of CONNECTION_PLATFORMS) {
    for (const field of connectionFields(platform)) {
      const seen = byName.get(field.name);
      if (seen === undefined) byName.set(field.name, { field, platforms: [platform] });
      else seen.platforms.push(platform);
    }
  }
  return [...byName.values()];
}

/** Flag → stored field; `false` from a `--no-…` flag removes the field (`dry_run`: off). */
function fieldsOf(o: ConnectionsSetOptions): Record<string, FieldValue | undefined> {
  const out: Record<string, FieldValue | undefined> = {};
  for (const { field } of connectionFlags()) {
    const value = o[optionKey(field.name)];
    if (value === undefined) continue;
    out[field.name] = value === false ? null : value;
  }
  return out;
}

/** The settings of a connection as one line, secrets as names only. */
function describe(c: ConnectionView): string {
  const settings = Object.entries(c.settings).map(([k, v]) => (v === true ? k : `${k}=${String(v)}`));
  return [...settings, ...c.secrets.map((s) => `${s}=(encrypted)`)].join(' ');
}

/**
 * `pruuv connections set --client ID --platform meta|google|tiktok …`: stores a client's
 * connection to a platform, or updates the given fields of an existing one (so a new access
 * token can be set alone). Tokens and secrets are encrypted with `PRUUV_ENCRYPTION_KEY` and
 * never printed. Setting a paused connection un-pauses it. JSON: `{ connection }`.
 */
export async function connectionsSet(store: Store, config: Config, options: ConnectionsSetOptions, output: CliOutput): Promise<ConnectionView> {
  const connection = await createConnections(store).set({ client_id: options.client, platform: options.platform, fields: fieldsOf(options) }, config.send.keyRing);
  emit(output, { connection }, () =>
    [
      `Connection saved: ${connection.platform} for client ${connection.client_id} (${connection.id}), ${connection.status}.`,
      `  ${describe(connection)}`,
      connection.settings['dry_run'] === true ? '  Dry run: requests are built and validated, nothing is delivered; the audit log records them.' : '',
      'Sends still waiting go out at the next scheduled pass, or now with `pruuv send`.',
    ]
      .filter((l) => l !== '')
      .join('\n'),
  );
  return connection;
}

/** `pruuv connections list [--client ID]`: connections with their status, never their secrets. JSON: `{ connections }`. */
export async function connectionsList(store: Store, options: { client?: string }, output: CliOutput): Promise<ConnectionView[]> {
  const connections = await createConnections(store).list(options.client !== undefined ? { client_id: options.client } : {});
  emit(output, { connections }, () =>
    connections.length === 0
      ? 'No connections yet. Add one with `pruuv connections set --client ID --platform meta --pixel-id … --access-token …`.'
      : table(
          ['CLIENT', 'PLATFORM', 'STATUS', 'SETTINGS', 'UPDATED'],
          connections.map((c) => [
            c.client_id,
            c.platform,
            c.status === 'paused' ? `paused: ${c.status_reason ?? ''}` : c.status,
            describe(c),
            c.updated_at,
          ]),
        ),
  );
  return connections;
}
