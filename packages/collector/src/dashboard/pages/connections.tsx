/**
 * Connections: per client and platform, the conversion settings and credentials
 * (a form built from the adapter's `connection.fields`, never per platform),
 * the status (active, or paused with the platform's own error), when a send pass
 * last used the credentials, and "send test event" in the platform's test mode
 * (`domain/connection-test.ts`). Admin and staff only: a client user gets 404,
 * as for any page that is not theirs (it holds the settings of ad accounts).
 *
 * Credentials are write-only: a stored secret shows as "stored", never its value
 * or any part of it, and is replaced only when a new value is typed.
 */
import type { Request, Response, Router } from 'express';
import { Fragment } from 'preact';
import { CredentialsError, DecryptError, oauthProvider, PLATFORMS, platformAdapter, type Connection, type ConnectionField, type HeldConnection, type Platform } from '@pruuv/sender';
import { connectionFields, createConnections, type ConnectionView, type FieldValue } from '../../domain/connections.js';
import { sendTestEvent, testModeOf, TEST_CODE_FIELD, type TestResult } from '../../domain/connection-test.js';
import { OAuthProblem } from '../../domain/oauth.js';
import { OperationError } from '../../domain/operations.js';
import { EncryptionKeyError } from '../../send/secrets.js';
import type { Client, OAuthGrantListing, Stage } from '../../store/types.js';
import { callbackUri } from './oauth.js';
import { DASHBOARD_CSP, render } from '../http.js';
import { pageContext, type DashboardDeps } from '../index.js';
import { DashboardHttpError, requireWrite, scopeOf, visibleClient, visibleClients } from '../scope.js';
import { Badge, Csrf, Notice, Page, type PageContext } from '../views/layout.js';
import { Ago, ClientPicker } from '../views/setup.js';

/** A field's label for people: the adapter's, capitalised (`access token` → `Access token`). */
export function fieldLabel(field: ConnectionField): string {
  return field.label.charAt(0).toUpperCase() + field.label.slice(1);
}

/** The form name of a field's input, and of its "remove" box. */
const inputName = (field: string): string => `f_${field}`;
const clearName = (field: string): string => `clear_${field}`;

/** What one platform's section shows beyond the stored connection. */
interface SectionState {
  /** The settings typed in a refused save, shown back (never the secrets). */
  typed?: Record<string, string | boolean>;
  error?: string;
  saved?: boolean;
  test?: { result?: TestResult; error?: string; code?: string; stageId?: string };
  /** Disconnected just now: revoked at the platform (`revoked`), only removed here (`removed`), or the platform could not be told (`revoke-failed`). */
  disconnected?: 'revoked' | 'removed' | 'revoke-failed';
  /** Microsoft: the UET tag's token was just fetched with the connection's grant and stored. */
  uetTokenFetched?: boolean;
}

/** A platform's Connect button: its redirect URI, when the platform's app is configured. */
interface OAuthButton {
  redirectUri: string;
}

interface ConnectionsView {
  ctx: PageContext;
  clients: Client[];
  client: Client | undefined;
  connections: ConnectionView[];
  held: HeldConnection[];
  stages: Stage[];
  now: Date;
  keyRing: boolean;
  states: Partial<Record<Platform, SectionState>>;
  grants: OAuthGrantListing[];
  oauth: Partial<Record<Platform, OAuthButton>>;
}

