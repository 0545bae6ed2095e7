/**
 * Conversion sends (issue 11, page 6): the conversion audit log, every attempt of every event
 * on every platform, newest first, filtered by client, platform, status, attempt day range and
 * event, paginated by keyset (`sends.search`); "retry now" of a failed or dead send where the
 * platform's dedup window still allows it (else the reason instead of the button); a preview of
 * the next pass (what it would send, skip and why, without sending); and the filtered rows as
 * CSV, streamed. A client user sees its own client's sends only, cannot retry, and exports only
 * its own.
 */
import type { Request, Response, Router } from 'express';
import { PLATFORM_IDS, type OutcomeStatus, type Platform } from '@pruuv/sender';
import { SEND_STATUSES } from '../../domain/send-lists.js';
import type { Client, KeysetPage, OutboxRow, SendAttempt, SendSearch, StoredEvent } from '../../store/types.js';
import { csvLine } from '../csv.js';
import { render, safeNext } from '../http.js';
import { pageContext, type DashboardDeps } from '../index.js';
import { cursorOf, dayRange, listClient, listHref, oneOf, pageRows, param, readList, text } from '../list-query.js';
import { previewNextPass, type PassPreview } from '../pass-preview.js';
import { sendPath } from '../send-path.js';
import { RETRY_REQUESTED, RETRYABLE_STATUSES, retryRecord, retryVerdict, type RetryVerdict } from '../retry-now.js';
import { canWrite, DashboardHttpError, requireWrite, scopeOf, visibleClients, type Scope } from '../scope.js';
import { Badge, Csrf, Notice, Page, type PageContext } from '../views/layout.js';
import { Choice, DataTable, DayRange, FilterForm, Pager, ScanNote, Time } from '../views/list.js';

/** Where the pages live. */
export const SENDS_PATH = '/dashboard/sends';

/** The filters of the list as the query string gives them (and as its links write them back). */
interface SendFilters {
  client?: string;
  platform?: Platform;
  status?: OutcomeStatus;
  from?: string;
  to?: string;
  event?: string;
  limit?: string;
}

/** The filters of a request, checked; the client and the event within the user's scope (404 otherwise). */
async function readFilters(deps: DashboardDeps, scope: Scope, req: Request): Promise<{ filters: SendFilters; query: Omit<SendSearch, 'limit'> }> {
  const clientId = await listClient(deps.store, scope, param(req, 'client'));
  const filters: SendFilters = {};
  const query: Omit<SendSearch, 'limit'> = {};
  if (clientId !== undefined) {
    query.client_id = clientId;
    if (scope.all) filters.client = clientId;
  }
  const platform = oneOf(req, 'platform', PLATFORM_IDS);
  if (platform !== undefined) filters.platform = query.platform = platform;
  const status = oneOf(req, 'status', SEND_STATUSES);
  if (status !== undefined) filters.status = query.status = status;
  const range = dayRange(req);
  if (range.fromDay !== undefined) filters.from = range.fromDay;
  if (range.toDay !== undefined) filters.to = range.toDay;
  if (range.from !== undefined) query.attempted_from = range.from;
  if (range.before !== undefined) query.attempted_before = range.before;
  const event = text(req, 'event', 100);
  if (event !== undefined) {
    // Another client's event is not there for a client user, whatever its id.
    if (!scope.all && (await deps.store.events.getOfClient(event, scope.clientId)) === undefined) throw new DashboardHttpError(404, 'There is no such event.');
    filters.event = query.event_id = event;
  }
  if (param(req, 'limit') !== undefined) filters.limit = String(pageRows(req));
  return { filters, query };
}

function Filters({ filters, clients, scope }: { filters: SendFilters; clients: Client[]; scope: Scope }) {
  return (
    <FilterForm path={SENDS_PATH} label="Filter sends">
      {scope.all ? <Choice label="Client" name="client" any="All clients" options={clients.map((c) => ({ value: c.id, text: c.name }))} selected={filters.client} /> : null}
      <Choice label="Platform" name="platform" any="All platforms" options={PLATFORM_IDS.map((p) => ({ value: p, text: p }))} selected={filters.platform} />
      <Choice label="Status" name="status" any="Any status" options={SEND_STATUSES.map((s) => ({ value: s, text: s }))} selected={filters.status} />
      <DayRange what="Attempted" from={filters.from} to={filters.to} />
      <label>
        Event id
        <input type="search" name="event" value={filters.event ?? ''} maxLength={100} autocomplete="off" spellcheck={false} />
      </label>
    </FilterForm>
  );
}

