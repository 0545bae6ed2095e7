/**
 * Meta's `_fbc` / `_fbp` rules (platforms.md §1.8 and §2.1 with its "For this project" note). Pure.
 */

/**
 * A valid `_fbc`/`_fbp`: `fb.{digits}.{digits}.{non-empty}` with an optional fifth
 * segment (the "appendix" Meta's own SDKs add) that is either one of the legacy
 * two-letter tokens or exactly 8 characters (platforms.md §2.1 rules 1-3).
 */
export const validFb = (v: string | null | undefined): v is string =>
  /^fb\.\d+\.\d+\.[^.]+(\.(A[Qgw]|B[AQg]|[^.]{8}))?$/.test(v as string);

/** `cur` when valid and `keep`, else a new `fb.{subdomainIndex}.{now}.{last}`. */
const fb = (cur: string | null | undefined, keep: boolean, subdomainIndex: number, now: number, last: string | number) =>
  validFb(cur) && keep ? cur : `fb.${subdomainIndex}.${now}.${last}`;

/**
 * The `_fbc` to hold after `fbclid` arrived at `now` (epoch ms): the existing value,
 * verbatim (5-segment values included), when it is valid and its segment 3 equals
 * the fbclid case-sensitively — never "the part after the last dot", which is the
 * appendix on 5-segment values (platforms.md §1.8 DISAGREE) — else a new
 * `fb.{subdomainIndex}.{now}.{fbclid}`. Callers write only when it differs.
 */
export const nextFbc = (cur: string | null | undefined, fbclid: string, subdomainIndex: number, now: number): string =>
  fb(cur, cur?.split('.')[3] === fbclid, subdomainIndex, now, fbclid);

/**
 * The `_fbp` to hold: the existing value when valid, else a new
 * `fb.{subdomainIndex}.{now}.{random}` with a random 31-bit integer, as Meta's
 * reference builder does (platforms.md §2.1 rule 7).
 */
export const nextFbp = (
  cur: string | null | undefined,
  subdomainIndex: number,
  now: number,
  random: number = (Math.random() * 2 ** 31) >>> 0,
): string => fb(cur, true, subdomainIndex, now, random);
