/**
 * Events (issue 11, page 5): the funnel events of the clients in scope, newest first, filtered
 * by client, stage, source, received day range, exact reference and click IDs, paginated by
 * keyset (`events.search`); and one event: its attribution (click IDs with their click times,
 * UTMs, landings, what the join inherited and from which event), its hashed identifiers,
 * consent, and its send status per platform with a link to its attempts in the audit log (a
 * platform without a row: the client has, or had, no connection for it, so nothing was sent).
 * A client user sees its own client's events only: the client is part of every query, and
 * another client's event answers 404.
 *
 * Held events (beacons without a browser's signals, `domain/beacon-signals.ts`): their list per
 * client at `/events/held`, the reason on an event's page, and for admins and staff the release
 * of one event or of every held event of a client (their conversions go with the next pass).
 */
import type { Request, Router } from 'express';
import type { Platform } from '@pruuv/sender';
import { CLICK_IDS, UTMS } from '../../domain/join.js';
import { OUTBOX_PLATFORMS } from '../../domain/outbox.js';
import type { Client, EventSource, KeysetPage, OutboxRow, Stage, StoredEvent } from '../../store/types.js';
import { render } from '../http.js';
import { pageContext, type DashboardDeps } from '../index.js';
import { cursorOf, dayRange, listClient, listHref, oneOf, pageRows, param, readList, text } from '../list-query.js';
import { safeNext } from '../http.js';
import { canWrite, DashboardHttpError, requireWrite, scopeOf, visibleClients, type Scope } from '../scope.js';
import { Badge, Csrf, Notice, Page, type PageContext } from '../views/layout.js';
import { Choice, DataTable, DayRange, FilterForm, Pager, ScanNote, Time } from '../views/list.js';

/** Where the pages live. */
export const EVENTS_PATH = '/dashboard/events';

const SOURCES: readonly EventSource[] = ['pixel', 'webhook'];

/** The filters of the list as the query string gives them (and as its links write them back). */
interface EventFilters {
  client?: string;
  stage?: string;
  source?: EventSource;
  from?: string;
  to?: string;
  reference?: string;
  click?: 'yes' | 'no';
  limit?: string;
}

/** An event's click IDs, by name, for the list's column. */
function clickNames(event: StoredEvent): string[] {
  const names: string[] = CLICK_IDS.filter((k) => event.clicks[k] !== undefined);
  if (event.fbc !== undefined && event.clicks.fbclid === undefined) names.push('fbc');
  return names;
}

function value(event: StoredEvent): string {
  if (event.revenue_value === undefined) return '';
  return `${event.revenue_value}${event.currency !== undefined ? ` ${event.currency}` : ''}`;
}

interface ListView {
  ctx: PageContext;
  filters: EventFilters;
  clients: Client[];
  stages: Stage[];
  page: KeysetPage<StoredEvent>;
  scope: Scope;
}

function Filters({ filters, clients, stages, scope }: Pick<ListView, 'filters' | 'clients' | 'stages' | 'scope'>) {
  const clientNames = new Map(clients.map((c) => [c.id, c.name]));
  const stageText = (s: Stage) => `${scope.all && filters.client === undefined ? `${clientNames.get(s.client_id) ?? s.client_id}: ${s.name}` : s.name} (${s.key})`;
  return (
    <FilterForm path={EVENTS_PATH} label="Filter events">
      {scope.all ? <Choice label="Client" name="client" any="All clients" options={clients.map((c) => ({ value: c.id, text: c.name }))} selected={filters.client} /> : null}
      <Choice label="Stage" name="stage" any="All stages" options={stages.map((s) => ({ value: s.id, text: stageText(s) }))} selected={filters.stage} />
      <Choice label="Source" name="source" any="Pixel and webhook" options={SOURCES.map((s) => ({ value: s, text: s }))} selected={filters.source} />
      <DayRange what="Received" from={filters.from} to={filters.to} />
      <label>
        Reference (exact)
        <input type="search" name="reference" value={filters.reference ?? ''} maxLength={500} autocomplete="off" />
      </label>
      <Choice
        label="Click ID"
        name="click"
        any="With or without"
        options={[
          { value: 'yes', text: 'With a click ID' },
          { value: 'no', text: 'Without' },
        ]}
        selected={filters.click}
      />
    </FilterForm>
  );
}

