/**
 * When a goal Microsoft called too new is surely old enough (microsoft-ads.md
 * §6, §7.3): Microsoft refuses conversions of a goal created less than 2 hours
 * ago (5615, MS-AOC) and the API gives no creation time, but a goal existed
 * when Pruuv first saw it, so 2 hours after that sighting it is at least 2
 * hours old. A 5615 then waits until that instant (plus 5 minutes for the
 * clocks), not a blind 2 hours from the answer, and never longer than that;
 * when the sighting is older than that (the goal was made again under its
 * name), 2 hours from now. Pure.
 */

/** Microsoft's minimum goal age (MS-AOC, MS-ERR 5615). */
export const GOAL_MIN_AGE_MS = 2 * 3_600_000;
/** Allowance for the clocks of Pruuv and Microsoft, as the fake allows for a conversion time in the future. */
export const GOAL_CLOCK_SKEW_MS = 5 * 60_000;

/**
 * The earliest instant to send to a goal that got a 5615 at `nowMs`.
 *
 * @example goalOldEnoughAt(Date.parse('2026-11-20T10:00Z'), Date.parse('2026-11-20T11:00Z')) // 12:05, not 13:00
 */
export function goalOldEnoughAt(firstSeenMs: number | undefined, nowMs: number): number {
  const bySighting = firstSeenMs === undefined ? undefined : firstSeenMs + GOAL_MIN_AGE_MS + GOAL_CLOCK_SKEW_MS;
  // Never later than the blind 2 hours: the goal existed at the 5615 too.
  return bySighting !== undefined && bySighting > nowMs ? Math.min(bySighting, nowMs + GOAL_MIN_AGE_MS) : nowMs + GOAL_MIN_AGE_MS;
}