function FieldInput({ platform, field, value, stored }: { platform: Platform; field: ConnectionField; value: string | boolean | undefined; stored: boolean }) {
  const id = `${platform}-${field.name}`;
  const hintId = `${id}-hint`;
  const required = field.required && !(field.kind === 'secret' && stored);
  const hint = (
    <span class="hint" id={hintId}>
      <code>{field.name}</code>
      {field.required ? ', required' : ', optional'}
      {field.default !== undefined ? `, default ${field.default}` : ''}
      {field.kind === 'secret' && (stored ? '. Stored: leave empty to keep it, or type a new value to replace it.' : '. Not set.')}
    </span>
  );
  if (field.type === 'boolean') {
    return (
      <div class="field-group">
        <label class="check" for={id}>
          <input type="checkbox" id={id} name={inputName(field.name)} value="on" checked={value === true} aria-describedby={hintId} />
          {fieldLabel(field)}
        </label>
        {hint}
      </div>
    );
  }
  if (field.type === 'choice') {
    const current = typeof value === 'string' ? value : field.default;
    return (
      <label for={id}>
        {fieldLabel(field)} {hint}
        <select id={id} name={inputName(field.name)} required={required} aria-describedby={hintId}>
          {!field.required && field.default === undefined && <option value="">(none)</option>}
          {(field.choices ?? []).map((c) => (
            <option key={c} value={c} selected={c === current}>
              {c}
            </option>
          ))}
        </select>
      </label>
    );
  }
  if (field.kind === 'secret') {
    return (
      <div class="field-group">
        <label for={id}>
          <span>
            {fieldLabel(field)} {stored ? <Badge status="ok" text="stored" /> : <Badge status="muted" text="not set" />}
          </span>
          {hint}
          {/* Write-only: the value attribute is always empty; new-password keeps browsers from filling in the dashboard password. */}
          <input type="password" id={id} name={inputName(field.name)} value="" autocomplete="new-password" spellcheck={false} required={required} aria-describedby={hintId} />
        </label>
        {stored && !field.required && (
          <label class="check" for={`${id}-clear`}>
            <input type="checkbox" id={`${id}-clear`} name={clearName(field.name)} value="on" /> Remove the stored {field.label}
          </label>
        )}
      </div>
    );
  }
  return (
    <label for={id}>
      {fieldLabel(field)} {hint}
      <input type="text" id={id} name={inputName(field.name)} value={typeof value === 'string' ? value : ''} required={required} autocomplete="off" spellcheck={false} aria-describedby={hintId} />
    </label>
  );
}

function StatusLine({ connection, held, now }: { connection: ConnectionView | undefined; held: HeldConnection | undefined; now: Date }) {
  if (connection === undefined) {
    return <p>Not connected: nothing is sent to this platform for this client, and nothing is recorded, until it is. Conversions still waiting for their first send when it is connected are sent.</p>;
  }
  return (
    <>
      {connection.status === 'paused' && (
        <Notice kind="bad">
          <strong>Paused</strong>
          {connection.paused_at !== undefined && (
            <>
              {' '}
              <Ago at={connection.paused_at} now={now} />
            </>
          )}
          : the platform said <q>{connection.status_reason ?? 'no reason given'}</q>. {held !== undefined ? `${held.waiting} ${held.waiting === 1 ? 'conversion waits' : 'conversions wait'}. ` : ''}
          Reconnecting (or saving new credentials) resumes sending; the waiting conversions are sent then.
        </Notice>
      )}
      <dl class="facts">
        <dt>Credentials last used</dt>
        <dd>{connection.last_used_at !== undefined ? <Ago at={connection.last_used_at} now={now} prefix="by a send pass " /> : 'not yet used by a send pass'}</dd>
        <dt>Saved</dt>
        <dd>
          <Ago at={connection.updated_at} now={now} />
        </dd>
      </dl>
    </>
  );
}

/** What the connection knows of its OAuth grant: when it was made, refreshed, and when it needs the user. */
function TokenHealth({ grant, now }: { grant: OAuthGrantListing | undefined; now: Date }) {
  if (grant === undefined) return null;
  const soon = grant.user_action_by !== undefined && Date.parse(grant.user_action_by) - now.getTime() < 3 * 86_400_000;
  return (
    <dl class="facts" id={`token-health-${grant.platform}`}>
      <dt>Connected with OAuth</dt>
      <dd>
        <Ago at={grant.granted_at} now={now} />
      </dd>
      <dt>Access token</dt>
      <dd>
        {grant.refreshed_at !== undefined ? <Ago at={grant.refreshed_at} now={now} prefix="refreshed " /> : 'not refreshed yet'}
        {grant.access_expires_at !== undefined && (
          <>
            ; expires {new Date(grant.access_expires_at).toISOString().replace('T', ' ').slice(0, 16)} UTC
            {/* Meta's long-lived user tokens have no refresh: only a new sign-in renews them. */}
            {oauthProvider(grant.platform)?.refresh !== undefined ? ' (renewed by itself)' : ' (only a new sign-in renews it)'}
          </>
        )}
      </dd>
      <dt>Needs you</dt>
      <dd>
        {grant.user_action_by === undefined ? (
          'never on its own (until revoked)'
        ) : (
          <span class={soon ? 'late' : undefined}>
            reconnect before {new Date(grant.user_action_by).toISOString().replace('T', ' ').slice(0, 16)} UTC
          </span>
        )}
      </dd>
    </dl>
  );
}

