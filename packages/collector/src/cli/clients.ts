import { createClient, OperationError, setClientSettings } from '../domain/operations.js';
import type { Client, Store } from '../store/types.js';
import { emit, table, type CliOutput } from './output.js';

/** Options of `pruuv clients add`. */
export interface ClientsAddOptions {
  name: string;
  /** Page origins allowed to send pixel events (`--origin`, repeatable). Defaults to none. */
  origins?: string[];
  /** URL of the pixel script, for the printed snippet. Defaults to `https://YOUR-COLLECTOR/s.js`. */
  scriptUrl?: string;
  /** ISO 3166-1 alpha-2 country for webhook phone numbers written without `+` (`--default-country GB`). Defaults to none. */
  defaultCountry?: string;
}

/** The default country line of a client. */
function countryLine(client: Client): string {
  return `  default country: ${client.default_country ?? '(none: a phone number without + is read as starting with its country code)'}`;
}

/**
 * `pruuv clients add --name NAME [--origin URL]…`: creates a client and prints its id and
 * site key. JSON: `{ client }`.
 */
export async function clientsAdd(store: Store, options: ClientsAddOptions, output: CliOutput): Promise<Client> {
  const client = await createClient(store, {
    name: options.name,
    origins: options.origins ?? [],
    ...(options.defaultCountry === undefined ? {} : { default_country: options.defaultCountry }),
  });
  emit(output, { client }, () =>
    [
      `Client created: ${client.name}`,
      `  client id: ${client.id}`,
      `  site key:  ${client.site_key}`,
      `  origins:   ${client.origins.length > 0 ? client.origins.join(', ') : '(none: the pixel is refused until an origin is added)'}`,
      countryLine(client),
      '',
      'Pixel snippet:',
      `  <script async src="${options.scriptUrl ?? 'https://YOUR-COLLECTOR/s.js'}" data-site="${client.site_key}"></script>`,
      '',
      `Next: pruuv stages add --client ${client.id} --key lead --name "Lead"`,
    ].join('\n'),
  );
  return client;
}

/** Options of `pruuv clients set`. */
export interface ClientsSetOptions {
  clientId: string;
  /** `--default-country GB`; `false` from `--no-default-country` clears it. */
  defaultCountry?: string | false;
}

/**
 * `pruuv clients set CLIENT_ID --default-country GB | --no-default-country`: changes a
 * client's settings. JSON: `{ client }`.
 */
export async function clientsSet(store: Store, options: ClientsSetOptions, output: CliOutput): Promise<Client> {
  if (options.defaultCountry === undefined) {
    throw new OperationError('invalid', 'Nothing to set: give --default-country CODE or --no-default-country');
  }
  const client = await setClientSettings(store, options.clientId, { default_country: options.defaultCountry === false ? null : options.defaultCountry });
  emit(output, { client }, () => [`Client updated: ${client.name} (${client.id})`, countryLine(client)].join('\n'));
  return client;
}

/** `pruuv clients list`: every client. JSON: `{ clients }`. */
export async function clientsList(store: Store, _options: Record<string, never>, output: CliOutput): Promise<Client[]> {
  const clients = await store.clients.list();
  emit(output, { clients }, () =>
    clients.length === 0
      ? 'No clients yet. Create one with `pruuv clients add --name NAME --origin https://site.example`.'
      : table(
          ['ID', 'NAME', 'SITE KEY', 'ORIGINS', 'COUNTRY', 'CREATED'],
          clients.map((c) => [c.id, c.name, c.site_key, c.origins.join(','), c.default_country ?? '-', c.created_at]),
        ),
  );
  return clients;
}
