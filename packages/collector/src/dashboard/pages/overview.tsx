/**
 * Overview: what needs action across the clients in scope; then, for one client
 * (chosen by admin and staff, a client user's own) and one platform or all, the
 * last 30 UTC days: events received and conversions sent, failed, skipped and
 * dead, as a chart and as a table with the same figures; conversions per
 * platform; match-quality signals per platform; and the send schedule.
 *
 * Every figure comes from the daily roll-ups (`store.stats`), a few hundred rows
 * per view, so the page costs the same with a million events as with ten.
 */
import { nextSlotAfter, PLATFORM_IDS, platformAdapter, type Platform } from '@pruuv/sender';
import type { Request, Router } from 'express';
import type { Client, ConnectionRecord, SendRun } from '../../store/types.js';
import { dailyFigures, dayOf, lastDays, matchQuality, platformTotals, SHOWN_STATUSES, totals, type DayFigures, type MatchQuality, type Share, type StatusCounts } from '../figures.js';
import { render } from '../http.js';
import { pageContext, type DashboardDeps, type SendScheduleInfo } from '../index.js';
import { needsAction, type ActionItem } from '../needs-action.js';
import { DashboardHttpError, scopeOf, visibleClient, visibleClients } from '../scope.js';
import { JsonData } from '../views/json-data.js';
import { Badge, Notice, Page, type PageContext } from '../views/layout.js';

/** Colours of the chart's lines (WCAG AA on white, told apart by more than hue). */
const SERIES = [
  { key: 'events', label: 'Events received', color: '#57606a' },
  { key: 'sent', label: 'Sent', color: '#116329' },
  { key: 'failed', label: 'Failed', color: '#a40e26' },
  { key: 'skipped', label: 'Skipped', color: '#7d4e00' },
  { key: 'dead', label: 'Dead', color: '#6639ba' },
] as const satisfies ReadonlyArray<{ key: keyof DayFigures; label: string; color: string }>;

const STATUS_LABELS: Record<(typeof SHOWN_STATUSES)[number], string> = { sent: 'Sent', failed: 'Failed', skipped: 'Skipped', dead: 'Dead' };

interface OverviewView {
  ctx: PageContext;
  clients: Client[];
  client: Client | undefined;
  platform: Platform | undefined;
  days: DayFigures[];
  perPlatform: ReturnType<typeof platformTotals>;
  quality: MatchQuality[];
  connections: ConnectionRecord[];
  actions: ActionItem[];
  schedule: SendScheduleInfo;
  runs: SendRun[];
  now: Date;
}

