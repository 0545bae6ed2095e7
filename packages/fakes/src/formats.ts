/** Value formats shared by several fakes. */

/** Lower-case hex SHA-256 digest, the form every platform's examples use. */
export const SHA256_HEX = /^[a-f0-9]{64}$/;

/** ISO 4217 codes known to the runtime (Intl), for "known currency" checks. */
const ISO_CURRENCIES: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency'));

/** `true` for a three-letter upper-case ISO 4217 code the runtime knows. */
export function isKnownCurrency(value: unknown): boolean {
  return typeof value === 'string' && /^[A-Z]{3}$/.test(value) && ISO_CURRENCIES.has(value);
}

/** The JSON type name of a value, for messages. */
export function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

const SECOND = 1000;
/** Milliseconds in the units the rules speak in. */
export const MS = { second: SECOND, minute: 60 * SECOND, hour: 3600 * SECOND, day: 86_400 * SECOND } as const;