function EventsList({ ctx, filters, clients, stages, page, scope }: ListView) {
  const clientNames = new Map(clients.map((c) => [c.id, c.name]));
  const stageNames = new Map(stages.map((s) => [s.id, s.name]));
  const pageFilters = filters as Record<string, string | undefined>;
  return (
    <Page ctx={ctx} title="Events">
      <p class="lead">Funnel events as received, newest first. Open one to see its attribution and where it was sent.</p>
      <Filters filters={filters} clients={clients} stages={stages} scope={scope} />
      <ScanNote page={page} what="events" />
      <DataTable
        caption="Events, newest first"
        head={
          <tr>
            <th scope="col">Received</th>
            {scope.all ? <th scope="col">Client</th> : null}
            <th scope="col">Stage</th>
            <th scope="col">Source</th>
            <th scope="col">Reference</th>
            <th scope="col">Click IDs</th>
            <th scope="col">Consent</th>
            <th scope="col" class="num">
              Value
            </th>
          </tr>
        }
      >
        {page.rows.length === 0 ? (
          <tr>
            <td colSpan={scope.all ? 8 : 7}>{page.scan !== undefined ? 'None on this page.' : 'No events match these filters.'}</td>
          </tr>
        ) : (
          page.rows.map((e) => (
            <tr key={e.id}>
              <td>
                <a href={`${EVENTS_PATH}/${encodeURIComponent(e.id)}`}>
                  <Time iso={e.received_at} />
                </a>
              </td>
              {scope.all ? <td>{clientNames.get(e.client_id) ?? e.client_id}</td> : null}
              <td>{stageNames.get(e.stage_id) ?? e.stage_key}</td>
              <td>{e.source}</td>
              <td class="wrap">
                <a href={`${EVENTS_PATH}/${encodeURIComponent(e.id)}`}>{e.reference}</a>
              </td>
              <td>{clickNames(e).join(', ') || <span class="muted">none</span>}</td>
              <td>
                <Badge status={e.consent === 'denied' ? 'bad' : e.consent === 'granted' ? 'ok' : 'muted'} text={e.consent} />
              </td>
              <td class="num">{value(e)}</td>
            </tr>
          ))
        )}
      </DataTable>
      <Pager path={EVENTS_PATH} filters={pageFilters} page={page} label="Events" />
    </Page>
  );
}

/** The release of one held event, or of every held event of a client (admins and staff only). */
function ReleaseForm({ ctx, eventId, clientId, count, back }: { ctx: PageContext; eventId?: string; clientId?: string; count?: number; back: string }) {
  if (!canWrite(ctx.user)) return <p class="hint">Held: its conversion waits until an admin or staff member releases it.</p>;
  const what = eventId !== undefined ? 'this event' : `these ${count ?? ''} held events`;
  return (
    <form method="post" action={`${EVENTS_PATH}/release`} class="inline" data-confirm={`Release ${what}? Their conversions go to the ad platforms with the next send pass.`}>
      <Csrf token={ctx.csrf} />
      {eventId !== undefined ? <input type="hidden" name="event_id" value={eventId} /> : null}
      {clientId !== undefined ? <input type="hidden" name="client" value={clientId} /> : null}
      <input type="hidden" name="back" value={back} />
      <button type="submit">{eventId !== undefined ? 'Release this event' : `Release all ${count ?? ''} held events of this client`}</button>
    </form>
  );
}

interface HeldView {
  ctx: PageContext;
  client: Client;
  events: StoredEvent[];
  stages: Stage[];
  released?: number;
}

