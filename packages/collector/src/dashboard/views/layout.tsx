/**
 * The page shell: skip link, the navigation the user's role allows, who is
 * signed in with the sign-out button, and the page's content in `<main>`.
 * Every string goes through Preact's renderer, which escapes it: no stored
 * value can become markup.
 */
import type { ComponentChildren } from 'preact';
import type { Assets } from '../assets.js';
import type { User } from '../../store/types.js';

/** What every page of a signed-in user renders with. */
export interface PageContext {
  user: User;
  /** The session's CSRF token, for every form that changes something. */
  csrf: string;
  /** The request path, to mark the current navigation entry. */
  path: string;
  assets: Assets;
}

interface NavItem {
  href: string;
  label: string;
  /** Roles that see the entry; all when absent. */
  roles?: ReadonlyArray<User['role']>;
}

/** The navigation, in order. */
export const NAV: readonly NavItem[] = [
  { href: '/dashboard', label: 'Overview' },
  { href: '/dashboard/clients', label: 'Clients' },
  { href: '/dashboard/connections', label: 'Connections', roles: ['admin', 'staff'] },
  { href: '/dashboard/webhooks', label: 'Funnel webhooks', roles: ['admin', 'staff'] },
  { href: '/dashboard/events', label: 'Events' },
  { href: '/dashboard/sends', label: 'Conversion sends' },
  { href: '/dashboard/users', label: 'Users', roles: ['admin'] },
  { href: '/dashboard/settings', label: 'Settings', roles: ['admin'] },
];

function isCurrent(path: string, href: string): boolean {
  return href === '/dashboard' ? path === '/dashboard' || path === '/dashboard/' : path === href || path.startsWith(`${href}/`);
}

/** A hidden CSRF field for a form. */
export function Csrf({ token }: { token: string }) {
  return <input type="hidden" name="_csrf" value={token} />;
}

/** The HTML document around a page. */
export function Document({ title, assets, chart, children }: { title: string; assets: Assets; chart?: boolean; children: ComponentChildren }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        <title>{`${title} · Pruuv`}</title>
        <link rel="stylesheet" href={`/dashboard/assets/${assets.css.name}`} />
        {chart === true && <link rel="stylesheet" href={`/dashboard/assets/${assets.chartCss.name}`} />}
        {chart === true && <script defer src={`/dashboard/assets/${assets.chartJs.name}`} />}
        <script defer src={`/dashboard/assets/${assets.js.name}`} />
      </head>
      <body>{children}</body>
    </html>
  );
}

/** A signed-in page: header with navigation, then the content. */
export function Page({ ctx, title, chart, children }: { ctx: PageContext; title: string; chart?: boolean; children: ComponentChildren }) {
  const items = NAV.filter((item) => item.roles === undefined || item.roles.includes(ctx.user.role));
  return (
    <Document title={title} assets={ctx.assets} {...(chart === true ? { chart } : {})}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="/dashboard">
          Pruuv
        </a>
        <nav class="main" aria-label="Main">
          <ul>
            {items.map((item) => (
              <li key={item.href}>
                <a href={item.href} {...(isCurrent(ctx.path, item.href) ? { 'aria-current': 'page' } : {})}>
                  {item.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <a href="/dashboard/account" {...(isCurrent(ctx.path, '/dashboard/account') ? { 'aria-current': 'page' } : {})}>
            {ctx.user.email}
          </a>
          <span>({ctx.user.role})</span>
          <form class="inline" method="post" action="/dashboard/sign-out">
            <Csrf token={ctx.csrf} />
            <button type="submit" class="secondary">
              Sign out
            </button>
          </form>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <h1>{title}</h1>
        {children}
      </main>
    </Document>
  );
}

/** A status badge: its text is the status, its class its colour. */
export function Badge({ status, text }: { status: string; text?: string }) {
  return <span class={`badge ${status.replace(/[^A-Za-z_-]/g, '')}`}>{text ?? status}</span>;
}

/** A notice above the content. */
export function Notice({ kind, children }: { kind: 'ok' | 'bad' | 'warn' | 'info'; children: ComponentChildren }) {
  return (
    <div class={`notice ${kind}`} role={kind === 'bad' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}
