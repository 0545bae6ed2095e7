/**
 * Funnel webhooks: per client, its stages with their stage id, webhook URL,
 * the last hour's count against the 1,000-per-hour limit and their per-platform
 * event names; adding a stage and rotating a token. A webhook token is shown in
 * the answer to the POST that made it, once (200 with the page, never a redirect
 * whose URL or next page could carry it); only its hash is stored. Admin and
 * staff only: a client user gets 404 (tokens are never theirs to see).
 */
import type { Request, Response, Router } from 'express';
import { defaultEventNames } from '@pruuv/sender';
import { curlExample, webhookUrl } from '../../domain/admin-input.js';
import { createStage, OperationError, rotateStageToken, setStageEventNames, type StageEventNamesInput } from '../../domain/operations.js';
import { STAGE_EVENTS_PER_HOUR, STAGE_WINDOW_MS } from '../../domain/rate-limit.js';
import type { Client, Stage } from '../../store/types.js';
import { render } from '../http.js';
import { pageContext, type DashboardDeps } from '../index.js';
import { DashboardHttpError, requireWrite, scopeOf, visibleClient, visibleClients } from '../scope.js';
import { Badge, Csrf, Notice, Page, type PageContext } from '../views/layout.js';
import { ClientPicker, CopyBlock, publicBase } from '../views/setup.js';

/** A stage near its limit is flagged from this share of it on. */
const NEAR_LIMIT = 0.8;

/** The event-name fields of a stage, as the form names and labels them. */
const NAME_FIELDS: ReadonlyArray<{ key: keyof StageEventNamesInput; label: string; hint: (stage: Stage) => string }> = [
  { key: 'meta', label: 'Meta event name', hint: (s) => `Default: ${defaultEventNames(s.key).meta} (from the stage key). Standard or custom, at most 50 characters.` },
  { key: 'tiktok', label: 'TikTok event', hint: (s) => `Default: ${defaultEventNames(s.key).tiktok} (from the stage key). At most 50 characters.` },
  { key: 'google_conversion_action_id', label: 'Google conversion action id', hint: () => "Default: the Google connection's conversion action. Digits only." },
];
const FIELD_NAMES = Object.fromEntries(NAME_FIELDS.map((f) => [f.key, f.label])) as Record<keyof StageEventNamesInput, string>;

/** A token just made: shown in this answer only. */
interface NewToken {
  stage: Stage;
  token: string;
  url: string;
  rotated: boolean;
}

interface WebhooksView {
  ctx: PageContext;
  clients: Client[];
  client: Client | undefined;
  stages: Stage[];
  counts: Map<string, number>;
  base: string;
  fresh?: NewToken;
  notice?: string;
  /** A refused "add a stage", with what was typed. */
  add?: { key: string; name: string; error: string };
  /** A refused event-name save, with what was typed. */
  names?: { stageId: string; values: Record<string, string>; error: string };
}

function TokenNotice({ fresh }: { fresh: NewToken }) {
  return (
    <div class="secret token-notice" role="status" aria-labelledby="new-token-title">
      <div>
        <h2 id="new-token-title">
          {fresh.rotated ? 'New webhook token' : 'Stage added'}: {fresh.stage.name} ({fresh.stage.key})
        </h2>
        <p>
          <strong>Copy the token now: it is shown only this once.</strong> Only its hash is stored; if it is lost, rotate it.
          {fresh.rotated ? ' The previous token no longer works.' : ''}
        </p>
        <CopyBlock id="new-token" label="Webhook token" text={fresh.token} />
        <CopyBlock id="new-curl" label="Try it: a test event with curl" text={curlExample(fresh.url, fresh.token)} />
      </div>
    </div>
  );
}

function Usage({ stage, count }: { stage: Stage; count: number }) {
  const near = count >= STAGE_EVENTS_PER_HOUR * NEAR_LIMIT;
  const id = `usage-${stage.id}`;
  return (
    <span>
      <meter id={id} min={0} max={STAGE_EVENTS_PER_HOUR} high={STAGE_EVENTS_PER_HOUR * NEAR_LIMIT} optimum={0} value={count} aria-label={`Events in the last hour of stage ${stage.key}`} />{' '}
      {count.toLocaleString('en')} of {STAGE_EVENTS_PER_HOUR.toLocaleString('en')} events in the last hour
      {count >= STAGE_EVENTS_PER_HOUR ? (
        <>
          {' '}
          <Badge status="bad" text="limit reached: further events get 429" />
        </>
      ) : near ? (
        <>
          {' '}
          <Badge status="warn" text="near the limit" />
        </>
      ) : null}
    </span>
  );
}