/** The held events of one client, newest first, with their reason and user agent, and the release of all of them. */
function HeldList({ ctx, client, events, stages, released }: HeldView) {
  const stageNames = new Map(stages.map((st) => [st.id, st.name]));
  const back = listHref(`${EVENTS_PATH}/held`, { client: client.id });
  return (
    <Page ctx={ctx} title="Held events">
      <p>
        <a href={listHref(EVENTS_PATH, { client: client.id })}>← Events of {client.name}</a>
      </p>
      {released !== undefined ? <Notice kind="ok">Released {released}: their conversions go with the next send pass.</Notice> : null}
      <p class="lead">
        Beacons of {client.name} stored but held: they lacked what a browser sends (a bot’s user agent, no fetch metadata), so their conversions are not sent until
        released. An old browser’s real visit can be among them (Safari before 16.4); a flood of forged ones usually shares a user agent.
      </p>
      <DataTable
        caption="Held events, newest first"
        head={
          <tr>
            <th scope="col">Received</th>
            <th scope="col">Stage</th>
            <th scope="col">Reference</th>
            <th scope="col">Click IDs</th>
            <th scope="col">Reason</th>
            <th scope="col">User agent</th>
          </tr>
        }
      >
        {events.length === 0 ? (
          <tr>
            <td colSpan={6}>No held events.</td>
          </tr>
        ) : (
          events.map((e) => (
            <tr key={e.id}>
              <td>
                <a href={`${EVENTS_PATH}/${encodeURIComponent(e.id)}`}>
                  <Time iso={e.received_at} />
                </a>
              </td>
              <td>{stageNames.get(e.stage_id) ?? e.stage_key}</td>
              <td class="wrap">{e.reference}</td>
              <td>{clickNames(e).join(', ') || <span class="muted">none</span>}</td>
              <td>
                <code>{e.held_reason}</code>
              </td>
              <td class="wrap">{e.user_agent ?? <span class="muted">none</span>}</td>
            </tr>
          ))
        )}
      </DataTable>
      {events.length > 0 ? <ReleaseForm ctx={ctx} clientId={client.id} count={events.length} back={back} /> : null}
    </Page>
  );
}

/** Held events listed per page (the release of a client's takes every one, listed or not). */
const HELD_PAGE_ROWS = 500;

/** A definition list of the fields that are set. */
function Facts({ items }: { items: Array<[string, unknown]> }) {
  const shown = items.filter(([, v]) => v !== undefined && v !== null && v !== '');
  if (shown.length === 0) return <p class="muted">None.</p>;
  return (
    <dl class="facts">
      {shown.map(([label, v]) => [<dt key={`${label}-t`}>{label}</dt>, <dd key={`${label}-d`}>{v as string}</dd>])}
    </dl>
  );
}

/** A hash, monospaced and wrapping. */
const Hash = ({ value }: { value: string | undefined }) => (value === undefined ? undefined : <code>{value}</code>);

interface DetailView {
  ctx: PageContext;
  event: StoredEvent;
  client: Client | undefined;
  stage: Stage | undefined;
  outbox: OutboxRow[];
  /** The platforms the client has a connection for now (any state). */
  connected: ReadonlySet<Platform>;
}

/**
 * What the page says of a platform without an outbox row: a pass that found no connection for it
 * removed the row unsent and recorded nothing (the audit log records sends). True whether the row
 * was removed or never there; the client's connections now tell which sentence applies.
 */
export function noRowText(platform: Platform, connectedNow: boolean): string {
  return connectedNow
    ? `Not sent: this client had no ${platform} connection when this conversion was due, so nothing was sent or recorded. Conversions due since it was connected are sent.`
    : `No connection: this client has no ${platform} connection, so nothing is sent to ${platform} and nothing is recorded. Connect it in Connections to send later conversions.`;
}

function Touch({ label, touch }: { label: string; touch: StoredEvent['first_touch'] }) {
  if (touch === undefined) return null;
  const params = Object.entries(touch.params ?? {});
  return (
    <div>
      <h3>{label}</h3>
      <Facts
        items={[
          ['Landed', <Time iso={touch.ts} />],
          ['Page', <code>{touch.url}</code>],
          ['Parameters', params.length > 0 ? params.map(([k, v]) => `${k}=${String(v)}`).join(', ') : undefined],
        ]}
      />
    </div>
  );
}