/** The Connect (or Reconnect) button, and Disconnect, of a platform whose OAuth app is configured. */
function ConnectSlot({ ctx, client, platform, name, connection, button }: { ctx: PageContext; client: Client; platform: Platform; name: string; connection: ConnectionView | undefined; button: OAuthButton | undefined }) {
  if (button === undefined) {
    return (
      <p class="hint" data-oauth-slot={platform}>
        Paste the credentials below{oauthProvider(platform) !== undefined ? ` (to connect by signing in to ${name} instead, configure its OAuth app: README, "Connect your ad accounts")` : ''}.
      </p>
    );
  }
  const label = connection === undefined ? `Connect with ${name}` : connection.status === 'paused' ? `Reconnect ${name}` : `Reconnect ${name} (sign in again)`;
  return (
    <div class="stack" data-oauth-slot={platform}>
      <div class="oauth-actions">
        <form method="post" action={`/dashboard/connections/${encodeURIComponent(client.id)}/oauth/${platform}/start`}>
          <Csrf token={ctx.csrf} />
          <button type="submit" id={`oauth-connect-${platform}`}>
            {label}
          </button>
        </form>
        {connection !== undefined && (
          <form method="post" action={`/dashboard/connections/${encodeURIComponent(client.id)}/oauth/${platform}/disconnect`}>
            <Csrf token={ctx.csrf} />
            <button type="submit" class="secondary" id={`oauth-disconnect-${platform}`}>
              Disconnect {name}
            </button>
          </form>
        )}
      </div>
      <p class="hint">
        Signs in with {name} and lists the accounts to pick from; or paste the credentials below. Redirect URI to register with the app: <code>{button.redirectUri}</code>
      </p>
    </div>
  );
}

function StatusBadges({ connection }: { connection: ConnectionView | undefined }) {
  if (connection === undefined) return <Badge status="muted" text="not connected" />;
  return (
    <>
      <Badge status={connection.status} />
      {connection.settings['dry_run'] === true && <Badge status="warn" text="validate only: delivers nothing" />}
      {typeof connection.settings[TEST_CODE_FIELD] === 'string' && <Badge status="warn" text="sends everything as test events" />}
    </>
  );
}

function TestAnswer({ name, result }: { name: string; result: TestResult }) {
  const ok = result.verdict === 'accepted' || result.verdict === 'validated';
  const headline = {
    accepted:
      result.mode === 'unmatched-click'
        ? `${name} accepted the test conversion: the credentials, the account and the conversion goal were accepted. Its made-up click belongs to no ad click, so ${name} counts nothing.`
        : `${name} accepted the test event under the test code ${result.code ?? ''}: it shows in the events manager's Test Events tab, apart from real conversions.`,
    validated: `${name} validated the request (validate only): nothing was uploaded.`,
    not_sent: 'Not sent: the pre-flight check stopped it.',
    refused: `${name} refused it.`,
    unavailable: `No usable answer from ${name}: try again in a moment.`,
  }[result.verdict];
  const rows: Array<[string, string | number | undefined]> = [
    ['Status', result.status],
    ['Reason', result.reason],
    ['Message', result.message],
    ['HTTP status', result.http_status],
    ['Error code', result.error_code],
    ['Error message', result.error_message],
    ['Request id', result.request_id],
    ['Test event id', result.event_id],
    ['Sent as stage', result.stage_key],
  ];
  return (
    <div class={`notice ${ok ? 'ok' : 'bad'}`} role={ok ? 'status' : 'alert'} id={`test-answer-${result.platform}`}>
      <strong>{headline}</strong>
      {result.would_pause && <p>The platform says the credentials or the account cannot be used: a send pass would pause this connection.</p>}
      <dl class="answer">
        {rows
          .filter((r) => r[1] !== undefined)
          .map(([k, v]) => (
            <Fragment key={k}>
              <dt>{k}</dt>
              <dd>{String(v)}</dd>
            </Fragment>
          ))}
      </dl>
    </div>
  );
}