const fmt = (n: number): string => n.toLocaleString('en-US');
const platformName = (p: Platform): string => platformAdapter(p).name;
/** `2026-03-02 03:00 UTC`. */
const utc = (iso: string): string => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
const utcSeconds = (iso: string): string => `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;

function percent(s: Share): string {
  return s.of === 0 ? '—' : `${Math.round((s.count / s.of) * 100)} %`;
}

function ShareCell({ share }: { share: Share }) {
  return (
    <td class="num">
      {percent(share)} <span class="hint">({fmt(share.count)})</span>
    </td>
  );
}

/** How long until `at`, roughly: `in 3 h`, `in 12 min`. */
function until(at: Date, now: Date): string {
  const minutes = Math.max(0, Math.round((at.getTime() - now.getTime()) / 60_000));
  if (minutes < 60) return `in ${minutes} min`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `in ${hours} h` : `in ${Math.round(hours / 24)} days`;
}

function ActionList({ actions, names, now }: { actions: ActionItem[]; names: Map<string, string>; now: Date }) {
  if (actions.length === 0) return <p>Nothing needs action.</p>;
  const clientName = (id: string): string => names.get(id) ?? id;
  const q = (id: string): string => encodeURIComponent(id);
  return (
    <ul class="plain">
      {actions.map((a) => {
        switch (a.kind) {
          case 'paused':
            return (
              <li key={`paused-${a.client_id}-${a.platform}`}>
                <Notice kind="bad">
                  <strong>
                    {clientName(a.client_id)}: {platformName(a.platform)}
                  </strong>{' '}
                  is paused{a.reason !== undefined ? `: ${a.reason}` : ''}. {fmt(a.waiting)}
                  {a.more ? ' or more conversions wait' : a.waiting === 1 ? ' conversion waits' : ' conversions wait'} for new credentials.{' '}
                  <a href={`/dashboard/connections?client=${q(a.client_id)}`}>Fix the connection</a>
                </Notice>
              </li>
            );
          case 'token_expiring':
            return (
              <li key={`token-${a.client_id}-${a.platform}`}>
                <Notice kind="warn">
                  <strong>
                    {clientName(a.client_id)}: {platformName(a.platform)}
                  </strong>
                  's access {Date.parse(a.expires_at) <= now.getTime() ? 'ended' : 'ends'} on {utc(a.expires_at)} unless someone reconnects it. <a href={`/dashboard/connections?client=${q(a.client_id)}#platform-${a.platform}`}>Reconnect</a>
                </Notice>
              </li>
            );
          case 'held':
            return (
              <li key={`held-${a.client_id}`}>
                <Notice kind="warn">
                  <strong>{clientName(a.client_id)}</strong>: {fmt(a.count)} pixel event{a.count === 1 ? ' is' : 's are'} held since {utc(a.oldest)}: the beacon
                  {a.count === 1 ? ' lacked' : 's lacked'} a browser's signals (a bot's user agent, no fetch metadata), so {a.count === 1 ? 'its conversion waits' : 'their conversions wait'} for a
                  release. <a href={`/dashboard/events/held?client=${q(a.client_id)}`}>Review the held events</a>
                </Notice>
              </li>
            );
          case 'throttled':
            return (
              <li key={`throttled-${a.client_id}`}>
                <Notice kind="warn">
                  <strong>{clientName(a.client_id)}</strong>: {fmt(a.address + a.site)} beacon{a.address + a.site === 1 ? ' was' : 's were'} answered 429 since {utc(a.since)} ({fmt(a.address)} by
                  the per-address limit, {fmt(a.site)} by the site's budget): a flood, or limits too low for the site's traffic (PRUUV_PIXEL_*). Real visitors' pixels send them again later.
                </Notice>
              </li>
            );
          case 'dead':
            return (
              <li key={`dead-${a.client_id}`}>
                <Notice kind="bad">
                  <strong>{clientName(a.client_id)}</strong>: {fmt(a.count)} conversion send{a.count === 1 ? ' is' : 's are'} dead since {a.since} (retries stopped; they will not go out by
                  themselves). <a href={`/dashboard/sends?status=dead&client=${q(a.client_id)}`}>See the dead sends</a>
                </Notice>
              </li>
            );
          case 'near_limit':
            return (
              <li key={`limit-${a.stage_id}`}>
                <Notice kind="warn">
                  <strong>
                    {clientName(a.client_id)}: {a.stage}
                  </strong>{' '}
                  took {fmt(a.last_hour)} of its {fmt(a.limit)} events in the last hour; beyond {fmt(a.limit)} its webhook answers 429 until a slot frees.{' '}
                  <a href={`/dashboard/events?client=${q(a.client_id)}&stage=${q(a.stage_id)}`}>See its events</a>
                </Notice>
              </li>
            );
          case 'quiet':
            return (
              <li key={`quiet-${a.stage_id}`}>
                <Notice kind="warn">
                  <strong>
                    {clientName(a.client_id)}: {a.stage}
                  </strong>{' '}
                  {a.last_event_at !== undefined ? `has had no event since ${utc(a.last_event_at)}.` : `has had no event since it was created on ${utc(a.created_at)}.`} Is the pixel or
                  the webhook still installed? <a href={`/dashboard/events?client=${q(a.client_id)}&stage=${q(a.stage_id)}`}>See its events</a>
                </Notice>
              </li>
            );
        }
      })}
    </ul>
  );
}