function StageSection({ ctx, client, stage, count, base, names }: { ctx: PageContext; client: Client; stage: Stage; count: number; base: string; names: WebhooksView['names'] }) {
  const url = webhookUrl(base, stage.id);
  const typed = names?.stageId === stage.id ? names : undefined;
  const action = `/dashboard/webhooks/${encodeURIComponent(client.id)}/stages/${encodeURIComponent(stage.id)}`;
  return (
    <section class="platform" id={`stage-${stage.id}`} aria-labelledby={`stage-${stage.id}-title`}>
      <h2 id={`stage-${stage.id}-title`}>
        {stage.name} <code>{stage.key}</code>
      </h2>
      <dl class="facts">
        <dt>Stage id</dt>
        <dd>
          <code id={`stage-id-${stage.id}`}>{stage.id}</code>{' '}
          <button type="button" class="secondary" data-copy={`#stage-id-${stage.id}`} aria-label={`Copy the stage id of ${stage.key}`} hidden>
            Copy
          </button>
        </dd>
        <dt>Webhook URL</dt>
        <dd>
          <code id={`stage-url-${stage.id}`}>{url}</code>{' '}
          <button type="button" class="secondary" data-copy={`#stage-url-${stage.id}`} aria-label={`Copy the webhook URL of ${stage.key}`} hidden>
            Copy
          </button>
        </dd>
        <dt>Webhook token</dt>
        <dd>Shown once, when the stage was added or the token rotated.</dd>
        <dt>Last hour</dt>
        <dd>
          <Usage stage={stage} count={count} />
        </dd>
      </dl>
      <form method="post" action={`${action}/events`} class="stack" aria-labelledby={`stage-${stage.id}-names`}>
        <h3 id={`stage-${stage.id}-names`}>
          Event names on the ad platforms<span class="visually-hidden"> for stage {stage.key}</span>
        </h3>
        <Csrf token={ctx.csrf} />
        {typed !== undefined && <Notice kind="bad">{typed.error}</Notice>}
        {NAME_FIELDS.map((f) => {
          const id = `stage-${stage.id}-${f.key}`;
          const value = typed !== undefined ? (typed.values[f.key] ?? '') : (stage.event_names[f.key] ?? '');
          return (
            <label key={f.key} for={id}>
              {f.label}
              <span class="hint" id={`${id}-hint`}>
                {f.hint(stage)} Empty: the default.
              </span>
              <input type="text" id={id} name={f.key} value={value} maxLength={100} autocomplete="off" spellcheck={false} aria-describedby={`${id}-hint`} />
            </label>
          );
        })}
        <div>
          <button type="submit">Save event names</button>
        </div>
      </form>
      <form method="post" action={`${action}/rotate`} class="inline" data-confirm={`Replace the webhook token of stage ${stage.key}? The current token stops working at once.`}>
        <Csrf token={ctx.csrf} />
        <button type="submit" class="danger" aria-label={`Rotate the webhook token of stage ${stage.key}`}>
          Rotate token
        </button>
      </form>
    </section>
  );
}

function WebhooksPage(v: WebhooksView) {
  return (
    <Page ctx={v.ctx} title="Funnel webhooks">
      {v.clients.length === 0 || v.client === undefined ? (
        <p>
          No clients yet. <a href="/dashboard/clients">Add one first</a>.
        </p>
      ) : (
        <>
          <ClientPicker clients={v.clients} current={v.client} action="/dashboard/webhooks" />
          {v.fresh !== undefined && <TokenNotice fresh={v.fresh} />}
          {v.notice !== undefined && <Notice kind="ok">{v.notice}</Notice>}
          <p class="lead">
            POST JSON to a stage's webhook URL with <code>Authorization: Bearer</code> and its token; at most {STAGE_EVENTS_PER_HOUR.toLocaleString('en')} events per hour per
            stage (then 429).
          </p>
          {v.stages.length === 0 && <p>This client has no stage yet.</p>}
          {v.stages.map((s) => (
            <StageSection key={s.id} ctx={v.ctx} client={v.client!} stage={s} count={v.counts.get(s.id) ?? 0} base={v.base} names={v.names} />
          ))}
          <section aria-labelledby="add-stage">
            <h2 id="add-stage">Add a stage</h2>
            <form method="post" action={`/dashboard/webhooks/${encodeURIComponent(v.client.id)}/stages`} class="stack">
              <Csrf token={v.ctx.csrf} />
              {v.add !== undefined && <Notice kind="bad">{v.add.error}</Notice>}
              <label for="stage-key">
                Key
                <span class="hint" id="stage-key-hint">
                  What the pixel sends as the stage (track('lead')): lowercase letters, digits, - and _, e.g. lead, sale, demo-booked.
                </span>
                <input id="stage-key" name="key" required maxLength={64} pattern="[a-z0-9][a-z0-9_\-]{0,63}" value={v.add?.key ?? ''} autocomplete="off" spellcheck={false} aria-describedby="stage-key-hint" />
              </label>
              <label for="stage-name">
                Name
                <input id="stage-name" name="name" required maxLength={200} value={v.add?.name ?? ''} autocomplete="off" />
              </label>
              <div>
                <button type="submit">Add stage</button>
              </div>
            </form>
          </section>
        </>
      )}
    </Page>
  );
}

