/**
 * UUID v4 (RFC 9562 §5.4). Not `crypto.randomUUID`: it is missing in insecure
 * contexts (plain-http pages), where `crypto.getRandomValues` still exists.
 * Falls back to `Math.random` where neither exists.
 */
/**
 * A random UUID v4 from one `crypto.getRandomValues` fill (a call per hex digit cost
 * 31 calls per UUID). Each `0`, `1` or `8` of the template becomes a random hex digit,
 * from the byte at its own offset; `8` keeps its top two bits (`10xx`, the RFC variant)
 * and the `4` (version) stays.
 */
export const uuid = (): string => {
  // Every browser this build supports has `crypto`; `?.` covers a host that set it to undefined.
  const bytes = crypto?.getRandomValues(new Uint8Array(36));
  return '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (c, i: number) =>
    // `^` and `>>` coerce the digit to a number; 256 is a multiple of 16, so `& 15` keeps a byte uniform.
    ((c as unknown as number) ^ ((bytes ? (bytes[i] as number) : Math.random() * 16) & (15 >> ((c as unknown as number) / 4)))).toString(16),
  );
};