function TestForm({ ctx, client, platform, name, stages, state }: { ctx: PageContext; client: Client; platform: Platform; name: string; stages: Stage[]; state: SectionState['test'] }) {
  const mode = testModeOf(platform);
  if (mode === 'none') return <p class="hint">{name} has no test mode: there is no test event to send.</p>;
  const id = `${platform}-test`;
  return (
    <form method="post" action={`/dashboard/connections/${encodeURIComponent(client.id)}/${platform}/test`} class="stack" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>Send a test event</h3>
      <p class="hint">
        {mode === 'validate-only'
          ? `One made-up conversion, sent with ${name}'s validate-only mode: ${name} checks the credentials, the account and the conversion settings and keeps nothing.`
          : mode === 'unmatched-click'
            ? `One made-up conversion with a click ID that belongs to no ad click and no email or phone: ${name} checks the credentials, the account and the conversion goal as for a real one, and counts nothing.`
            : `One made-up conversion, filed by ${name} under your test event code (it appears in the events manager's Test Events tab, apart from real conversions).`}{' '}
        Pruuv records nothing: no event, no send, no audit row.
      </p>
      <Csrf token={ctx.csrf} />
      {mode === 'test-event-code' && (
        <label for={`${id}-code`}>
          Test event code
          <span class="hint" id={`${id}-code-hint`}>
            From {name}'s events manager, Test Events tab (e.g. TEST12345). Required.
          </span>
          <input type="text" id={`${id}-code`} name="test_event_code" required maxLength={100} autocomplete="off" spellcheck={false} value={state?.code ?? ''} aria-describedby={`${id}-code-hint`} />
        </label>
      )}
      <label for={`${id}-stage`}>
        Send as stage
        <select id={`${id}-stage`} name="stage">
          <option value="">A lead (stage key lead)</option>
          {stages.map((s) => (
            <option key={s.id} value={s.id} selected={s.id === state?.stageId}>
              {s.name} ({s.key})
            </option>
          ))}
        </select>
      </label>
      <div>
        <button type="submit" class="secondary">
          Send test event
        </button>
      </div>
      {state?.error !== undefined && <Notice kind="bad">{state.error}</Notice>}
      {state?.result !== undefined && <TestAnswer name={name} result={state.result} />}
    </form>
  );
}

/**
 * Microsoft's UET path: the tag's token fetched with the connection's OAuth grant
 * (`UetTagAuthKey/Query`), or pasted above (the tag's "Copy Token"). Shown once the tag id is
 * saved (on either path: the uet-capi path needs the token to be saved), or on the uet-capi path.
 */
function UetTokenForm({ ctx, client, connection, connect, fetched }: { ctx: PageContext; client: Client; connection: ConnectionView; connect: boolean; fetched: boolean }) {
  const tag = connection.settings['uet_tag_id'];
  return (
    <div class="stack" id="microsoft-uet-token">
      {fetched && <Notice kind="ok">Fetched the token of UET tag {String(tag)} from Microsoft and stored it encrypted.</Notice>}
      {connect && typeof tag === 'string' ? (
        <form method="post" action={`/dashboard/connections/${encodeURIComponent(client.id)}/microsoft/uet-token`} class="inline">
          <Csrf token={ctx.csrf} />
          <button type="submit" class="secondary">
            Fetch the token of UET tag {tag} from Microsoft
          </button>
        </form>
      ) : (
        <p class="hint">
          Paste the UET tag's token above (Microsoft Advertising: the tag's Copy Token)
          {connect ? ', or save the UET tag id to fetch it from Microsoft here.' : '; with Connect with Microsoft configured, Pruuv can fetch it.'}
        </p>
      )}
    </div>
  );
}

