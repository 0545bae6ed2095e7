import { platformAdapter, type ConnectionField, type Platform } from '@pruuv/sender';
import type { Config } from '../config.js';
import {
  CONNECTION_PLATFORMS,
  connectionFields,
  createConnections,
  type ConnectionView,
  type FieldValue,
} from '../domain/connections.js';
import type { Store } from '../store/types.js';
import { readFile } from 'node:fs/promises';
import { CliError, EXIT_USAGE } from './errors.js';
import { emit, table, type CliOutput } from './output.js';
import type { PasswordSource } from './users.js';

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
      else {
        seen.platforms.push(platform);
        // One flag, several platforms' meanings (Google's and Microsoft's `api`): every platform's choices
        // are taken by the flag, and the platform's own schema refuses another's.
        if (seen.field.choices !== undefined && field.choices !== undefined) {
          const first = seen.platforms.length === 2 ? `${platformAdapter(seen.platforms[0] as Platform).name}: ${seen.field.label}` : seen.field.label;
          const label = seen.field.label === field.label ? field.label : `${first}; ${platformAdapter(platform).name}: ${field.label}`;
          seen.field = { ...seen.field, label, choices: [...new Set([...seen.field.choices, ...field.choices])] };
        }
      }
    }
  }
  return [...byName.values()];
}

/** `--access-token` → `accessTokenStdin` / `accessTokenFile`: the keys of a secret's other sources. */
const stdinKey = (field: string): string => `${optionKey(field)}Stdin`;
const fileKey = (field: string): string => `${optionKey(field)}File`;

/** The secret fields of every platform, for their `--x-stdin` and `--x-file` flags. */
export function secretFields(): ConnectionField[] {
  return connectionFlags()
    .map(({ field }) => field)
    .filter((field) => field.kind === 'secret');
}

/**
 * Fills the secret fields given by `--x-stdin` (one per command: stdin is read once), `--x-file`
 * (the file's content, one trailing newline dropped) or `--ask` (asked on the terminal without
 * echo, for each secret of the platform not given otherwise). Returns the names of the secrets
 * that came on the command line itself, to warn about.
 */
export async function resolveSecrets(options: ConnectionsSetOptions, source: PasswordSource | undefined): Promise<string[]> {
  const fields = connectionFields(options.platform).filter((f) => f.kind === 'secret');
  const fromStdin = secretFields().filter((f) => options[stdinKey(f.name)] === true);
  if (fromStdin.length > 1) throw new CliError(`Only one secret can be read from stdin; use --${flagName(fromStdin[1]!.name)}-file for the others`, EXIT_USAGE);
  const onArgv: string[] = [];
  for (const field of secretFields()) {
    const key = optionKey(field.name);
    const sources = [typeof options[key] === 'string', options[stdinKey(field.name)] === true, typeof options[fileKey(field.name)] === 'string'].filter(Boolean).length;
    if (sources > 1) throw new CliError(`Give --${flagName(field.name)} one way only (value, -stdin or -file)`, EXIT_USAGE);
    if (typeof options[key] === 'string') onArgv.push(field.name);
    if (options[stdinKey(field.name)] === true) {
      if (source === undefined) throw new CliError('No stdin to read the secret from', EXIT_USAGE);
      options[key] = (await source.readStdin()).replace(/\r?\n$/, '');
    }
    const file = options[fileKey(field.name)];
    if (typeof file === 'string') {
      try {
        options[key] = (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
      } catch (error) {
        throw new CliError(`Cannot read --${flagName(field.name)}-file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
      }
    }
  }
  if (options['ask'] === true) {
    if (source?.ask === undefined) throw new CliError('No terminal to ask the secrets on: use --<secret>-stdin or --<secret>-file', EXIT_USAGE);
    for (const field of fields) {
      const key = optionKey(field.name);
      if (options[key] === undefined) options[key] = await source.ask(`${field.label} (${field.name}, leave empty to keep): `);
      if (options[key] === '') delete options[key];
    }
  }
  return onArgv;
}

const flagName = (field: string): string => field.replaceAll('_', '-');

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
export async function connectionsSet(
  store: Store,
  config: Config,
  options: ConnectionsSetOptions,
  output: CliOutput,
  secrets?: PasswordSource,
  warn: (line: string) => void = () => {},
): Promise<ConnectionView> {
  const onArgv = await resolveSecrets(options, secrets);
  for (const name of onArgv) {
    warn(
      `warning: --${flagName(name)} on the command line is visible to other users (process list) and kept in your shell history; next time use --${flagName(name)}-stdin, --${flagName(name)}-file or --ask`,
    );
  }
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
