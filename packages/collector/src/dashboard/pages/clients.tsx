/**
 * Clients: the list, adding and editing a client (name, allowed origins), its
 * site key, the install snippet (script tag and npm) and the "is the pixel
 * installed?" check: the last pixel hit per allowed origin, which the ingest
 * route records at most once a minute per origin (`domain/pixel-seen.ts`).
 * Client users see their own client, read-only.
 */
import type { Request, Response, Router } from 'express';
import { createClient, OperationError, updateClient } from '../../domain/operations.js';
import type { Client, PixelOrigin } from '../../store/types.js';
import { render } from '../http.js';
import { pageContext, type DashboardDeps, type DashboardSetup } from '../index.js';
import { canWrite, DashboardHttpError, requireWrite, scopeOf, visibleClient, visibleClients } from '../scope.js';
import { Badge, Csrf, Notice, Page, type PageContext } from '../views/layout.js';
import { Ago, CopyBlock, publicBase } from '../views/setup.js';

/** The ingest path the pixel uses unless told otherwise (`@pruuv/pixel`'s `init` default). */
const PIXEL_DEFAULT_INGEST_PATH = '/e';
/** The script path when the pixel script is not served (not built): the collector's default. */
const DEFAULT_SCRIPT_PATH = '/s.js';
/** A hit within this long counts as "installed"; older ones are shown as stale. */
const FRESH_MS = 24 * 3_600_000;

/** The install snippets of a client. */
export interface Snippets {
  /** The script tag (with the queue stub and `init` when the ingest path is not the pixel's default). */
  script: string;
  npmInstall: string;
  npmInit: string;
}

/**
 * The snippets of packages/pixel/README.md "Install" for this collector: the stable script path (a
 * new pixel release reaches pages within its 5-minute cache), the public base URL, and the ingest path
 * when it is not the pixel's default (the script tag has no attribute for it: a queued `init` sets it).
 */
