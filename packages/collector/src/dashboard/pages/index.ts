/** Registers every page on the dashboard's router (after the session check). */
import type { NextFunction, Request, Response, Router } from 'express';
import type { DashboardDeps } from '../index.js';
import { render } from '../http.js';
import { DashboardHttpError } from '../scope.js';
import { ErrorPage } from './error.js';
import { addClients } from './clients.js';
import { addConnections } from './connections.js';
import { addOAuth } from './oauth.js';
import { addEvents } from './events.js';
import { addOverview } from './overview.js';
import { addSends } from './sends.js';
import { addSettings } from './settings.js';
import { addUsers } from './users.js';
import { addWebhooks } from './webhooks.js';

export function addPages(router: Router, deps: DashboardDeps): void {
  addOverview(router, deps);
  addClients(router, deps);
  addConnections(router, deps);
  addOAuth(router, deps);
  addWebhooks(router, deps);
  addEvents(router, deps);
  addSends(router, deps);
  addUsers(router, deps);
  addSettings(router, deps);
  // A refused action or an object out of scope: its own status and message, as a page.
  router.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (!(error instanceof DashboardHttpError)) return next(error);
    render(res, ErrorPage({ assets: deps.assets, status: error.status, message: error.message }), error.status);
  });
}
