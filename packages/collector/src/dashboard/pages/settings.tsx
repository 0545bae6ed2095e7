/**
 * Settings (admin): the encryption of stored credentials (which keys are
 * configured, which key each stored secret is under, how to rotate), the send
 * schedule, how long data is kept, the OAuth apps of the Connect buttons (with
 * the redirect URI each app must register), and the session rules. Read-only:
 * these are set in the environment, where a dashboard user cannot change them.
 */
import { ciphertextKeyId, nextSlotAfter, OAUTH_PROVIDERS, platformAdapter, type KeyRing, type Platform } from '@pruuv/sender';
import type { Router } from 'express';
import { redirectUriFor } from '../../domain/oauth.js';
import { DEFAULT_RETENTION_DAYS } from '../../domain/retention.js';
import { DEFAULT_SESSION_POLICY } from '../auth/sessions.js';
import { DEFAULT_SIGN_IN_LIMITS } from '../auth/sign-in.js';
import { render } from '../http.js';
import { pageContext, type DashboardDeps } from '../index.js';
import { requireAdmin } from '../scope.js';
import { Badge, Notice, Page, type PageContext } from '../views/layout.js';
import { publicBase } from '../views/setup.js';

/** What the Settings page shows of the configuration. */
export interface DashboardSettings {
  /** `PRUUV_SEND_CRON`. */
  cron: string;
  /** `PRUUV_ENCRYPTION_KEY`, parsed; absent when not set. */
  keyRing?: KeyRing;
  /** `PRUUV_ENCRYPTION_KEY` could not be read: why. */
  keyError?: string;
  /** `PRUUV_RETENTION_DAYS`. Defaults to {@link DEFAULT_RETENTION_DAYS}. */
  retentionDays?: number;
}

/** One OAuth provider as the page shows it: whether its app is set, and the redirect URI to register. */
interface OAuthAppRow {
  platform: Platform;
  name: string;
  /** The app's client id (not a secret: it is in every consent URL); absent when the app is not configured. */
  clientId?: string;
  /** The variables that configure the app. */
  variables: string[];
  redirectUri: string;
}

interface SettingsView {
  ctx: PageContext;
  settings: DashboardSettings | undefined;
  /** Stored secrets per key id. */
  byKey: Map<string, number>;
  secrets: number;
  next: Date | undefined;
  apps: OAuthAppRow[];
  /** Whether `PRUUV_PUBLIC_URL` is set (else the redirect URIs are this request's origin). */
  publicUrlSet: boolean;
}

const hours = (ms: number): string => `${ms / 3_600_000} hours`;