function EventDetail({ ctx, event, client, stage, outbox, connected }: DetailView) {
  const withRow = new Set(outbox.map((r) => r.platform));
  const withoutRow = OUTBOX_PLATFORMS.filter((p) => !withRow.has(p));
  const inherited = new Set(event.inherited?.fields ?? []);
  const from = event.inherited?.from_event_id;
  const fromLink = from === undefined ? null : <a href={`${EVENTS_PATH}/${encodeURIComponent(from)}`}>{from}</a>;
  const mark = (field: string) => (inherited.has(field) ? <Badge status="muted" text="inherited" /> : null);
  const clicks = CLICK_IDS.filter((k) => event.clicks[k] !== undefined);
  const utms = UTMS.filter((k) => event.utm[k] !== undefined);
  return (
    <Page ctx={ctx} title="Event">
      <p>
        <a href={listHref(EVENTS_PATH, { client: event.client_id })}>← Events of {client?.name ?? event.client_id}</a>
      </p>
      <h2>The event</h2>
      <Facts
        items={[
          ['Event id (dedup key)', <code>{event.id}</code>],
          ['Client', client?.name ?? event.client_id],
          ['Stage', stage !== undefined ? `${stage.name} (${stage.key})` : event.stage_key],
          ['Source', event.source],
          ['Reference', <code>{event.reference}</code>],
          ['Item reference', event.item_reference],
          ['Value', value(event)],
          ['Conversion time', event.data_timestamp !== undefined ? <Time iso={event.data_timestamp} /> : undefined],
          ['Received', <Time iso={event.received_at} />],
          ['Browser clock at track()', event.client_time],
          ['Consent', <Badge status={event.consent === 'denied' ? 'bad' : event.consent === 'granted' ? 'ok' : 'muted'} text={event.consent} />],
          ['Held', event.held_reason === undefined ? undefined : event.released_at === undefined ? <Badge status="warn" text={`held: ${event.held_reason}`} /> : [`released `, <Time iso={event.released_at} />, ` (was held: ${event.held_reason})`]],
          ['User agent', event.user_agent],
        ]}
      />
      {event.held_reason !== undefined && event.released_at === undefined ? <ReleaseForm ctx={ctx} eventId={event.id} back={`${EVENTS_PATH}/${encodeURIComponent(event.id)}`} /> : null}

      <h2>Attribution</h2>
      {event.inherited !== undefined ? (
        <p>
          This event came without click IDs; the attribution join copied {[...inherited].join(', ') || 'nothing'} from the client’s earlier event {fromLink}.
        </p>
      ) : null}
      <DataTable
        caption="Click IDs"
        head={
          <tr>
            <th scope="col">Click ID</th>
            <th scope="col">Value</th>
            <th scope="col">Click time (first seen)</th>
            <th scope="col">From</th>
          </tr>
        }
      >
        {clicks.length === 0 && event.fbc === undefined ? (
          <tr>
            <td colSpan={4}>No click ID.</td>
          </tr>
        ) : null}
        {clicks.map((k) => (
          <tr key={k}>
            <th scope="row">{k}</th>
            <td class="wrap">
              <code>{event.clicks[k]?.value}</code>
            </td>
            <td>
              <Time iso={event.clicks[k]?.ts} />
            </td>
            <td>{inherited.has(k) ? fromLink : 'this event'}</td>
          </tr>
        ))}
        {event.fbc !== undefined ? (
          <tr>
            <th scope="row">fbc (Meta’s _fbc)</th>
            <td class="wrap">
              <code>{event.fbc}</code>
            </td>
            <td>
              <span class="muted">in the value</span>
            </td>
            <td>{inherited.has('fbc') ? fromLink : 'this event'}</td>
          </tr>
        ) : null}
      </DataTable>
      <h3>Browser and campaign</h3>
      <Facts
        items={[
          ['fbp (Meta browser id)', event.fbp !== undefined ? [<code>{event.fbp}</code>, ' ', mark('fbp')] : undefined],
          ['ttp (TikTok browser id)', event.ttp !== undefined ? [<code>{event.ttp}</code>, ' ', mark('ttp')] : undefined],
          ...utms.map((k): [string, unknown] => [k, [<code>{event.utm[k]}</code>, ' ', mark(k)]]),
          ['Page', event.page_url !== undefined ? <code>{event.page_url}</code> : undefined],
          ['Referrer', event.referrer !== undefined ? <code>{event.referrer}</code> : undefined],
        ]}
      />
      <Touch label="First landing" touch={event.first_touch} />
      <Touch label="Latest landing" touch={event.last_touch} />

      <h2>Identifiers</h2>
      <p class="hint">Email and phone arrive hashed (SHA-256) or are hashed before they are stored: only the hashes exist.</p>
      <Facts
        items={[
          ['Email, SHA-256', Hash({ value: event.email_sha256 })],
          ['Email, SHA-256 as Google normalises it', Hash({ value: event.email_sha256_google })],
          ['Phone, SHA-256 (E.164)', Hash({ value: event.phone_sha256 })],
          ['Phone, SHA-256 as Meta normalises it', Hash({ value: event.phone_sha256_meta })],
          ['Visitor id (pixel)', event.visitor_id !== undefined ? <code>{event.visitor_id}</code> : undefined],
          ['IP address', event.client_ip !== undefined ? <code>{event.client_ip}</code> : undefined],
          ['User agent', event.user_agent !== undefined ? <code>{event.user_agent}</code> : undefined],
        ]}
      />
      {Object.keys(event.demographics).length > 0 ? (
        <>
          <h3>Demographics (reporting only)</h3>
          <Facts items={Object.entries(event.demographics).map(([k, v]): [string, unknown] => [k, v])} />
        </>
      ) : null}

      <h2>Sends</h2>
      <DataTable
        caption="Send status per platform"
        head={
          <tr>
            <th scope="col">Platform</th>
            <th scope="col">Status</th>
            <th scope="col" class="num">
              Attempts
            </th>
            <th scope="col">First attempt</th>
            <th scope="col">Due / finished</th>
            <th scope="col">Last error</th>
            <th scope="col">Audit log</th>
          </tr>
        }
      >
        {outbox.map((row) => (
          <tr key={row.id}>
            <th scope="row">{row.platform}</th>
            <td>
              <Badge status={row.status} />
              {row.lease_owner !== undefined ? <span class="muted"> (being sent)</span> : null}
            </td>
            <td class="num">{row.attempts}</td>
            <td>
              <Time iso={row.first_attempt_at} />
            </td>
            <td>{row.finished_at !== undefined ? <Time iso={row.finished_at} /> : ['due ', <Time iso={row.due_at} />]}</td>
            <td class="wrap">{row.last_error ?? ''}</td>
            <td>
              <a href={listHref('/dashboard/sends', { event: event.id, platform: row.platform })}>
                Attempts<span class="visually-hidden"> on {row.platform}</span>
              </a>
            </td>
          </tr>
        ))}
        {withoutRow.map((platform) => (
          <tr key={platform} data-platform={platform}>
            <th scope="row">{platform}</th>
            <td>
              <Badge status="skipped" text="no connection" />
            </td>
            <td class="num">0</td>
            <td />
            <td />
            <td class="wrap" colSpan={2}>
              {noRowText(platform, connected.has(platform))}
            </td>
          </tr>
        ))}
      </DataTable>
    </Page>
  );
}