/** Stage ids, tokens and hourly figures belong to admin and staff: anyone else is told the page does not exist. */
function requireSetupAccess(ctx: PageContext): void {
  if (ctx.user.role !== 'admin' && ctx.user.role !== 'staff') throw new DashboardHttpError(404, 'There is no such page.');
}

const text = (value: unknown, max: number): string => (typeof value === 'string' ? value.slice(0, max) : '');

/** A refusal a person can act on, or rethrows. */
function problem(error: unknown): string {
  if (error instanceof OperationError && (error.kind === 'invalid' || error.kind === 'conflict')) return error.message;
  throw error;
}

export function addWebhooks(router: Router, deps: DashboardDeps): void {
  const { store, now, setup, logger } = deps;

  const page = async (req: Request, res: Response, clientId: string | undefined, extra: Partial<Pick<WebhooksView, 'fresh' | 'notice' | 'add' | 'names'>> = {}, status = 200) => {
    const ctx = pageContext(res);
    const scope = scopeOf(ctx.user);
    const clients = await visibleClients(store, scope);
    const client = clientId !== undefined ? await visibleClient(store, scope, clientId) : clients[0];
    const stages = client === undefined ? [] : await store.stages.list(client.id);
    // The quota's own window, counted through events_stage_time.
    const counts = await store.events.stageCounts(
      stages.map((s) => s.id),
      new Date(now().getTime() - STAGE_WINDOW_MS),
    );
    render(res, WebhooksPage({ ctx, clients, client, stages, counts, base: publicBase(req, setup), ...extra }), status);
  };

  router.get('/webhooks', async (req, res) => {
    requireSetupAccess(pageContext(res));
    const requested = typeof req.query['client'] === 'string' && req.query['client'] !== '' ? req.query['client'] : undefined;
    await page(req, res, requested, req.query['saved'] === '1' ? { notice: 'Event names saved.' } : {});
  });

  /** The client of a write, checked in this order: role, client. */
  const writeClient = async (req: Request, res: Response): Promise<Client> => {
    const ctx = pageContext(res);
    requireWrite(ctx.user);
    requireSetupAccess(ctx);
    return visibleClient(store, scopeOf(ctx.user), String(req.params['client']));
  };

  /** The client's stage named in the path, or 404 (a stage of another client included). */
  const writeStage = async (req: Request, res: Response): Promise<{ client: Client; stage: Stage }> => {
    const client = await writeClient(req, res);
    const stage = await store.stages.get(String(req.params['stage']));
    if (stage === undefined || stage.client_id !== client.id) throw new DashboardHttpError(404, 'There is no such stage.');
    return { client, stage };
  };

  router.post('/webhooks/:client/stages', async (req, res) => {
    const client = await writeClient(req, res);
    const body = req.body as Record<string, unknown>;
    const key = text(body['key'], 200).trim();
    const name = text(body['name'], 1000);
    let created: { stage: Stage; token: string };
    try {
      created = await createStage(store, client.id, { key, name });
    } catch (error) {
      return page(req, res, client.id, { add: { key, name, error: problem(error) } }, 400);
    }
    logger.info({ client_id: client.id, stage_id: created.stage.id, user_id: pageContext(res).user.id }, 'dashboard: stage created');
    // The token goes in this answer and nowhere else: not a redirect, not a log.
    const url = webhookUrl(publicBase(req, setup), created.stage.id);
    await page(req, res, client.id, { fresh: { ...created, url, rotated: false } });
  });

  router.post('/webhooks/:client/stages/:stage/rotate', async (req, res) => {
    const { client, stage } = await writeStage(req, res);
    const token = await rotateStageToken(store, stage.id);
    logger.info({ client_id: client.id, stage_id: stage.id, user_id: pageContext(res).user.id }, 'dashboard: webhook token rotated');
    await page(req, res, client.id, { fresh: { stage, token, url: webhookUrl(publicBase(req, setup), stage.id), rotated: true } });
  });

  router.post('/webhooks/:client/stages/:stage/events', async (req, res) => {
    const { client, stage } = await writeStage(req, res);
    const body = req.body as Record<string, unknown>;
    const values: Record<string, string> = {};
    const input: StageEventNamesInput = {};
    for (const f of NAME_FIELDS) {
      values[f.key] = text(body[f.key], 200);
      input[f.key] = values[f.key]!;
    }
    try {
      await setStageEventNames(store, stage.id, input, { fieldNames: FIELD_NAMES });
    } catch (error) {
      return page(req, res, client.id, { names: { stageId: stage.id, values, error: problem(error) } }, 400);
    }
    logger.info({ client_id: client.id, stage_id: stage.id, user_id: pageContext(res).user.id }, 'dashboard: stage event names saved');
    res.redirect(303, `/dashboard/webhooks?client=${encodeURIComponent(client.id)}&saved=1#stage-${stage.id}`);
  });
}
