/**
 * "Connect with OAuth" in the dashboard (`domain/oauth.ts` does the work): the
 * Connect button's start, the platform's redirect back (`/oauth/:platform/callback`,
 * mounted beside the dashboard), the picker (one step a page: account, then
 * conversion action or pixel) and the save, and Disconnect. Every failure ends
 * on a page that says what happened and what to do, nothing half-stored.
 * Admin and staff only, like the Connections page.
 */
import type { Request, Response, Router } from 'express';
import { OAUTH_PROVIDERS, platformAdapter, type DiscoveryStep, type Platform } from '@pruuv/sender';
import type { Logger } from 'pino';
import { OAuthProblem, redirectUriFor, type FlowSession, type OAuthFlow } from '../../domain/oauth.js';
import { sessionIdHash, type LiveSession } from '../auth/sessions.js';
import type { Assets } from '../assets.js';
import { render } from '../http.js';
import { pageContext, type DashboardDeps, type DashboardSetup } from '../index.js';
import { DashboardHttpError, requireWrite, scopeOf, visibleClient } from '../scope.js';
import { Csrf, Document, Notice, Page, type PageContext } from '../views/layout.js';
import { publicBase } from '../views/setup.js';

/** The platforms with an OAuth provider, or 404. */
export function oauthPlatformOf(value: unknown): Platform {
  const found = OAUTH_PROVIDERS.find((p) => p.platform === value);
  if (found === undefined) throw new DashboardHttpError(404, 'There is no such platform to connect.');
  return found.platform as Platform;
}

/** The flow's view of the signed-in session. */
export function flowSession(session: LiveSession): FlowSession {
  return { userId: session.user.id, sessionHash: sessionIdHash(session.id) };
}

/** The redirect URI of a platform, as registered with its app. */
export function callbackUri(req: Request, setup: DashboardSetup, platform: Platform): string {
  return redirectUriFor(publicBase(req, setup), platform);
}

/** HTTP status of a problem's page: the platform unreachable is a 502, the rest the person's to fix. */
function statusOf(problem: OAuthProblem): number {
  return problem.kind === 'unavailable' ? 502 : problem.kind === 'state_foreign' ? 403 : 400;
}

const TITLES: Partial<Record<OAuthProblem['kind'], string>> = {
  denied: 'Access not granted',
  state_missing: 'Sign-in not recognised',
  state_unknown: 'Sign-in already used or not recognised',
  state_expired: 'Sign-in expired',
  state_foreign: 'Sign-in started elsewhere',
  unavailable: 'The platform did not answer',
  nothing_found: 'Nothing to connect',
  scope_missing: 'A permission is missing',
  redirect_uri_mismatch: 'Redirect URI mismatch',
  invalid_client: 'App credentials refused',
  invalid_grant: 'Sign-in code refused',
};

/** The page of a flow that ended without a connection: what happened, and the way back. */
export function ProblemPage({ assets, platform, problem }: { assets: Assets; platform: Platform; problem: OAuthProblem }) {
  const name = platformAdapter(platform).name;
  const back = problem.clientId !== undefined ? `/dashboard/connections?client=${encodeURIComponent(problem.clientId)}#platform-${platform}` : '/dashboard/connections';
  return (
    <Document title={`${name}: ${TITLES[problem.kind] ?? 'Not connected'}`} assets={assets}>
      <main id="main" class="signin">
        <h1>
          {name}: {TITLES[problem.kind] ?? 'Not connected'}
        </h1>
        <div class="notice bad" role="alert" id="oauth-problem" data-kind={problem.kind}>
          <p>{problem.message}</p>
          {problem.platformError !== undefined && (
            <p class="hint">
              {name}'s error: <code>{problem.platformError}</code>
            </p>
          )}
        </div>
        <p>
          <a href={back}>Back to the connections</a>
        </p>
      </main>
    </Document>
  );
}