/** The filters of a request, checked; the client and stage within the user's scope (404 otherwise). */
async function readFilters(deps: DashboardDeps, scope: Scope, req: Request): Promise<{ filters: EventFilters; clientId?: string; stage?: Stage }> {
  const clientId = await listClient(deps.store, scope, param(req, 'client'));
  const stageId = param(req, 'stage');
  let stage: Stage | undefined;
  if (stageId !== undefined) {
    stage = await deps.store.stages.get(stageId);
    if (stage === undefined || (!scope.all && stage.client_id !== scope.clientId)) throw new DashboardHttpError(404, 'There is no such stage.');
  }
  const filters: EventFilters = {};
  if (clientId !== undefined && scope.all) filters.client = clientId;
  if (stage !== undefined) filters.stage = stage.id;
  const source = oneOf(req, 'source', SOURCES);
  if (source !== undefined) filters.source = source;
  const range = dayRange(req);
  if (range.fromDay !== undefined) filters.from = range.fromDay;
  if (range.toDay !== undefined) filters.to = range.toDay;
  const reference = text(req, 'reference');
  if (reference !== undefined) filters.reference = reference;
  const click = oneOf(req, 'click', ['yes', 'no'] as const);
  if (click !== undefined) filters.click = click;
  if (param(req, 'limit') !== undefined) filters.limit = String(pageRows(req));
  return { filters, ...(clientId !== undefined ? { clientId } : {}), ...(stage !== undefined ? { stage } : {}) };
}

