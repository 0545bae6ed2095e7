/**
 * The `keys` of `o`, in the order of `keys`, each copied as it is: a missing one becomes
 * an `undefined` value, which `JSON.stringify` leaves out. Shared by the payload's known
 * props and the UTMs of a touch, so the script tag carries one loop for both.
 */
export const pick = <K extends string>(o: Partial<Record<K, unknown>> | undefined, keys: readonly K[]): Partial<Record<K, unknown>> => {
  const out: Partial<Record<K, unknown>> = {};
  for (const k of keys) out[k] = o?.[k];
  return out;
};