function PickerPage({ ctx, platform, clientName, grant, picks, step, summary }: { ctx: PageContext; platform: Platform; clientName: string; grant: string; picks: readonly string[]; step?: DiscoveryStep; summary?: string }) {
  const name = platformAdapter(platform).name;
  return (
    <Page ctx={ctx} title={`Connect ${name} for ${clientName}`}>
      <p class="hint">Signed in with {name}. Pick what this client's conversions go to; nothing is saved until you press Save.</p>
      {step !== undefined && (
        <form method="get" action={`/dashboard/oauth/${platform}/pick`} class="stack" id="oauth-picker">
          <input type="hidden" name="grant" value={grant} />
          {picks.map((p, i) => (
            <input key={i} type="hidden" name="pick" value={p} />
          ))}
          <fieldset>
            <legend>{step.title}</legend>
            <div class="stack">
              {step.choices.map((c, i) => (
                <label class="check" key={c.id} for={`choice-${i}`}>
                  <input type="radio" id={`choice-${i}`} name="pick" value={c.id} required checked={step.choices.length === 1} />
                  <span>
                    {c.label}
                    {c.detail !== undefined && <span class="hint"> {c.detail}</span>}
                  </span>
                </label>
              ))}
            </div>
          </fieldset>
          <div>
            <button type="submit">Next</button>
          </div>
        </form>
      )}
      {summary !== undefined && (
        <form method="post" action={`/dashboard/oauth/${platform}/save`} class="stack" id="oauth-save">
          <Csrf token={ctx.csrf} />
          <input type="hidden" name="grant" value={grant} />
          {picks.map((p, i) => (
            <input key={i} type="hidden" name="pick" value={p} />
          ))}
          <Notice kind="info">
            <strong>{summary}</strong>
          </Notice>
          <p class="hint">Saving fills the connection's settings and stores the tokens encrypted; any pasted credentials are replaced and a paused connection resumes.</p>
          <div>
            <button type="submit">Save</button>
          </div>
        </form>
      )}
    </Page>
  );
}

/** The picks of a query or form: `pick` repeated, each bounded. */
function picksOf(value: unknown): string[] {
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.filter((v): v is string => typeof v === 'string' && v !== '' && v.length <= 200).slice(0, 10);
}

function grantOf(value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(value)) {
    throw new OAuthProblem('state_unknown', 'This account list is not recognised. Nothing was changed: start again with the Connect button.');
  }
  return value;
}

/** Admin and staff only: the same rule as the Connections page. */
function requireSetupAccess(ctx: PageContext): void {
  if (ctx.user.role !== 'admin' && ctx.user.role !== 'staff') throw new DashboardHttpError(404, 'There is no such page.');
}

/** Runs a step; an {@link OAuthProblem} becomes its page. */
async function guarded(res: Response, assets: Assets, platform: Platform, logger: Logger, step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (error) {
    if (!(error instanceof OAuthProblem)) throw error;
    // The kind and the platform's code only: never the query (code, state) or a token.
    logger.info({ platform, kind: error.kind, platform_error: error.platformError, client_id: error.clientId }, 'dashboard: oauth step refused');
    render(res, ProblemPage({ assets, platform, problem: error }), statusOf(error));
  }
}

