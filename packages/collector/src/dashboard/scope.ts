/**
 * What a signed-in user may see and do. A `client` user sees one client, and
 * every read the dashboard makes for it goes through these functions, which put
 * the client into the query itself: a page cannot forget the filter, and an id
 * of another client's object answers 404 as if it did not exist.
 */
import type { Client, Store, User } from '../store/types.js';

/** The clients a user's reads are limited to: all, or one. */
export type Scope = { readonly all: true } | { readonly all: false; readonly clientId: string };

/** A refused action: the page answers with this status and message. */
export class DashboardHttpError extends Error {
  override name = 'DashboardHttpError';
  constructor(
    readonly status: 403 | 404 | 409 | 400,
    message: string,
  ) {
    super(message);
  }
}

export function scopeOf(user: User): Scope {
  return user.role === 'client' && user.client_id !== undefined ? { all: false, clientId: user.client_id } : { all: true };
}

/** Whether the user may change things (clients, stages, connections, sends): admin and staff. */
export function canWrite(user: User): boolean {
  return user.role === 'admin' || user.role === 'staff';
}

/** Refuses a write to a read-only user. */
export function requireWrite(user: User): void {
  if (!canWrite(user)) throw new DashboardHttpError(403, 'Your account can look, not change: ask your agency.');
}

/** Refuses anything but an admin. */
export function requireAdmin(user: User): void {
  if (user.role !== 'admin') throw new DashboardHttpError(403, 'Only an admin can do this.');
}

/** The clients in scope, in creation order. */
export async function visibleClients(store: Store, scope: Scope): Promise<Client[]> {
  if (scope.all) return store.clients.list();
  const client = await store.clients.get(scope.clientId);
  return client === undefined ? [] : [client];
}

/** A client in scope, or 404. */
export async function visibleClient(store: Store, scope: Scope, clientId: string): Promise<Client> {
  const client = scope.all || scope.clientId === clientId ? await store.clients.get(clientId) : undefined;
  if (client === undefined) throw new DashboardHttpError(404, 'There is no such client.');
  return client;
}

/** The client id a scoped query must use: the user's own for a client user, else the requested one (or none). */
export function clientFilter(scope: Scope, requested: string | undefined): string | undefined {
  if (!scope.all) return scope.clientId;
  return requested === undefined || requested === '' ? undefined : requested;
}