/** What the action cell of an attempt shows: nothing, the retry button, or why not. */
type RowAction = { kind: 'none' } | { kind: 'retry'; outboxId: number } | { kind: 'refused'; reason: string } | { kind: 'state'; row: OutboxRow };

interface ListView {
  ctx: PageContext;
  filters: SendFilters;
  clients: Client[];
  page: KeysetPage<SendAttempt>;
  actions: Map<number, RowAction>;
  scope: Scope;
  notice?: { kind: 'ok' | 'bad'; text: string };
  back: string;
}

function Detail({ s }: { s: SendAttempt }) {
  const parts = [s.error_message, s.message].filter((x): x is string => x !== null && x !== '');
  return <>{parts.join(' — ')}</>;
}

function Action({ action, ctx, back }: { action: RowAction | undefined; ctx: PageContext; back: string }) {
  if (action === undefined || action.kind === 'none') return null;
  if (action.kind === 'refused') return <span class="hint">Not retryable: {action.reason}</span>;
  if (action.kind === 'state') {
    return (
      <span class="hint">
        Now <Badge status={action.row.status} />
        {action.row.status === 'retrying' || action.row.status === 'pending' ? [' due ', <Time iso={action.row.due_at} />] : null}
      </span>
    );
  }
  return (
    <form method="post" action={`${SENDS_PATH}/retry`} class="inline" data-confirm="Send this conversion again with the next pass?">
      <Csrf token={ctx.csrf} />
      <input type="hidden" name="outbox_id" value={String(action.outboxId)} />
      <input type="hidden" name="back" value={back} />
      <button type="submit" class="secondary">
        Retry now
      </button>
    </form>
  );
}

function SendsList({ ctx, filters, clients, page, actions, scope, notice, back }: ListView) {
  const clientNames = new Map(clients.map((c) => [c.id, c.name]));
  const pageFilters = filters as Record<string, string | undefined>;
  return (
    <Page ctx={ctx} title="Conversion sends">
      <p class="lead">The conversion audit log: every attempt to send a conversion to a platform, newest first.</p>
      {notice !== undefined ? <Notice kind={notice.kind}>{notice.text}</Notice> : null}
      <Filters filters={filters} clients={clients} scope={scope} />
      <ul class="inline">
        <li>
          <a href={listHref(`${SENDS_PATH}.csv`, { ...pageFilters, limit: undefined })} download>
            Export these rows as CSV
          </a>
        </li>
        <li>
          <a href={listHref(`${SENDS_PATH}/preview`, { client: filters.client })}>Preview the next pass</a>
        </li>
      </ul>
      <ScanNote page={page} what="attempts" />
      <DataTable
        caption="Send attempts, newest first"
        head={
          <tr>
            <th scope="col">Time</th>
            {scope.all ? <th scope="col">Client</th> : null}
            <th scope="col">Event</th>
            <th scope="col">Platform</th>
            <th scope="col">Status</th>
            <th scope="col">Reason</th>
            <th scope="col">Error code</th>
            <th scope="col">Message</th>
            <th scope="col" class="num">
              HTTP
            </th>
            <th scope="col">Request id</th>
            <th scope="col" class="num">
              Retries
            </th>
            <th scope="col">Next attempt</th>
            <th scope="col">
              <span class="visually-hidden">Action</span>
            </th>
          </tr>
        }
      >
        {page.rows.length === 0 ? (
          <tr>
            <td colSpan={scope.all ? 13 : 12}>{page.scan !== undefined ? 'None on this page.' : 'No sends match these filters.'}</td>
          </tr>
        ) : (
          page.rows.map((s) => (
            <tr key={s.id} id={`send-${s.id}`}>
              <td>
                <Time iso={s.attempted_at} />
              </td>
              {scope.all ? <td>{s.client_id === null ? '' : (clientNames.get(s.client_id) ?? s.client_id)}</td> : null}
              <td>
                <a href={`/dashboard/events/${encodeURIComponent(s.event_id)}`}>
                  <code>{s.event_id.slice(0, 8)}</code>
                  <span class="visually-hidden"> (event {s.event_id})</span>
                </a>
              </td>
              <td>
                {s.platform}
                {sendPath(s) !== undefined ? <span class="muted"> ({sendPath(s)})</span> : null}
              </td>
              <td>
                <Badge status={s.status} text={s.reason === RETRY_REQUESTED ? 'retry requested' : s.status} />
                {s.dry_run ? <span class="muted"> (dry run)</span> : null}
              </td>
              <td>{s.reason ?? ''}</td>
              <td>{s.error_code !== null ? <code>{s.error_code}</code> : ''}</td>
              <td class="wrap">
                <Detail s={s} />
              </td>
              <td class="num">{s.http_status ?? ''}</td>
              <td class="wrap">{s.request_id !== null ? <code>{s.request_id}</code> : ''}</td>
              <td class="num">{s.retry_count}</td>
              <td>
                <Time iso={s.next_attempt_at} />
              </td>
              <td>
                <Action action={actions.get(s.id)} ctx={ctx} back={back} />
              </td>
            </tr>
          ))
        )}
      </DataTable>
      <Pager path={SENDS_PATH} filters={pageFilters} page={page} label="Sends" />
    </Page>
  );
}

