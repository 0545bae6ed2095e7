/**
 * Pieces shared by the pages that set a client up (clients, connections,
 * funnel webhooks): how long ago something happened, a copyable block, the
 * public base URL, and the client picker.
 */
import type { Request } from 'express';
import type { Client } from '../../store/types.js';
import type { DashboardSetup } from '../index.js';

/** `3 minutes ago`, `2 hours ago`, `5 days ago`; `less than a minute ago` for anything under a minute (or ahead of `now`). */
export function ago(iso: string, now: Date): string {
  const seconds = Math.floor((now.getTime() - Date.parse(iso)) / 1000);
  const plural = (n: number, unit: string): string => `${n} ${unit}${n === 1 ? '' : 's'} ago`;
  if (seconds < 60) return 'less than a minute ago';
  if (seconds < 3600) return plural(Math.floor(seconds / 60), 'minute');
  if (seconds < 48 * 3600) return plural(Math.floor(seconds / 3600), 'hour');
  return plural(Math.floor(seconds / 86_400), 'day');
}

/** A time as `<time>`: relative text, the exact UTC time as its title. */
export function Ago({ at, now, prefix }: { at: string; now: Date; prefix?: string }) {
  return (
    <time dateTime={at} title={at.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}>
      {prefix}
      {ago(at, now)}
    </time>
  );
}

/**
 * A block to copy: its text in a `<pre>`, and a Copy button the dashboard's
 * script shows (`data-copy`); without the script the text is still selectable.
 */
export function CopyBlock({ id, label, text }: { id: string; label: string; text: string }) {
  return (
    <div class="copy">
      <div class="copy-head">
        <span id={`${id}-label`}>{label}</span>
        <button type="button" class="secondary" data-copy={`#${id}`} aria-describedby={`${id}-label`} hidden>
          Copy
        </button>
      </div>
      <pre id={id} class="snippet" tabIndex={0} aria-labelledby={`${id}-label`}>
        {text}
      </pre>
    </div>
  );
}

/** Where the collector is reached from outside: `PRUUV_PUBLIC_URL`, else this request's own origin. */
export function publicBase(req: Request, setup: DashboardSetup): string {
  return setup.publicUrl ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`;
}

/** A GET form choosing the client a page shows (works without the script). */
export function ClientPicker({ clients, current, action }: { clients: Client[]; current: Client | undefined; action: string }) {
  return (
    <form method="get" action={action} class="picker">
      <label>
        Client
        <select name="client">
          {clients.map((c) => (
            <option key={c.id} value={c.id} selected={c.id === current?.id}>
              {c.name}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" class="secondary">
        Show
      </button>
    </form>
  );
}