/** The Connect, picker, save and Disconnect routes, on the dashboard's router (after the session check). */
export function addOAuth(router: Router, deps: DashboardDeps & { oauth: OAuthFlow }): void {
  const { store, assets, setup, logger, oauth } = deps;

  router.post('/connections/:client/oauth/:platform/start', async (req, res) => {
    const ctx = pageContext(res);
    requireWrite(ctx.user);
    requireSetupAccess(ctx);
    const client = await visibleClient(store, scopeOf(ctx.user), String(req.params['client']));
    const platform = oauthPlatformOf(req.params['platform']);
    await guarded(res, assets, platform, logger, async () => {
      const url = await oauth.start({ session: flowSession(ctx.session), clientId: client.id, platform, redirectUri: callbackUri(req, setup, platform) });
      logger.info({ client_id: client.id, platform, user_id: ctx.user.id }, 'dashboard: oauth started');
      res.redirect(303, url);
    });
  });

  router.get('/oauth/:platform/pick', async (req, res) => {
    const ctx = pageContext(res);
    requireSetupAccess(ctx);
    const platform = oauthPlatformOf(req.params['platform']);
    await guarded(res, assets, platform, logger, async () => {
      const grant = grantOf(req.query['grant']);
      const picks = picksOf(req.query['pick']);
      const { clientId, result } = await oauth.discover({ session: flowSession(ctx.session), platform, grant, picks });
      const client = await visibleClient(store, scopeOf(ctx.user), clientId);
      render(res, PickerPage({ ctx, platform, clientName: client.name, grant, picks, ...(result.kind === 'choose' ? { step: result.step } : { summary: result.summary }) }));
    });
  });

  router.post('/oauth/:platform/save', async (req, res) => {
    const ctx = pageContext(res);
    requireWrite(ctx.user);
    requireSetupAccess(ctx);
    const platform = oauthPlatformOf(req.params['platform']);
    const body = req.body as Record<string, unknown>;
    await guarded(res, assets, platform, logger, async () => {
      const { clientId } = await oauth.save({ session: flowSession(ctx.session), platform, grant: grantOf(body['grant']), picks: picksOf(body['pick']) });
      logger.info({ client_id: clientId, platform, user_id: ctx.user.id }, 'dashboard: connected with oauth');
      res.redirect(303, `/dashboard/connections?client=${encodeURIComponent(clientId)}&saved=${platform}#platform-${platform}`);
    });
  });

  router.post('/connections/:client/oauth/:platform/disconnect', async (req, res) => {
    const ctx = pageContext(res);
    requireWrite(ctx.user);
    requireSetupAccess(ctx);
    const client = await visibleClient(store, scopeOf(ctx.user), String(req.params['client']));
    const platform = oauthPlatformOf(req.params['platform']);
    const done = await oauth.disconnect({ clientId: client.id, platform });
    logger.info({ client_id: client.id, platform, user_id: ctx.user.id, revoked: done.revoked }, 'dashboard: connection disconnected');
    const note = done.message !== undefined ? 'revoke-failed' : done.revoked ? 'revoked' : 'removed';
    res.redirect(303, `/dashboard/connections?client=${encodeURIComponent(client.id)}&disconnected=${platform}&note=${note}#platform-${platform}`);
  });
}

/** `GET /oauth/:platform/callback`: the platform's redirect back, for a signed-in session. */
export async function oauthCallback(req: Request, res: Response, deps: { oauth: OAuthFlow; assets: Assets; setup: DashboardSetup; logger: Logger; session: LiveSession | undefined }): Promise<void> {
  const platform = OAUTH_PROVIDERS.find((p) => p.platform === req.params['platform'])?.platform as Platform | undefined;
  if (platform === undefined) {
    render(res, ProblemPage({ assets: deps.assets, platform: 'google', problem: new OAuthProblem('not_configured', 'There is no such platform to connect.') }), 404);
    return;
  }
  if (deps.session === undefined) {
    render(res, ProblemPage({ assets: deps.assets, platform, problem: new OAuthProblem('state_foreign', 'You are not signed in to the dashboard in this browser, so this sign-in cannot be matched. Nothing was changed: sign in, then start again with the Connect button.') }), 401);
    return;
  }
  const session = deps.session;
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(req.query)) if (typeof v === 'string') query.set(k, v);
  await guarded(res, deps.assets, platform, deps.logger, async () => {
    const { grant } = await deps.oauth.callback({ session: flowSession(session), platform, query, redirectUri: callbackUri(req, deps.setup, platform) });
    res.redirect(303, `/dashboard/oauth/${platform}/pick?grant=${grant}`);
  });
}