/**
 * The action of each attempt on the page: on the newest attempt of each outbox row shown, the
 * row's retry (admin and staff, a failed or dead row the window still allows), the reason it
 * cannot be retried, or its state since (due again after a retry).
 */
async function rowActions(deps: DashboardDeps, page: KeysetPage<SendAttempt>, writer: boolean, now: Date): Promise<Map<number, RowAction>> {
  const actions = new Map<number, RowAction>();
  if (page.rows.length === 0) return actions;
  const rows = await deps.store.outbox.forEvents(page.rows.map((s) => s.event_id));
  const byKey = new Map(rows.map((r) => [`${r.event_id}\u0000${r.platform}`, r]));
  const retryable = rows.filter((r) => RETRYABLE_STATUSES.includes(r.status));
  const events: Map<string, StoredEvent> = writer && retryable.length > 0 ? await deps.store.events.getMany([...new Set(retryable.map((r) => r.event_id))]) : new Map();
  const seen = new Set<string>();
  for (const s of page.rows) {
    const key = `${s.event_id}\u0000${s.platform}`;
    const row = byKey.get(key);
    if (row === undefined || seen.has(key)) continue;
    seen.add(key);
    if (RETRYABLE_STATUSES.includes(row.status)) {
      if (!writer) continue;
      const verdict: RetryVerdict = retryVerdict(row, events.get(row.event_id), now);
      actions.set(s.id, verdict.ok ? { kind: 'retry', outboxId: row.id } : { kind: 'refused', reason: verdict.reason });
    } else if (s.status !== row.status && RETRYABLE_STATUSES.includes(s.status)) {
      actions.set(s.id, { kind: 'state', row });
    }
  }
  return actions;
}

