/**
 * Overview: what needs action across the clients in scope (connections paused
 * on an auth error and the conversions they hold back), and the clients.
 */
import type { Router } from 'express';
import type { HeldConnection } from '@pruuv/sender';
import type { Client } from '../../store/types.js';
import { render } from '../http.js';
import { pageContext, type DashboardDeps } from '../index.js';
import { scopeOf, visibleClients } from '../scope.js';
import { Page, Notice, type PageContext } from '../views/layout.js';

interface OverviewView {
  ctx: PageContext;
  clients: Client[];
  held: HeldConnection[];
}

function OverviewPage({ ctx, clients, held }: OverviewView) {
  const names = new Map(clients.map((c) => [c.id, c.name]));
  return (
    <Page ctx={ctx} title="Overview">
      <h2>Needs action</h2>
      {held.length === 0 ? (
        <p>Nothing needs action.</p>
      ) : (
        <ul class="plain">
          {held.map((h) => (
            <li key={h.connection_id}>
              <Notice kind="bad">
                <strong>
                  {names.get(h.client_id) ?? h.client_id}: {h.platform}
                </strong>{' '}
                is paused{h.reason !== undefined ? `: ${h.reason}` : ''}. {h.waiting} conversion{h.waiting === 1 ? '' : 's'} wait for new credentials.{' '}
                <a href={`/dashboard/connections?client=${encodeURIComponent(h.client_id)}`}>Fix the connection</a>
              </Notice>
            </li>
          ))}
        </ul>
      )}
      <h2>Clients</h2>
      {clients.length === 0 ? (
        <p>
          No clients yet. <a href="/dashboard/clients">Add the first one</a>.
        </p>
      ) : (
        <ul>
          {clients.map((c) => (
            <li key={c.id}>
              <a href={`/dashboard/events?client=${encodeURIComponent(c.id)}`}>{c.name}</a>
            </li>
          ))}
        </ul>
      )}
    </Page>
  );
}

export function addOverview(router: Router, deps: DashboardDeps): void {
  router.get('/', async (_req, res) => {
    const ctx = pageContext(res);
    const scope = scopeOf(ctx.user);
    const clients = await visibleClients(deps.store, scope);
    const visible = new Set(clients.map((c) => c.id));
    const held = (await deps.store.outbox.held()).filter((h) => visible.has(h.client_id));
    render(res, OverviewPage({ ctx, clients, held }));
  });
}
