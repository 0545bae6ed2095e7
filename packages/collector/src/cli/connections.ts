import type { Platform } from '@pruuv/sender';
import type { Config } from '../config.js';
import { createConnections, type ConnectionView, type FieldValue } from '../domain/connections.js';
import type { Store } from '../store/types.js';
import { emit, table, type CliOutput } from './output.js';

/** Options of `pruuv connections set`: the flags as commander gives them (`--no-x` gives `false`). */
export interface ConnectionsSetOptions {
  client: string;
  platform: Platform;
  pixelId?: string;
  accessToken?: string;
  testEventCode?: string | false;
  customerId?: string;
  conversionActionId?: string;
  clientId?: string;
  clientSecret?: string;
  refreshToken?: string;
  loginCustomerId?: string | false;
  api?: string;
  developerToken?: string | false;
  pixelCode?: string;
  dryRun?: boolean;
}

/** Flag → stored field; `false` from a `--no-…` flag removes the field. */
function fieldsOf(o: ConnectionsSetOptions): Record<string, FieldValue | undefined> {
  const optional = (v: string | false | undefined): FieldValue | undefined => (v === false ? null : v);
  return {
    pixel_id: o.pixelId,
    access_token: o.accessToken,
    test_event_code: optional(o.testEventCode),
    customer_id: o.customerId,
    conversion_action_id: o.conversionActionId,
    client_id: o.clientId,
    client_secret: o.clientSecret,
    refresh_token: o.refreshToken,
    login_customer_id: optional(o.loginCustomerId),
    api: o.api,
    developer_token: optional(o.developerToken),
    pixel_code: o.pixelCode,
    dry_run: o.dryRun === undefined ? undefined : o.dryRun ? true : null,
  };
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