function Schedule({ schedule, runs, now, staff }: { schedule: SendScheduleInfo; runs: SendRun[]; now: Date; staff: boolean }) {
  const next = 'cron' in schedule ? nextSlotAfter(schedule.cron, now) : undefined;
  const last = runs[0];
  const summary = last?.summary ?? {};
  const count = (k: string): string => {
    const n = summary[k];
    return typeof n === 'number' ? fmt(n) : '0';
  };
  return (
    <dl class="facts">
      <dt>Next scheduled pass</dt>
      <dd>
        {'cron' in schedule ? (
          next !== undefined ? (
            <>
              {utc(next.toISOString())} ({until(next, now)}); schedule <code>{schedule.cron}</code> (<code>PRUUV_SEND_CRON</code>, UTC)
            </>
          ) : (
            <>
              none: the schedule <code>{schedule.cron}</code> has no next slot
            </>
          )
        ) : (
          <>every {Math.round(schedule.everyMs / 1000)} s (the demo's interval; not a schedule)</>
        )}
      </dd>
      <dt>Last scheduled pass</dt>
      <dd>
        {last === undefined ? (
          'none has run yet'
        ) : last.finished_at === undefined ? (
          <>
            slot {utc(last.slot)}: started {utcSeconds(last.started_at)}, not finished: running now, or its process stopped during it (what it had
            taken goes out again once its lease runs out)
          </>
        ) : (
          <>
            slot {utc(last.slot)} ({last.trigger === 'startup' ? 'caught up at start' : 'on schedule'}): <Badge status="ok" text="finished" />{' '}
            {utcSeconds(last.finished_at)}
            {staff && (
              <>
                ; every client: {count('claimed')} taken, {count('sent')} sent, {count('failed')} failed, {count('skipped')} skipped, {count('retrying')} to retry,{' '}
                {count('dead')} dead
              </>
            )}
          </>
        )}
      </dd>
    </dl>
  );
}

function StatusCells({ counts }: { counts: StatusCounts }) {
  return (
    <>
      {SHOWN_STATUSES.map((s) => (
        <td class="num" key={s}>
          {fmt(counts[s])}
        </td>
      ))}
    </>
  );
}

function OverviewPage(v: OverviewView) {
  const { ctx, clients, client, platform, days } = v;
  const names = new Map(clients.map((c) => [c.id, c.name]));
  const staff = ctx.user.role !== 'client';
  const sum = totals(days);
  const scopeLabel = platform === undefined ? 'all platforms' : platformName(platform);
  const chart = {
    utc: true,
    x: days.map((d) => Date.parse(`${d.day}T00:00:00.000Z`) / 1000),
    series: SERIES.map((s) => ({ label: s.label, color: s.color, values: days.map((d) => d[s.key]) })),
  };
  const connectionOf = new Map(v.connections.map((c) => [c.platform, c]));
  return (
    <Page ctx={ctx} title="Overview" chart={client !== undefined}>
      <h2>Needs action</h2>
      <ActionList actions={v.actions} names={names} now={v.now} />

      {client === undefined ? (
        <>
          <h2>Figures</h2>
          <p>
            No clients yet. {staff ? <a href="/dashboard/clients">Add the first one</a> : 'Ask your agency.'}
          </p>
        </>
      ) : (
        <>
          <h2 id="figures">
            {client.name}: the last {days.length} days
          </h2>
          <form class="form-grid" method="get" action="/dashboard">
            {staff && (
              <label>
                Client
                <select name="client">
                  {clients.map((c) => (
                    <option key={c.id} value={c.id} selected={c.id === client.id}>
                      {c.name}
                    </option>
                  ))}
                </select>
              </label>
            )}
            <label>
              Platform
              <select name="platform">
                <option value="" selected={platform === undefined}>
                  All platforms
                </option>
                {PLATFORM_IDS.map((p) => (
                  <option key={p} value={p} selected={p === platform}>
                    {platformName(p)}
                  </option>
                ))}
              </select>
            </label>
            <div>
              <button type="submit">Show</button>
            </div>
          </form>
          <p class="lead">
            UTC days, {days[0]?.day} to {days[days.length - 1]?.day}; conversions of {scopeLabel} (one event is one conversion per platform).
          </p>
          <div class="cards">
            {SERIES.map((s) => (
              <div class="card" key={s.key}>
                <div class="value">{fmt(sum[s.key])}</div>
                <div class="label">{s.key === 'events' ? s.label : `Conversions ${s.label.toLowerCase()}`}</div>
              </div>
            ))}
          </div>
          <div class="chart" data-chart="overview-chart" role="img" aria-label={`Chart of events received and conversions sent, failed, skipped and dead per day, ${scopeLabel}; the table below holds the same figures.`} />
          <JsonData id="overview-chart" data={chart} />
          <div class="table-wrap">
            <table id="daily">
              <caption class="visually-hidden">Events received and conversions per UTC day, {scopeLabel}, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Day (UTC)</th>
                  <th scope="col" class="num">
                    Events received
                  </th>
                  {SHOWN_STATUSES.map((s) => (
                    <th scope="col" class="num" key={s}>
                      {STATUS_LABELS[s]}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {[...days].reverse().map((d) => (
                  <tr key={d.day}>
                    <th scope="row">{d.day}</th>
                    <td class="num">{fmt(d.events)}</td>
                    <StatusCells counts={d} />
                  </tr>
                ))}
              </tbody>
              <tfoot>
                <tr>
                  <th scope="row">Total</th>
                  <td class="num">{fmt(sum.events)}</td>
                  <StatusCells counts={sum} />
                </tr>
              </tfoot>
            </table>
          </div>

          <h2>Per platform</h2>
          <div class="table-wrap">
            <table id="platforms">
              <caption class="visually-hidden">Conversions per platform, the last {days.length} days</caption>
              <thead>
                <tr>
                  <th scope="col">Platform</th>
                  <th scope="col">Connection</th>
                  {SHOWN_STATUSES.map((s) => (
                    <th scope="col" class="num" key={s}>
                      {STATUS_LABELS[s]}
                    </th>
                  ))}
                  <th scope="col" class="num">
                    Attempts to retry
                  </th>
                </tr>
              </thead>
              <tbody>
                {v.perPlatform.map((p) => {
                  const c = connectionOf.get(p.platform);
                  return (
                    <tr key={p.platform}>
                      <th scope="row">{p.name}</th>
                      <td>{c === undefined ? <Badge status="muted" text="none" /> : <Badge status={c.status} />}</td>
                      <StatusCells counts={p.counts} />
                      <td class="num">{fmt(p.counts.retrying)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>

          <h2>Match quality</h2>
          <p class="lead">
            Share of the {fmt(v.quality[0]?.events ?? 0)} events received in these days that carry what each platform matches a conversion with.
          </p>
          <div class="table-wrap">
            <table id="match-quality">
              <caption class="visually-hidden">Match-quality signals per platform</caption>
              <thead>
                <tr>
                  <th scope="col">Platform</th>
                  <th scope="col" class="num">
                    Click ID
                  </th>
                  <th scope="col">Cookies</th>
                  <th scope="col" class="num">
                    Hashed email
                  </th>
                  <th scope="col" class="num">
                    Hashed phone
                  </th>
                </tr>
              </thead>
              <tbody>
                {v.quality.map((m) => (
                  <tr key={m.platform}>
                    <th scope="row">{m.name}</th>
                    <td class="num">
                      {percent(m.click)} <span class="hint">({m.click.names.join(', ')}: {fmt(m.click.count)})</span>
                    </td>
                    <td>
                      {m.cookies.length === 0
                        ? 'not used'
                        : m.cookies.map((c, i) => (
                            <span key={c.name}>
                              {i > 0 && ', '}
                              <code>_{c.name}</code> {percent(c)} <span class="hint">({fmt(c.count)})</span>
                            </span>
                          ))}
                    </td>
                    <ShareCell share={m.email} />
                    <ShareCell share={m.phone} />
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}

      <h2>Send schedule</h2>
      <Schedule schedule={v.schedule} runs={v.runs} now={v.now} staff={staff} />
    </Page>
  );
}

/** The `platform` query parameter: absent or empty for all, else a registered platform (400 otherwise). */
function platformParam(req: Request): Platform | undefined {
  const raw = req.query['platform'];
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string' || !(PLATFORM_IDS as readonly string[]).includes(raw)) throw new DashboardHttpError(400, 'There is no such platform.');
  return raw as Platform;
}

export function addOverview(router: Router, deps: DashboardDeps): void {
  router.get('/', async (req, res) => {
    const ctx = pageContext(res);
    const scope = scopeOf(ctx.user);
    const now = deps.now();
    const platform = platformParam(req);
    const requested = req.query['client'];
    const clients = await visibleClients(deps.store, scope);
    // Another client's id, for a client user, is a 404: as if it did not exist.
    const client = typeof requested === 'string' && requested !== '' ? await visibleClient(deps.store, scope, requested) : clients[0];
    const window = lastDays(now);
    const from = window[0]!;
    const to = dayOf(now);
    const figures = client === undefined ? undefined : { client_id: client.id, from, to };
    const [eventDays, sendDays, connections, actions, runs] = await Promise.all([
      figures === undefined ? [] : deps.store.stats.eventDays(figures),
      figures === undefined ? [] : deps.store.stats.sendDays(figures),
      client === undefined ? [] : deps.store.connections.list({ client_id: client.id }),
      needsAction(deps.store, scope, now, from),
      deps.store.runs.recent(1),
    ]);
    render(
      res,
      OverviewPage({
        ctx,
        clients,
        client,
        platform,
        days: dailyFigures(window, eventDays, sendDays, platform),
        perPlatform: platformTotals(sendDays),
        quality: matchQuality(eventDays),
        connections,
        actions,
        schedule: deps.sendSchedule,
        runs,
        now,
      }),
    );
  });
}