function PreviewPage({ ctx, preview, clients, scope, client }: { ctx: PageContext; preview: PassPreview; clients: Client[]; scope: Scope; client: string | undefined }) {
  const clientNames = new Map(clients.map((c) => [c.id, c.name]));
  const actions = ['send', 'dry_run', 'skipped', 'dead', 'removed'] as const;
  const counts = new Map<string, number>();
  for (const item of preview.items) counts.set(`${item.claim.platform}:${item.action}`, (counts.get(`${item.claim.platform}:${item.action}`) ?? 0) + 1);
  const label: Record<(typeof actions)[number], string> = { send: 'would be sent', dry_run: 'dry run (validated, not delivered)', skipped: 'would be skipped', dead: 'would be given up (dead)', removed: 'no connection: removed, not recorded' };
  return (
    <Page ctx={ctx} title="Preview of the next pass">
      <p>
        <a href={listHref(SENDS_PATH, { client })}>← Conversion sends</a>
      </p>
      <p class="lead">
        What a send pass run now (<Time iso={preview.at} />) would do with the conversions due, checked as the pass checks them before sending: consent, the
        connection, the click IDs each platform needs, the dedup window. Nothing is sent. What a platform then answers is its own.
      </p>
      {scope.all ? (
        <form method="get" action={`${SENDS_PATH}/preview`} class="filters" aria-label="Preview one client">
          <div class="form-grid">
            <label>
              Client
              <select name="client">
                <option value="">All clients</option>
                {clients.map((c) => (
                  <option key={c.id} value={c.id} selected={client === c.id}>
                    {c.name}
                  </option>
                ))}
              </select>
            </label>
          </div>
          <div class="actions">
            <button type="submit">Preview</button>
          </div>
        </form>
      ) : null}
      {preview.held.length > 0 ? (
        <Notice kind="warn">
          {preview.held.map((h) => (
            <p key={h.connection_id}>
              {clientNames.get(h.client_id) ?? h.client_id}: {h.platform} is paused{h.reason !== undefined ? ` (${h.reason})` : ''}; {h.waiting} conversion
              {h.waiting === 1 ? '' : 's'} wait for it and are not in this pass.
            </p>
          ))}
        </Notice>
      ) : null}
      <h2>Summary</h2>
      <DataTable
        caption="Due conversions per platform and outcome"
        head={
          <tr>
            <th scope="col">Platform</th>
            {actions.map((a) => (
              <th key={a} scope="col" class="num">
                {label[a]}
              </th>
            ))}
          </tr>
        }
      >
        {PLATFORM_IDS.map((p) => (
          <tr key={p}>
            <th scope="row">{p}</th>
            {actions.map((a) => (
              <td key={a} class="num">
                {counts.get(`${p}:${a}`) ?? 0}
              </td>
            ))}
          </tr>
        ))}
      </DataTable>
      {preview.more ? <p class="hint">More conversions are due than the {preview.items.length} shown; the pass takes them all.</p> : null}
      <h2>Due conversions</h2>
      <DataTable
        caption="Due conversions and what the pass would do"
        head={
          <tr>
            <th scope="col">Event</th>
            {scope.all ? <th scope="col">Client</th> : null}
            <th scope="col">Platform</th>
            <th scope="col">Now</th>
            <th scope="col" class="num">
              Attempts so far
            </th>
            <th scope="col">Due</th>
            <th scope="col">The pass would</th>
            <th scope="col">Why</th>
          </tr>
        }
      >
        {preview.items.length === 0 ? (
          <tr>
            <td colSpan={scope.all ? 8 : 7}>Nothing is due: a pass run now would send nothing.</td>
          </tr>
        ) : (
          preview.items.map((item) => (
            <tr key={item.claim.id} data-event={item.claim.event_id} data-platform={item.claim.platform} data-action={item.action} {...(item.reason !== undefined ? { 'data-reason': item.reason } : {})}>
              <td>
                <a href={`/dashboard/events/${encodeURIComponent(item.claim.event_id)}`}>
                  <code>{item.claim.event_id.slice(0, 8)}</code>
                  <span class="visually-hidden"> (event {item.claim.event_id})</span>
                </a>
              </td>
              {scope.all ? <td>{clientNames.get(item.claim.client_id) ?? item.claim.client_id}</td> : null}
              <td>{item.claim.platform}</td>
              <td>
                <Badge status={item.claim.status} />
              </td>
              <td class="num">{item.claim.attempts}</td>
              <td>
                <Time iso={item.claim.due_at} />
              </td>
              <td>
                <Badge status={item.action === 'send' ? 'sent' : item.action === 'dry_run' ? 'warn' : item.action === 'removed' ? 'skipped' : item.action} text={label[item.action]} />
              </td>
              <td class="wrap">{[item.reason, item.message].filter((x) => x !== undefined).join(': ')}</td>
            </tr>
          ))
        )}
      </DataTable>
    </Page>
  );
}

/** The columns of the CSV export, in order. */
export const CSV_COLUMNS = [
  'attempted_at',
  'client_id',
  'client_name',
  'event_id',
  'platform',
  'status',
  'dry_run',
  'reason',
  'error_code',
  'error_message',
  'message',
  'http_status',
  'request_id',
  'retry_count',
  'next_attempt_at',
  'dedup_key',
  'batch_size',
  'connection_id',
  'pass_id',
] as const;

/** Rows per read of the export: it reads page after page, by keyset, until the last. */
const EXPORT_PAGE_ROWS = 1000;

/** Writes a chunk, waiting for the socket to drain when its buffer is full. */
async function write(res: Response, chunk: string): Promise<void> {
  if (!res.write(chunk)) await new Promise<void>((resolve) => res.once('drain', resolve));
}