function PlatformSection({ ctx, client, platform, connection, held, stages, now, state, grant, button }: { ctx: PageContext; client: Client; platform: Platform; connection: ConnectionView | undefined; held: HeldConnection | undefined; stages: Stage[]; now: Date; state: SectionState; grant: OAuthGrantListing | undefined; button: OAuthButton | undefined }) {
  const name = platformAdapter(platform).name;
  const fields = connectionFields(platform);
  const values: Record<string, string | boolean> = state.typed ?? connection?.settings ?? {};
  const settings = fields.filter((f) => f.kind === 'setting');
  const secrets = fields.filter((f) => f.kind === 'secret');
  return (
    <section class="platform" id={`platform-${platform}`} aria-labelledby={`${platform}-title`}>
      <h2 id={`${platform}-title`}>
        {name} <StatusBadges connection={connection} />
      </h2>
      {state.saved === true && <Notice kind="ok">Saved{connection?.status === 'active' ? '; sending is active' : ''}.</Notice>}
      {state.error !== undefined && <Notice kind="bad">{state.error}</Notice>}
      {state.disconnected !== undefined && (
        <Notice kind={state.disconnected === 'revoke-failed' ? 'warn' : 'ok'}>
          {state.disconnected === 'revoked'
            ? `Disconnected: ${name} revoked the access and the token was deleted here.`
            : state.disconnected === 'revoke-failed'
              ? `Disconnected here, but ${name} could not be told: remove Pruuv's access in the ${name} account's settings too.`
              : `Disconnected: the connection and its credentials were deleted here.${oauthProvider(platform)?.disconnectHint !== undefined ? ` ${oauthProvider(platform)?.disconnectHint ?? ''}` : ''}`}
        </Notice>
      )}
      <StatusLine connection={connection} held={held} now={now} />
      <TokenHealth grant={grant} now={now} />
      <ConnectSlot ctx={ctx} client={client} platform={platform} name={name} connection={connection} button={button} />
      <form method="post" action={`/dashboard/connections/${encodeURIComponent(client.id)}/${platform}`} class="stack" aria-labelledby={`${platform}-title`}>
        <Csrf token={ctx.csrf} />
        <fieldset>
          <legend>Conversion settings</legend>
          <div class="stack">
            {settings.map((f) => (
              <FieldInput key={f.name} platform={platform} field={f} value={values[f.name]} stored={false} />
            ))}
          </div>
        </fieldset>
        <fieldset>
          <legend>Credentials (write-only)</legend>
          <div class="stack">
            {secrets.map((f) => (
              <FieldInput key={f.name} platform={platform} field={f} value={undefined} stored={connection?.secrets.includes(f.name) ?? false} />
            ))}
          </div>
        </fieldset>
        <div>
          <button type="submit">{connection === undefined ? `Save ${name} credentials` : `Save ${name}`}</button>
        </div>
      </form>
      {platform === 'microsoft' && connection !== undefined && (connection.settings['api'] === 'uet-capi' || typeof connection.settings['uet_tag_id'] === 'string') && (
        <UetTokenForm ctx={ctx} client={client} connection={connection} connect={button !== undefined} fetched={state.uetTokenFetched === true} />
      )}
      {connection !== undefined && <TestForm ctx={ctx} client={client} platform={platform} name={name} stages={stages} state={state.test} />}
    </section>
  );
}

function ConnectionsPage(v: ConnectionsView) {
  return (
    <Page ctx={v.ctx} title="Connections">
      {v.clients.length === 0 ? (
        <p>
          No clients yet. <a href="/dashboard/clients">Add one first</a>.
        </p>
      ) : (
        <>
          <ClientPicker clients={v.clients} current={v.client} action="/dashboard/connections" />
          {!v.keyRing && (
            <Notice kind="warn">
              No encryption key is configured (PRUUV_ENCRYPTION_KEY): credentials cannot be saved, and stored ones cannot be read for a test event.
            </Notice>
          )}
          {v.client !== undefined &&
            PLATFORMS.map((adapter) => (
              <PlatformSection
                key={adapter.id}
                ctx={v.ctx}
                client={v.client!}
                platform={adapter.id}
                connection={v.connections.find((c) => c.platform === adapter.id)}
                held={v.held.find((h) => h.client_id === v.client!.id && h.platform === adapter.id)}
                stages={v.stages}
                now={v.now}
                state={v.states[adapter.id] ?? {}}
                grant={v.grants.find((g) => g.platform === adapter.id)}
                button={v.oauth[adapter.id]}
              />
            ))}
        </>
      )}
    </Page>
  );
}

/** Settings and secrets of connections belong to admin and staff: anyone else is told the page does not exist. */
function requireSetupAccess(ctx: PageContext): void {
  if (ctx.user.role !== 'admin' && ctx.user.role !== 'staff') throw new DashboardHttpError(404, 'There is no such page.');
}

/** A platform of the registry, or 404. */
function platformOf(value: unknown): Platform {
  const found = PLATFORMS.find((p) => p.id === value);
  if (found === undefined) throw new DashboardHttpError(404, 'There is no such platform.');
  return found.id;
}

