/**
 * Page origins and the checks the store applies to what it is given, whatever
 * the engine: client names, origins, stage keys and names. The CLI and the admin
 * API validate first (`admin-input.ts`, `operations.ts`); these are the backstop
 * every store runs, so no engine stores what another would refuse.
 */
import { InvalidInputError } from '../errors.js';
import { isPhoneCountry } from './phone.js';

/**
 * The canonical form of a page origin as browsers send it in the `Origin`
 * header: lower-case scheme and host, no default port, no path.
 * Throws {@link InvalidInputError} for anything that is not an http(s) origin.
 */
export function normalizeOrigin(input: string): string {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw new InvalidInputError(`Invalid origin "${input}": write it as scheme://host[:port], e.g. https://www.example.com`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InvalidInputError(`Invalid origin "${input}": only http:// and https:// origins can send pixel events`);
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username || url.password) {
    throw new InvalidInputError(`Invalid origin "${input}": give the origin only (scheme://host[:port]), without path, query or credentials`);
  }
  return url.origin;
}

/** A client name as the store takes it: trimmed, 1 to 200 characters. */
export function checkClientName(input: string): string {
  const name = input.trim();
  if (name === '' || name.length > 200) {
    throw new InvalidInputError('Invalid client name: give 1 to 200 characters, e.g. "Acme Ltd"');
  }
  return name;
}

/** A client as the store takes it: trimmed name, normalised origins, an upper-case default country. */
export function checkClientInput(input: { name: string; origins?: string[]; default_country?: string }): {
  name: string;
  origins: string[];
  default_country: string | null;
} {
  const name = checkClientName(input.name);
  const country = input.default_country === undefined ? null : checkDefaultCountry(input.default_country);
  return { name, origins: [...new Set((input.origins ?? []).map(normalizeOrigin))], default_country: country };
}

/** A client's default country as stored: ISO 3166-1 alpha-2, upper case, with a phone numbering plan. */
export function checkDefaultCountry(input: string): string {
  const code = input.trim().toUpperCase();
  if (!isPhoneCountry(code)) {
    throw new InvalidInputError(`Invalid default country "${input}": give an ISO 3166-1 alpha-2 code, e.g. GB, US, DE`);
  }
  return code;
}

/** Stage keys are what the pixel sends as `stage`: short, lower-case, URL- and log-safe. */
export const STAGE_KEY = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** A stage as the store takes it: trimmed key and name. */
export function checkStageInput(input: { key: string; name: string }): { key: string; name: string } {
  const key = input.key.trim();
  const name = input.name.trim();
  if (!STAGE_KEY.test(key)) {
    throw new InvalidInputError(
      `Invalid stage key "${input.key}": use 1 to 64 lower-case letters, digits, "_" or "-", e.g. "lead" or "sale"`,
    );
  }
  if (name === '' || name.length > 200) {
    throw new InvalidInputError('Invalid stage name: give 1 to 200 characters, e.g. "Lead"');
  }
  return { key, name };
}

const EVENT_NAME_KEYS = ['meta', 'tiktok', 'google_conversion_action_id'] as const;

/** A stage's event-name overrides, trimmed, empty ones dropped. */
export function cleanEventNames(names: Partial<Record<(typeof EVENT_NAME_KEYS)[number], string | undefined>>): {
  meta?: string;
  tiktok?: string;
  google_conversion_action_id?: string;
} {
  const clean: { meta?: string; tiktok?: string; google_conversion_action_id?: string } = {};
  for (const k of EVENT_NAME_KEYS) {
    const value = names[k]?.trim();
    if (value) clean[k] = value;
  }
  return clean;
}
