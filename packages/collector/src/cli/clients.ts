import { createClient } from '../domain/operations.js';
import type { Client, Store } from '../store/types.js';
import { emit, table, type CliOutput } from './output.js';

/** Options of `pruuv clients add`. */
export interface ClientsAddOptions {
  name: string;
  /** Page origins allowed to send pixel events (`--origin`, repeatable). Defaults to none. */
  origins?: string[];
  /** URL of the pixel script, for the printed snippet. Defaults to `https://YOUR-COLLECTOR/s.js`. */
  scriptUrl?: string;
}

/**
 * `pruuv clients add --name NAME [--origin URL]…`: creates a client and prints its id and
 * site key. JSON: `{ client }`.
 */
export async function clientsAdd(store: Store, options: ClientsAddOptions, output: CliOutput): Promise<Client> {
  const client = await createClient(store, { name: options.name, origins: options.origins ?? [] });
  emit(output, { client }, () =>
    [
      `Client created: ${client.name}`,
      `  client id: ${client.id}`,
      `  site key:  ${client.site_key}`,
      `  origins:   ${client.origins.length > 0 ? client.origins.join(', ') : '(none: the pixel is refused until an origin is added)'}`,
      '',
      'Pixel snippet:',
      `  <script async src="${options.scriptUrl ?? 'https://YOUR-COLLECTOR/s.js'}" data-site="${client.site_key}"></script>`,
      '',
      `Next: pruuv stages add --client ${client.id} --key lead --name "Lead"`,
    ].join('\n'),
  );
  return client;
}

/** `pruuv clients list`: every client. JSON: `{ clients }`. */
export async function clientsList(store: Store, _options: Record<string, never>, output: CliOutput): Promise<Client[]> {
  const clients = await store.clients.list();
  emit(output, { clients }, () =>
    clients.length === 0
      ? 'No clients yet. Create one with `pruuv clients add --name NAME --origin https://site.example`.'
      : table(
          ['ID', 'NAME', 'SITE KEY', 'ORIGINS', 'CREATED'],
          clients.map((c) => [c.id, c.name, c.site_key, c.origins.join(','), c.created_at]),
        ),
  );
  return clients;
}