export function addEvents(router: Router, deps: DashboardDeps): void {
  router.get('/events', async (req, res) => {
    const ctx = pageContext(res);
    const scope = scopeOf(ctx.user);
    const { filters, clientId, stage } = await readFilters(deps, scope, req);
    const range = dayRange(req);
    const cursor = cursorOf(req);
    const page = await readList(() =>
      deps.store.events.search({
        limit: pageRows(req),
        ...(clientId !== undefined ? { client_id: clientId } : {}),
        ...(stage !== undefined ? { stage_id: stage.id } : {}),
        ...(filters.source !== undefined ? { source: filters.source } : {}),
        ...(filters.reference !== undefined ? { reference: filters.reference } : {}),
        ...(range.from !== undefined ? { received_from: range.from } : {}),
        ...(range.before !== undefined ? { received_before: range.before } : {}),
        ...(filters.click !== undefined ? { has_click_id: filters.click === 'yes' } : {}),
        ...(cursor !== undefined ? { cursor } : {}),
      }),
    );
    const clients = await visibleClients(deps.store, scope);
    const stages = await deps.store.stages.list(clientId);
    render(res, EventsList({ ctx, filters, clients, stages, page, scope }));
  });

  router.get('/events/held', async (req, res) => {
    const ctx = pageContext(res);
    const scope = scopeOf(ctx.user);
    const client = await listClient(deps.store, scope, param(req, 'client'));
    if (client === undefined) throw new DashboardHttpError(400, 'Which client? Open the held events from the overview.');
    const clientRecord = await deps.store.clients.get(client);
    if (clientRecord === undefined) throw new DashboardHttpError(404, 'There is no such client.');
    const [events, stages] = await Promise.all([deps.store.events.list({ held: true, client_id: client, limit: HELD_PAGE_ROWS }), deps.store.stages.list(client)]);
    const released = param(req, 'released');
    render(res, HeldList({ ctx, client: clientRecord, events, stages, ...(released !== undefined && /^\d{1,9}$/.test(released) ? { released: Number(released) } : {}) }));
  });

  router.post('/events/release', async (req, res) => {
    const ctx = pageContext(res);
    requireWrite(ctx.user);
    const body = req.body as Record<string, unknown>;
    const eventId = typeof body['event_id'] === 'string' && body['event_id'].length <= 100 ? body['event_id'] : undefined;
    const client = typeof body['client'] === 'string' && body['client'].length <= 100 ? body['client'] : undefined;
    if (eventId === undefined && client === undefined) throw new DashboardHttpError(400, 'Which events? The form lost its event or client; reload the page.');
    const released = await deps.store.events.release({ ...(eventId !== undefined ? { ids: [eventId] } : {}), ...(client !== undefined ? { client_id: client } : {}) }, deps.now());
    deps.logger.info({ user_id: ctx.user.id, released: released.length, ...(client !== undefined ? { client_id: client } : {}) }, 'dashboard: held events released');
    const back = safeNext(body['back']);
    const target = back.startsWith(EVENTS_PATH) ? back : EVENTS_PATH;
    res.redirect(303, `${target}${target.includes('?') ? '&' : '?'}released=${released.length}`);
  });

  router.get('/events/:id', async (req, res) => {
    const ctx = pageContext(res);
    const scope = scopeOf(ctx.user);
    const id = String(req.params['id']);
    const event = id.length > 100 ? undefined : scope.all ? await deps.store.events.get(id) : await deps.store.events.getOfClient(id, scope.clientId);
    if (event === undefined) throw new DashboardHttpError(404, 'There is no such event.');
    const [client, stage, outbox, connections] = await Promise.all([
      deps.store.clients.get(event.client_id),
      deps.store.stages.get(event.stage_id),
      deps.store.outbox.forEvent(event.id),
      deps.store.connections.list({ client_id: event.client_id }),
    ]);
    const connected = new Set(connections.map((c) => c.platform));
    render(res, EventDetail({ ctx, event, client, stage, outbox, connected }));
  });
}
