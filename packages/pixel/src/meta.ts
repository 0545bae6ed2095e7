/**
 * Meta's `_fbc` / `_fbp` rules (platforms.md §1.8 and §2.1 with its "For this project" note). Pure.
 */

/**
 * A valid `_fbc`/`_fbp`: `fb.{digits}.{digits}.{non-empty}` with an optional fifth
 * segment (the "appendix" Meta's own SDKs add) that is either one of the legacy
 * two-letter tokens or exactly 8 base64url characters, `[A-Za-z0-9_-]` (6 bytes, no
 * padding: platforms.md §1.8, §2.1 rules 1-3). The same rule, character set included, as
 * the sender's `parseFbc`; `test/fbc-conformance.test.ts` checks the two agree.
 */
export const validFb = (v: string | null | undefined): v is string =>
  /^fb\.\d+\.\d+\.[^.]+(\.(A[Qgw]|B[AQg]|[\w-]{8}))?$/.test(v as string);

/**
 * The `_fbc` value to hold at `now` (epoch ms) when `fbclid` arrives: `cur`, verbatim
 * (5-segment values included), when it is valid and its segment 3 equals the fbclid,
 * case-sensitively — never "the part after the last dot", which is the appendix on
 * 5-segment values (platforms.md §1.8 DISAGREE). Otherwise a new
 * `fb.{subdomainIndex}.{now}.{fbclid}` (platforms.md §2.1 rule 6). Callers write only when
 * it differs. (`_fbp` needs no such rule: a valid one is kept, else a new one is drawn.)
 *
 * @example nextFb(undefined, 1, 1700000000123, 'IwAR1') // 'fb.1.1700000000123.IwAR1'
 * @example nextFb('fb.1.1596403881668.IwAR1.AQQCAQIB', 1, 1700000000123, 'IwAR1') // kept
 */
export const nextFb = (cur: string | null | undefined, subdomainIndex: number, now: number, fbclid: string): string =>
  validFb(cur) && cur.split('.')[3] === fbclid ? cur : `fb.${subdomainIndex}.${now}.${fbclid}`;
