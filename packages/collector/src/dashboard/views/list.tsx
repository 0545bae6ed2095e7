/** Pieces the dashboard's lists share: times, the keyset pager, the note of a page cut short, the filter form's fields. */
import type { ComponentChildren } from 'preact';
import type { KeysetPage } from '../../store/types.js';
import { listHref } from '../list-query.js';

/** An ISO 8601 instant as `2026-11-20 10:00:05 UTC`, with the exact value for machines. */
export function Time({ iso }: { iso: string | null | undefined }) {
  if (iso === null || iso === undefined) return <span class="muted">—</span>;
  const t = Date.parse(iso);
  const shown = Number.isNaN(t) ? iso : `${new Date(t).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
  return <time datetime={iso}>{shown}</time>;
}

/** "Newer" and "Older" links of a keyset page, each carrying the filters and its cursor. */
export function Pager({ path, filters, page, label }: { path: string; filters: Readonly<Record<string, string | undefined>>; page: KeysetPage<unknown>; label: string }) {
  if (page.prev === undefined && page.next === undefined) return null;
  return (
    <nav class="pager" aria-label={`${label} pages`}>
      {page.prev !== undefined ? (
        <a href={listHref(path, filters, { before: page.prev })} rel="prev">
          ← Newer
        </a>
      ) : (
        <span class="muted">← Newer</span>
      )}
      {page.next !== undefined ? (
        <a href={listHref(path, filters, { after: page.next })} rel="next">
          Older →
        </a>
      ) : (
        <span class="muted">Older →</span>
      )}
    </nav>
  );
}

/** Says that a page stopped reading before it was full, and how far back it looked. */
export function ScanNote({ page, what }: { page: KeysetPage<unknown>; what: string }) {
  if (page.scan === undefined) return null;
  return (
    <p class="hint" role="status">
      This page looked at {page.scan.scanned.toLocaleString('en')} {what} back to <Time iso={page.scan.scanned_to} /> and found{' '}
      {page.rows.length === 0 ? 'none' : `only ${page.rows.length}`} matching; “Older” goes on from there.
    </p>
  );
}

/** A table in its scrolling wrapper, with a caption for screen readers. */
export function DataTable({ caption, head, children }: { caption: string; head: ComponentChildren; children: ComponentChildren }) {
  return (
    <div class="table-wrap">
      <table>
        <caption class="visually-hidden">{caption}</caption>
        <thead>{head}</thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** One option of a {@link Choice}. */
export interface ChoiceOption {
  value: string;
  text: string;
}

/** A labelled select of a filter form: `any` (value `""`) first, then the options. */
export function Choice({ label, name, any, options, selected }: { label: string; name: string; any: string; options: readonly ChoiceOption[]; selected: string | undefined }) {
  return (
    <label>
      {label}
      <select name={name}>
        <option value="">{any}</option>
        {options.map((o) => (
          <option key={o.value} value={o.value} selected={selected === o.value}>
            {o.text}
          </option>
        ))}
      </select>
    </label>
  );
}

/** The UTC day range of a filter form (`from`, `to`, both included), named for what is dated ("Received", "Attempted"). */
export function DayRange({ what, from, to }: { what: string; from: string | undefined; to: string | undefined }) {
  return (
    <>
      <label>
        {what} from (UTC)
        <input type="date" name="from" value={from ?? ''} />
      </label>
      <label>
        {what} to (UTC, included)
        <input type="date" name="to" value={to ?? ''} />
      </label>
    </>
  );
}

/** A list's filter form: GET to `path`, its fields, Filter and Clear. */
export function FilterForm({ path, label, children }: { path: string; label: string; children: ComponentChildren }) {
  return (
    <form method="get" action={path} class="filters" role="search" aria-label={label}>
      <div class="form-grid">{children}</div>
      <div class="actions">
        <button type="submit">Filter</button>
        <a href={path}>Clear</a>
      </div>
    </form>
  );
}