/**
 * The form's fields as the connection operation takes them: a typed value sets a
 * field; an empty setting removes it (optional) or is reported missing (required);
 * an unchecked switch is off; an empty secret keeps the stored one, unless its
 * "remove" box is ticked. Unknown form fields are ignored.
 */
function fieldsOf(platform: Platform, body: Record<string, unknown>): Record<string, FieldValue | undefined> {
  const out: Record<string, FieldValue | undefined> = {};
  for (const f of connectionFields(platform)) {
    const raw = body[inputName(f.name)];
    const value = typeof raw === 'string' ? raw.slice(0, 10_000) : undefined;
    if (f.type === 'boolean') out[f.name] = value === 'on' ? true : f.required ? false : null;
    else if (f.kind === 'secret') out[f.name] = value !== undefined && value !== '' ? value : body[clearName(f.name)] === 'on' && !f.required ? null : undefined;
    else out[f.name] = value === undefined || value.trim() === '' ? null : value;
  }
  return out;
}

/** The settings typed, to show back after a refused save (secrets never). */
function typedSettings(platform: Platform, fields: Record<string, FieldValue | undefined>): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (const f of connectionFields(platform)) {
    const v = fields[f.name];
    if (f.kind === 'setting' && v !== undefined && v !== null) out[f.name] = v;
  }
  return out;
}

/** A refusal a person can act on, or rethrows. */
function problem(error: unknown): string {
  if (error instanceof OperationError || error instanceof EncryptionKeyError || error instanceof CredentialsError || error instanceof DecryptError) return error.message;
  throw error;
}

