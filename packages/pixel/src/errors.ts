/**
 * The one error class of `@pruuv/pixel`. It is thrown (or rejected) only for a
 * programmer's mistake, such as `track()` before `init()`; everything that can
 * go wrong at run time on a visitor's browser fails soft instead.
 * The pixel's messages start with `[pruuv]` so they are easy to find in a console; the
 * tag is written where each one is thrown (no constructor: 18 B of the script tag).
 */
export class PruuvError extends Error {
  override name = 'PruuvError';
}