function SettingsPage({ ctx, settings, byKey, secrets, next, apps, publicUrlSet }: SettingsView) {
  const ring = settings?.keyRing;
  const unknown = [...byKey.entries()].filter(([id]) => ring === undefined || !ring.keys.has(id));
  const stale = [...byKey.entries()].filter(([id]) => ring !== undefined && id !== ring.currentId && ring.keys.has(id));
  return (
    <Page ctx={ctx} title="Settings">
      <h2>Encryption of stored credentials</h2>
      {settings?.keyError !== undefined && <Notice kind="bad">{settings.keyError}</Notice>}
      {ring === undefined ? (
        <Notice kind="bad">
          <code>PRUUV_ENCRYPTION_KEY</code> is not set: credentials cannot be stored or used. Generate a key with <code>openssl rand -base64 32</code>.
        </Notice>
      ) : (
        <dl class="facts">
          <dt>Keys configured</dt>
          <dd>
            {[...ring.keys.keys()].map((id, i) => (
              <span key={id}>
                <code>{id}</code> {i === 0 ? <Badge status="ok" text="encrypts new secrets" /> : <Badge status="muted" text="decrypts only" />}{' '}
              </span>
            ))}
          </dd>
          <dt>Connections with secrets</dt>
          <dd>
            {secrets}
            {[...byKey.entries()].map(([id, n]) => (
              <span key={id}>
                {' '}
                · {n} under <code>{id}</code>
              </span>
            ))}
          </dd>
        </dl>
      )}
      {unknown.length > 0 && (
        <Notice kind="bad">
          {unknown.map(([id, n]) => `${n} secret${n === 1 ? '' : 's'} under key ${id}, which is not configured`).join('; ')}: add that key after the current one in{' '}
          <code>PRUUV_ENCRYPTION_KEY</code>, or those connections cannot send.
        </Notice>
      )}
      {stale.length > 0 && (
        <Notice kind="warn">
          Some secrets are still under an older key. Re-encrypt them with the current key, then drop the old one:{' '}
          <code>npx pruuv keys rotate</code>
        </Notice>
      )}
      <p class="hint">
        To rotate: put the new key first and keep the old one after it (<code>PRUUV_ENCRYPTION_KEY="NEW,OLD"</code>), restart, run{' '}
        <code>npx pruuv keys rotate</code>, then remove the old key.
      </p>

      <h2>Send schedule</h2>
      <dl class="facts">
        <dt>Schedule</dt>
        <dd>
          <code>{settings?.cron ?? 'not known to this process'}</code> (UTC, <code>PRUUV_SEND_CRON</code>)
        </dd>
        <dt>Next scheduled pass</dt>
        <dd>{next !== undefined ? <time datetime={next.toISOString()}>{next.toISOString().slice(0, 16).replace('T', ' ')} UTC</time> : 'none'}</dd>
        <dt>Retries</dt>
        <dd>follow-up passes run when a retry falls due, between scheduled passes</dd>
      </dl>

      <h2>Data kept</h2>
      <dl class="facts">
        <dt>Events, their sends and audit records</dt>
        <dd>
          {settings?.retentionDays ?? DEFAULT_RETENTION_DAYS} days (<code>PRUUV_RETENTION_DAYS</code>), then removed together by the worker in small batches;
          never a conversion still due or inside a platform's dedup window
        </dd>
        <dt>Email addresses and phone numbers</dt>
        <dd>never stored in clear, only their SHA-256 hashes</dd>
      </dl>

      <h2>Connect with OAuth</h2>
      <p class="hint">
        Each platform's app is configured in the environment; the Connections page shows a Connect button only for these. Register the redirect URI
        exactly as shown with the app.
        {!publicUrlSet && (
          <>
            {' '}
            <code>PRUUV_PUBLIC_URL</code> is not set: these URIs use the address this page was opened at.
          </>
        )}
      </p>
      <div class="table-wrap">
        <table>
          <caption class="visually-hidden">OAuth apps</caption>
          <thead>
            <tr>
              <th scope="col">Platform</th>
              <th scope="col">App</th>
              <th scope="col">Redirect URI to register</th>
            </tr>
          </thead>
          <tbody>
            {apps.map((a) => (
              <tr key={a.platform} id={`oauth-app-${a.platform}`}>
                <th scope="row">{a.name}</th>
                <td class="wrap">
                  {a.clientId !== undefined ? (
                    <>
                      <Badge status="ok" text="configured" /> client id <code>{a.clientId}</code>
                    </>
                  ) : (
                    <>
                      <Badge status="muted" text="not configured" /> set {a.variables.map((v, i) => (
                        <span key={v}>
                          {i > 0 ? (i === a.variables.length - 1 ? ' and ' : ', ') : ''}
                          <code>{v}</code>
                        </span>
                      ))}
                    </>
                  )}
                </td>
                <td class="wrap">
                  <code>{a.redirectUri}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <h2>Sign-in and sessions</h2>
      <dl class="facts">
        <dt>Session ends</dt>
        <dd>
          after {hours(DEFAULT_SESSION_POLICY.idleMs)} without activity, and {DEFAULT_SESSION_POLICY.absoluteMs / 86_400_000} days after sign-in
        </dd>
        <dt>Failed sign-ins</dt>
        <dd>
          {DEFAULT_SIGN_IN_LIMITS.perAccount} per account and {DEFAULT_SIGN_IN_LIMITS.perAddress} per address in {DEFAULT_SIGN_IN_LIMITS.windowMs / 60_000} minutes,
          then a wait
        </dd>
        <dt>Passwords</dt>
        <dd>scrypt (N = 2^17, r = 8, p = 1), at least 12 characters</dd>
      </dl>
    </Page>
  );
}

export function addSettings(router: Router, deps: DashboardDeps): void {
  router.get('/settings', async (req, res) => {
    const ctx = pageContext(res);
    requireAdmin(ctx.user);
    const stored = await deps.store.connections.ciphertexts();
    const byKey = new Map<string, number>();
    for (const { secrets } of stored) {
      const id = ciphertextKeyId(secrets) ?? 'unknown format';
      byKey.set(id, (byKey.get(id) ?? 0) + 1);
    }
    const settings = deps.settings;
    const next = settings !== undefined ? nextSlotAfter(settings.cron, deps.now()) : undefined;
    const base = publicBase(req, deps.setup);
    const configured = deps.setup.oauth?.platforms ?? {};
    const apps = OAUTH_PROVIDERS.map((p): OAuthAppRow => {
      const platform = p.platform as Platform;
      const app = configured[platform]?.app;
      return {
        platform,
        name: platformAdapter(platform).name,
        ...(app !== undefined ? { clientId: app.clientId } : {}),
        variables: [p.env.clientId, p.env.clientSecret, ...(p.env.extra ?? [])],
        redirectUri: redirectUriFor(base, platform),
      };
    });
    render(res, SettingsPage({ ctx, settings, byKey, secrets: stored.length, next, apps, publicUrlSet: deps.setup.publicUrl !== undefined }));
  });
}