export function addSends(router: Router, deps: DashboardDeps): void {
  router.get('/sends', async (req, res) => {
    const ctx = pageContext(res);
    const scope = scopeOf(ctx.user);
    const { filters, query } = await readFilters(deps, scope, req);
    const cursor = cursorOf(req);
    const page = await readList(() => deps.store.sends.search({ ...query, limit: pageRows(req), ...(cursor !== undefined ? { cursor } : {}) }));
    const [clients, actions] = await Promise.all([visibleClients(deps.store, scope), rowActions(deps, page, canWrite(ctx.user), deps.now())]);
    const retried = param(req, 'retried');
    const notice = retried !== undefined && /^\d+$/.test(retried) ? { kind: 'ok' as const, text: 'Retry requested: the send is due again now and goes out with the next pass.' } : undefined;
    const back = listHref(SENDS_PATH, { ...(filters as Record<string, string | undefined>), ...(cursor !== undefined && 'after' in cursor ? { after: cursor.after } : {}), ...(cursor !== undefined && 'before' in cursor ? { before: cursor.before } : {}) });
    render(res, SendsList({ ctx, filters, clients, page, actions, scope, back, ...(notice !== undefined ? { notice } : {}) }));
  });

  router.post('/sends/retry', async (req, res) => {
    const ctx = pageContext(res);
    requireWrite(ctx.user);
    const body = req.body as Record<string, unknown>;
    const raw = typeof body['outbox_id'] === 'string' ? body['outbox_id'] : '';
    if (!/^\d{1,15}$/.test(raw)) throw new DashboardHttpError(400, 'Which send? The form lost its outbox_id; reload the page.');
    const row = await deps.store.outbox.get(Number(raw));
    if (row === undefined) throw new DashboardHttpError(404, 'There is no such send.');
    const now = deps.now();
    const event = await deps.store.events.get(row.event_id);
    const verdict = retryVerdict(row, event, now);
    if (!verdict.ok || event === undefined) throw new DashboardHttpError(409, `Not retried: ${verdict.ok ? 'the event is no longer stored.' : verdict.reason}`);
    const connection = await deps.store.connections.get(event.client_id, row.platform);
    const done = await deps.store.outbox.retryNow({ id: row.id, now, record: retryRecord(row, event, ctx.user, connection?.id, now) });
    if (!done) throw new DashboardHttpError(409, 'Not retried: it changed meanwhile (already due again, or a pass holds it). Reload the page.');
    deps.logger.info({ user_id: ctx.user.id, outbox_id: row.id, event_id: row.event_id, platform: row.platform }, 'dashboard: retry requested');
    const back = safeNext(body['back']);
    const target = back.startsWith(SENDS_PATH) || back.startsWith('/dashboard/events') ? back : SENDS_PATH;
    res.redirect(303, `${target}${target.includes('?') ? '&' : '?'}retried=${row.id}`);
  });

  router.get('/sends/preview', async (req, res) => {
    const ctx = pageContext(res);
    const scope = scopeOf(ctx.user);
    const client = await listClient(deps.store, scope, param(req, 'client'));
    const [preview, clients] = await Promise.all([previewNextPass(deps.store, deps.now(), client), visibleClients(deps.store, scope)]);
    render(res, PreviewPage({ ctx, preview, clients, scope, client: scope.all ? client : undefined }));
  });

  router.get('/sends.csv', async (req, res) => {
    const ctx = pageContext(res);
    const scope = scopeOf(ctx.user);
    const { query } = await readFilters(deps, scope, req);
    const clients = new Map((await visibleClients(deps.store, scope)).map((c) => [c.id, c.name]));
    // The first page is read before the headers go, so a bad filter is still a 400 page.
    let page = await readList(() => deps.store.sends.search({ ...query, limit: EXPORT_PAGE_ROWS, scan_limit: 50 * EXPORT_PAGE_ROWS }));
    const stamp = deps.now().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
    res.status(200);
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="pruuv-sends-${stamp}.csv"`);
    await write(res, csvLine(CSV_COLUMNS));
    for (;;) {
      await write(
        res,
        page.rows
          .map((s) =>
            csvLine([
              s.attempted_at,
              s.client_id,
              s.client_id === null ? null : (clients.get(s.client_id) ?? null),
              s.event_id,
              s.platform,
              s.status,
              s.dry_run,
              s.reason,
              s.error_code,
              s.error_message,
              s.message,
              s.http_status,
              s.request_id,
              s.retry_count,
              s.next_attempt_at,
              s.dedup_key,
              s.batch_size,
              s.connection_id,
              s.pass_id,
            ]),
          )
          .join(''),
      );
      if (page.next === undefined) break;
      const after = page.next;
      page = await deps.store.sends.search({ ...query, limit: EXPORT_PAGE_ROWS, scan_limit: 50 * EXPORT_PAGE_ROWS, cursor: { after } });
    }
    res.end();
  });
}
