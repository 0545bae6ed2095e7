/**
 * The Events and Conversion sends pages to measure (`bench/dashboard.mjs`): each path with the
 * query strings people use, `{client}`, `{stage}`, `{event}`, `{reference}` and `{day}` (a UTC
 * `YYYY-MM-DD` inside the seeded range) to be filled in with seeded values. Every one reads
 * through the index of its shape (the plan tests in `test/store/`).
 */
export const LIST_BENCH_PATHS: readonly string[] = [
  '/dashboard/events',
  '/dashboard/events?client={client}',
  '/dashboard/events?client={client}&stage={stage}',
  '/dashboard/events?client={client}&source=webhook',
  '/dashboard/events?client={client}&click=yes',
  '/dashboard/events?client={client}&from={day}&to={day}',
  '/dashboard/events?reference={reference}',
  '/dashboard/events/{event}',
  '/dashboard/sends',
  '/dashboard/sends?client={client}',
  '/dashboard/sends?status=failed',
  '/dashboard/sends?client={client}&status=failed',
  '/dashboard/sends?client={client}&platform=google',
  '/dashboard/sends?from={day}&to={day}',
  '/dashboard/sends?event={event}',
  '/dashboard/sends/preview',
  '/dashboard/sends.csv?client={client}&from={day}&to={day}',
];