export function snippets(client: Client, base: string, setup: DashboardSetup, stageKey = 'lead'): Snippets {
  const scriptUrl = `${base}${setup.pixelScript?.path ?? DEFAULT_SCRIPT_PATH}`;
  const ingestPath = setup.ingestPath ?? PIXEL_DEFAULT_INGEST_PATH;
  const custom = ingestPath !== PIXEL_DEFAULT_INGEST_PATH;
  const site = JSON.stringify(client.site_key).replace(/"/g, "'");
  const script = custom
    ? [
        `<script>window.Pruuv=window.Pruuv||{q:[]};["init","track","consent","getAttribution"].forEach(function(m){Pruuv[m]=Pruuv[m]||function(){var a=arguments;return new Promise(function(r){Pruuv.q.push([m,a,r])})}});Pruuv.init({site:${site},ingestPath:'${ingestPath}'})</script>`,
        `<script async src="${scriptUrl}"></script>`,
      ].join('\n')
    : `<script async src="${scriptUrl}" data-site="${client.site_key}"></script>`;
  const options = [`site: ${site}`, `endpoint: '${base}'`, ...(custom ? [`ingestPath: '${ingestPath}'`] : [])].join(', ');
  return {
    script,
    npmInstall: 'npm install @pruuv/pixel',
    npmInit: [`import { init, track } from '@pruuv/pixel';`, '', `init({ ${options} });`, `await track(${JSON.stringify(stageKey).replace(/"/g, "'")}, { email: 'jo@example.com' });`].join('\n'),
  };
}

/** One allowed origin's install check. */
function PixelState({ seen, now }: { seen: PixelOrigin | undefined; now: Date }) {
  if (seen === undefined) return <Badge status="muted" text="never seen" />;
  const fresh = now.getTime() - Date.parse(seen.last_seen_at) < FRESH_MS;
  return (
    <span>
      <Badge status={fresh ? 'ok' : 'warn'} text={fresh ? 'installed' : 'quiet'} /> <Ago at={seen.last_seen_at} now={now} prefix="seen " />
    </span>
  );
}

/** A one-line summary of a client's install check, for the list. */
function PixelSummary({ client, seen, now }: { client: Client; seen: PixelOrigin[]; now: Date }) {
  if (client.origins.length === 0) return <Badge status="warn" text="no allowed origin" />;
  const latest = seen.filter((s) => client.origins.includes(s.origin)).sort((a, b) => (a.last_seen_at < b.last_seen_at ? 1 : -1))[0];
  return <PixelState seen={latest} now={now} />;
}

const REFRESH_NOTE = 'Pixel hits are recorded at most once a minute per origin: a new install shows here within a minute of its first beacon. Reload to check again.';

interface ClientForm {
  name: string;
  origins: string;
}

function ClientFields({ form, idPrefix }: { form: ClientForm; idPrefix: string }) {
  return (
    <>
      <label for={`${idPrefix}-name`}>
        Name
        <input id={`${idPrefix}-name`} name="name" required maxLength={200} value={form.name} autocomplete="off" />
      </label>
      <label for={`${idPrefix}-origins`}>
        Allowed origins
        <span class="hint" id={`${idPrefix}-origins-hint`}>
          One per line, scheme and host (and port) only, e.g. https://www.example.com. Beacons from any other page are dropped.
        </span>
        <textarea id={`${idPrefix}-origins`} name="origins" rows={4} aria-describedby={`${idPrefix}-origins-hint`}>
          {form.origins}
        </textarea>
      </label>
    </>
  );
}

interface ListView {
  ctx: PageContext;
  clients: Client[];
  seen: PixelOrigin[];
  now: Date;
  form?: ClientForm;
  error?: string;
}

function ClientsPage({ ctx, clients, seen, now, form, error }: ListView) {
  const write = canWrite(ctx.user);
  return (
    <Page ctx={ctx} title="Clients">
      {error !== undefined && <Notice kind="bad">{error}</Notice>}
      <p class="lead">{REFRESH_NOTE}</p>
      {clients.length === 0 ? (
        <p>No clients yet.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Clients</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Site key</th>
                <th scope="col">Allowed origins</th>
                <th scope="col">Pixel</th>
              </tr>
            </thead>
            <tbody>
              {clients.map((c) => (
                <tr key={c.id}>
                  <td>
                    <a href={`/dashboard/clients/${encodeURIComponent(c.id)}`}>{c.name}</a>
                  </td>
                  <td>
                    <code>{c.site_key}</code>
                  </td>
                  <td>{c.origins.length === 0 ? <span class="hint">none</span> : c.origins.map((o) => <div key={o}><code>{o}</code></div>)}</td>
                  <td>
                    <PixelSummary client={c} seen={seen.filter((s) => s.client_id === c.id)} now={now} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {write && (
        <section aria-labelledby="add-client">
          <h2 id="add-client">Add a client</h2>
          <form method="post" action="/dashboard/clients" class="stack">
            <Csrf token={ctx.csrf} />
            <ClientFields form={form ?? { name: '', origins: '' }} idPrefix="new" />
            <div>
              <button type="submit">Add client</button>
            </div>
          </form>
        </section>
      )}
    </Page>
  );
}

interface DetailView {
  ctx: PageContext;
  client: Client;
  seen: PixelOrigin[];
  now: Date;
  snippet: Snippets;
  stageKeys: string[];
  scriptServed: boolean;
  notice?: string;
  form?: ClientForm;
  error?: string;
}

function ClientPage({ ctx, client, seen, now, snippet, stageKeys, scriptServed, notice, form, error }: DetailView) {
  const byOrigin = new Map(seen.map((s) => [s.origin, s]));
  return (
    <Page ctx={ctx} title={`Client: ${client.name}`}>
      <p>
        <a href="/dashboard/clients">All clients</a>
      </p>
      {notice !== undefined && <Notice kind="ok">{notice}</Notice>}
      {error !== undefined && <Notice kind="bad">{error}</Notice>}
      <dl class="facts">
        <dt>Client id</dt>
        <dd>
          <code>{client.id}</code>
        </dd>
        <dt>Site key</dt>
        <dd>
          <code>{client.site_key}</code> <span class="hint">(public: the pixel sends it from every page)</span>
        </dd>
        <dt>Created</dt>
        <dd>
          <Ago at={client.created_at} now={now} />
        </dd>
      </dl>

      <h2 id="pixel">Is the pixel installed?</h2>
      <p class="lead">{REFRESH_NOTE}</p>
      {client.origins.length === 0 ? (
        <Notice kind="warn">No allowed origin: every beacon of this client is dropped until one is added.</Notice>
      ) : (
        <div class="table-wrap">
          <table aria-describedby="pixel">
            <thead>
              <tr>
                <th scope="col">Allowed origin</th>
                <th scope="col">Last pixel hit</th>
              </tr>
            </thead>
            <tbody>
              {client.origins.map((o) => (
                <tr key={o}>
                  <td>
                    <code>{o}</code>
                  </td>
                  <td>
                    <PixelState seen={byOrigin.get(o)} now={now} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h2 id="install">Install</h2>
      {!scriptServed && <Notice kind="warn">This collector is not serving the pixel script (build it with npm run build -w @pruuv/pixel): the script tag below answers 404 until it does.</Notice>}
      <h3>Script tag</h3>
      <p>
        Paste it into every page, before the closing &lt;/head&gt;; then call <code>Pruuv.track('{stageKeys[0] ?? 'lead'}', …)</code> where a funnel step happens.{' '}
        {stageKeys.length === 0 ? (
          <>This client has no funnel stage yet: add one on the Funnel webhooks page.</>
        ) : (
          <>
            Stage keys of this client:{' '}
            {stageKeys.map((k, i) => (
              <span key={k}>
                {i > 0 && ', '}
                <code>{k}</code>
              </span>
            ))}
            .
          </>
        )}
      </p>
      <CopyBlock id="snippet-script" label="Script tag" text={snippet.script} />
      <h3>npm</h3>
      <CopyBlock id="snippet-npm-install" label="Install the package" text={snippet.npmInstall} />
      <CopyBlock id="snippet-npm-init" label="Start it in your app" text={snippet.npmInit} />

      {canWrite(ctx.user) && (
        <section aria-labelledby="edit-client">
          <h2 id="edit-client">Edit</h2>
          <form method="post" action={`/dashboard/clients/${encodeURIComponent(client.id)}`} class="stack">
            <Csrf token={ctx.csrf} />
            <ClientFields form={form ?? { name: client.name, origins: client.origins.join('\n') }} idPrefix="edit" />
            <div>
              <button type="submit">Save</button>
            </div>
          </form>
        </section>
      )}
    </Page>
  );
}

/** The form's fields as typed. */
function readForm(req: Request): ClientForm {
  const body = req.body as Record<string, unknown>;
  return {
    name: typeof body['name'] === 'string' ? body['name'].slice(0, 1000) : '',
    origins: typeof body['origins'] === 'string' ? body['origins'].slice(0, 20_000) : '',
  };
}

/** The operation's input: one origin per line (commas and spaces separate too). */
function inputOf(form: ClientForm): { name: string; origins: string[] } {
  return { name: form.name, origins: form.origins.split(/[\s,]+/).filter((o) => o !== '') };
}

/** What to tell a person about a refused input. */
function problem(error: unknown): string {
  if (error instanceof OperationError && error.kind === 'invalid') {
    const details = Object.values(error.details ?? {}).flat();
    return details.length > 1 ? `${error.message} (${details.length} problems: ${details.join(' ')})` : error.message;
  }
  throw error;
}

export function addClients(router: Router, deps: DashboardDeps): void {
  const { store, now, setup } = deps;

  const detail = async (req: Request, res: Response, client: Client, extra: Partial<Pick<DetailView, 'notice' | 'form' | 'error'>> = {}, status = 200) => {
    const ctx = pageContext(res);
    const seen = await store.pixelOrigins.list({ client_id: client.id });
    const stageKeys = (await store.stages.list(client.id)).map((s) => s.key);
    const snippet = snippets(client, publicBase(req, setup), setup, stageKeys[0]);
    const view: DetailView = { ctx, client, seen, now: now(), snippet, stageKeys, scriptServed: setup.pixelScript !== undefined, ...extra };
    render(res, ClientPage(view), status);
  };

  const list = async (res: Response, extra: Partial<Pick<ListView, 'form' | 'error'>> = {}, status = 200) => {
    const ctx = pageContext(res);
    const scope = scopeOf(ctx.user);
    const clients = await visibleClients(store, scope);
    // A client user's query names its client: another client's rows are never read.
    const seen = await store.pixelOrigins.list(scope.all ? {} : { client_id: scope.clientId });
    render(res, ClientsPage({ ctx, clients, seen, now: now(), ...extra }), status);
  };

  router.get('/clients', async (_req, res) => list(res));

  router.post('/clients', async (req, res) => {
    requireWrite(pageContext(res).user);
    const form = readForm(req);
    let client: Client;
    try {
      client = await createClient(store, inputOf(form));
    } catch (error) {
      return list(res, { form, error: problem(error) }, 400);
    }
    deps.logger.info({ client_id: client.id, user_id: pageContext(res).user.id }, 'dashboard: client created');
    res.redirect(303, `/dashboard/clients/${encodeURIComponent(client.id)}?created=1`);
  });

  router.get('/clients/:id', async (req, res) => {
    const client = await visibleClient(store, scopeOf(pageContext(res).user), String(req.params['id']));
    const notice = req.query['created'] === '1' ? 'Client added. Install the pixel below.' : req.query['saved'] === '1' ? 'Saved.' : undefined;
    await detail(req, res, client, notice !== undefined ? { notice } : {});
  });

  router.post('/clients/:id', async (req, res) => {
    const ctx = pageContext(res);
    requireWrite(ctx.user);
    const client = await visibleClient(store, scopeOf(ctx.user), String(req.params['id']));
    const form = readForm(req);
    try {
      await updateClient(store, client.id, inputOf(form));
    } catch (error) {
      if (error instanceof OperationError && error.kind === 'not_found') throw new DashboardHttpError(404, 'There is no such client.');
      return detail(req, res, client, { form, error: problem(error) }, 400);
    }
    deps.logger.info({ client_id: client.id, user_id: ctx.user.id }, 'dashboard: client updated');
    res.redirect(303, `/dashboard/clients/${encodeURIComponent(client.id)}?saved=1`);
  });
}
