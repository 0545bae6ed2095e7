/**
 * UUID v4 (RFC 9562 §5.4). Not `crypto.randomUUID`: it is missing in insecure
 * contexts (plain-http pages), where `crypto.getRandomValues` still exists.
 * Falls back to `Math.random` where neither exists.
 */
import { attempt } from './attempt.js';

const byte = (): number =>
  attempt(() => crypto.getRandomValues(new Uint8Array(1))[0]) ?? (Math.random() * 256) | 0;

/**
 * A random UUID v4. Each `0`, `1` or `8` of the template becomes a random hex digit;
 * `8` keeps its top two bits (`10xx`, the RFC variant) and the `4` (version) stays.
 */
export const uuid = (): string =>
  '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (c) =>
    // `^` and `>>` coerce the digit to a number.
    ((c as unknown as number) ^ (byte() & (15 >> ((c as unknown as number) / 4)))).toString(16),
  );