export function addConnections(router: Router, deps: DashboardDeps): void {
  const { store, now, setup, logger } = deps;
  const connections = createConnections(store, { now });

  const page = async (res: Response, clientId: string | undefined, states: ConnectionsView['states'] = {}, status = 200): Promise<void> => {
    const req = res.req;
    const oauthButtons: ConnectionsView['oauth'] = {};
    for (const adapter of PLATFORMS) if (deps.oauth.configured(adapter.id)) oauthButtons[adapter.id] = { redirectUri: callbackUri(req, setup, adapter.id) };
    // A Connect button's form is answered with a redirect to the platform's consent page, and browsers
    // hold form redirects to form-action: this page allows the consent pages' origins, no other.
    const consentOrigins = deps.oauth.consentOrigins();
    if (consentOrigins.length > 0) res.setHeader('Content-Security-Policy', DASHBOARD_CSP.replace("form-action 'self'", `form-action 'self' ${consentOrigins.join(' ')}`));
    const ctx = pageContext(res);
    const scope = scopeOf(ctx.user);
    const clients = await visibleClients(store, scope);
    const client = clientId !== undefined ? await visibleClient(store, scope, clientId) : clients[0];
    // Views only: names of the stored secrets, never a ciphertext.
    const views = client === undefined ? [] : await connections.list({ client_id: client.id });
    const view: ConnectionsView = {
      ctx,
      clients,
      client,
      connections: views,
      // What a paused connection holds back: counted only while one of this client's is paused.
      held: client !== undefined && views.some((c) => c.status === 'paused') ? (await store.outbox.held()).filter((h) => h.client_id === client.id) : [],
      stages: client === undefined ? [] : await store.stages.list(client.id),
      now: now(),
      keyRing: setup.keyRing !== undefined,
      states,
      // What each OAuth connection knows of its grant (never a token).
      grants: client === undefined ? [] : await store.oauth.grants({ client_id: client.id }),
      oauth: oauthButtons,
    };
    render(res, ConnectionsPage(view), status);
  };

  router.get('/connections', async (req, res) => {
    requireSetupAccess(pageContext(res));
    const requested = typeof req.query['client'] === 'string' && req.query['client'] !== '' ? req.query['client'] : undefined;
    const saved = typeof req.query['saved'] === 'string' ? PLATFORMS.find((p) => p.id === req.query['saved'])?.id : undefined;
    const disconnected = typeof req.query['disconnected'] === 'string' ? PLATFORMS.find((p) => p.id === req.query['disconnected'])?.id : undefined;
    const note = req.query['note'] === 'revoked' || req.query['note'] === 'revoke-failed' ? req.query['note'] : 'removed';
    const states: ConnectionsView['states'] = {};
    if (saved !== undefined) states[saved] = { saved: true };
    if (disconnected !== undefined) states[disconnected] = { disconnected: note };
    if (saved === 'microsoft' && req.query['uet'] === 'fetched') states.microsoft = { saved: true, uetTokenFetched: true };
    await page(res, requested, states);
  });

  /** The client and platform of a write, checked in this order: role, client, platform. */
  const target = async (req: Request, res: Response): Promise<{ client: Client; platform: Platform }> => {
    const ctx = pageContext(res);
    requireWrite(ctx.user);
    requireSetupAccess(ctx);
    const client = await visibleClient(store, scopeOf(ctx.user), String(req.params['client']));
    return { client, platform: platformOf(req.params['platform']) };
  };

  router.post('/connections/:client/:platform', async (req, res) => {
    const { client, platform } = await target(req, res);
    const fields = fieldsOf(platform, req.body as Record<string, unknown>);
    const labels = new Map(connectionFields(platform).map((f) => [f.name, fieldLabel(f)]));
    try {
      await connections.set({ client_id: client.id, platform, fields }, setup.keyRing, { describe: (field) => labels.get(field) ?? field });
    } catch (error) {
      return page(res, client.id, { [platform]: { error: problem(error), typed: typedSettings(platform, fields) } }, 400);
    }
    logger.info({ client_id: client.id, platform, user_id: pageContext(res).user.id }, 'dashboard: connection saved');
    res.redirect(303, `/dashboard/connections?client=${encodeURIComponent(client.id)}&saved=${platform}#platform-${platform}`);
  });

  router.post('/connections/:client/:platform/uet-token', async (req, res) => {
    const { client, platform } = await target(req, res);
    if (platform !== 'microsoft') throw new DashboardHttpError(404, 'There is no such page.');
    try {
      await deps.oauth.fetchUetTagToken({ clientId: client.id });
    } catch (error) {
      if (!(error instanceof OAuthProblem)) throw error;
      return page(res, client.id, { microsoft: { error: error.message } }, 400);
    }
    logger.info({ client_id: client.id, platform: 'microsoft', user_id: pageContext(res).user.id }, 'dashboard: UET tag token fetched');
    res.redirect(303, `/dashboard/connections?client=${encodeURIComponent(client.id)}&saved=microsoft&uet=fetched#platform-microsoft`);
  });

  router.post('/connections/:client/:platform/test', async (req, res) => {
    const { client, platform } = await target(req, res);
    const body = req.body as Record<string, unknown>;
    const code = typeof body['test_event_code'] === 'string' ? body['test_event_code'].slice(0, 200) : undefined;
    const stageId = typeof body['stage'] === 'string' && body['stage'] !== '' ? body['stage'] : undefined;
    const test: NonNullable<SectionState['test']> = {};
    if (code !== undefined) test.code = code;
    if (stageId !== undefined) test.stageId = stageId;
    try {
      const stage = stageId === undefined ? undefined : await store.stages.get(stageId);
      if (stageId !== undefined && stage?.client_id !== client.id) throw new OperationError('invalid', 'That stage is not one of this client\'s.');
      const stored = await connections.load(client.id, platform, setup.keyRing);
      if (stored === undefined) throw new OperationError('invalid', 'Save the connection first.');
      test.result = await sendTestEvent({
        // The operator's fields (Microsoft's developer token and Azure app), as a pass fills them in.
        connection: { ...setup.connectionDefaults?.[platform], ...stored.connection } as Connection,
        clientId: client.id,
        ...(code !== undefined ? { code } : {}),
        ...(stage !== undefined ? { stage } : {}),
        now: now(),
        ...(setup.urls !== undefined ? { urls: setup.urls } : {}),
        ...(setup.versions !== undefined ? { versions: setup.versions } : {}),
        ...(setup.fetch !== undefined ? { fetch: setup.fetch } : {}),
      });
    } catch (error) {
      test.error = problem(error);
      return page(res, client.id, { [platform]: { test } }, 400);
    }
    logger.info({ client_id: client.id, platform, verdict: test.result.verdict, user_id: pageContext(res).user.id }, 'dashboard: test event sent');
    // The answer is this response's: nothing of it is stored.
    await page(res, client.id, { [platform]: { test } });
  });
}
