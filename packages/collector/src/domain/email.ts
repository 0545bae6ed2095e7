/**
 * Email addresses at ingest: what is an address, its normalised form and
 * Google's Gmail form. The collector hashes raw PII before storing it, so the
 * rules that need the raw address run here; the hashes go to the platforms.
 *
 * An address is taken when, after trimming and lower-casing (Meta, TikTok and
 * Google all ask for both: platforms.md §1.4, §4.2; google-data-manager.md §5),
 * it has exactly one `@`, a local part and a domain, no whitespace inside, and a
 * domain with a dot: the checks Google's Data Manager formatter and Meta's
 * parameter builder make. Within that, the local part must be a dot-atom
 * (no leading, trailing or doubled dot, none of `()<>[]:;,\"`) and each domain
 * label letters, digits and inner hyphens: the parts of Meta's RFC 2822
 * approximation (capi-param-builder `emailUtil.js`) a real mailbox always meets.
 * Non-ASCII letters are allowed in both (RFC 6531), where Meta's ASCII-only
 * pattern would refuse them. Pure.
 */

/** Why a value was not taken as an email address. No part of the value is kept. */
export type EmailRejection =
  | 'no_at'
  | 'several_at'
  | 'empty_local_part'
  | 'empty_domain'
  | 'space_inside'
  | 'no_dot_in_domain'
  | 'malformed_local_part'
  | 'malformed_domain';

/** A checked email: its normalised form and Google's, or why it was refused. */
export type EmailCheck = { ok: true; email: string; google: string } | { ok: false; reason: EmailRejection };

/** One dot-atom part: RFC 5322 atext, and any non-ASCII character (RFC 6531). */
const ATOM = /^[a-z0-9!#$%&'*+/=?^_`{|}~\u0080-\uFFFF-]+$/u;
/** One domain label: letters, digits, inner hyphens (non-ASCII for internationalised names). */
const LABEL = /^[a-z0-9\u0080-\uFFFF](?:[a-z0-9\u0080-\uFFFF-]*[a-z0-9\u0080-\uFFFF])?$/u;
/** Google's Gmail domains: only there are dots and `+tag` removed (google-data-manager.md §5). */
const GMAIL = new Set(['gmail.com', 'googlemail.com']);

/**
 * Google's form of a normalised address: for gmail.com and googlemail.com only,
 * every dot and any `+tag` removed from the local part (Data Manager's
 * formatting guidance and its Node formatter: `cloudy.sanfrancisco+shopping@gmail.com`
 * → `cloudysanfrancisco@gmail.com`); other domains keep both.
 */
export function googleEmail(local: string, domain: string): string {
  if (!GMAIL.has(domain)) return `${local}@${domain}`;
  return `${local.split('+')[0]!.replace(/\./g, '')}@${domain}`;
}

function shapeProblem(email: string): EmailRejection | { local: string; domain: string } {
  if (/\s/u.test(email)) return 'space_inside';
  const parts = email.split('@');
  if (parts.length === 1) return 'no_at';
  if (parts.length > 2) return 'several_at';
  const [local, domain] = parts as [string, string];
  if (local === '') return 'empty_local_part';
  if (domain === '') return 'empty_domain';
  if (!domain.includes('.')) return 'no_dot_in_domain';
  if (!local.split('.').every((atom) => ATOM.test(atom))) return 'malformed_local_part';
  if (!domain.split('.').every((label) => LABEL.test(label))) return 'malformed_domain';
  return { local, domain };
}

/**
 * Checks and normalises a raw email: trimmed and lower-cased, then the rules
 * of this module. A Gmail address whose local part is only a `+tag` is refused
 * (`empty_local_part`): Google's formatter refuses it too.
 *
 * @example checkEmail(' John_Smith@gmail.com ') // { ok: true, email: 'john_smith@gmail.com', google: 'john_smith@gmail.com' }
 * @example checkEmail('jo@example') // { ok: false, reason: 'no_dot_in_domain' }
 */
export function checkEmail(input: string): EmailCheck {
  const email = input.trim().toLowerCase();
  const shape = shapeProblem(email);
  if (typeof shape === 'string') return { ok: false, reason: shape };
  const google = googleEmail(shape.local, shape.domain);
  if (google.startsWith('@')) return { ok: false, reason: 'empty_local_part' };
  return { ok: true, email, google };
}
