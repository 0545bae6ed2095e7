/**
 * The one error class of `@pruuv/pixel`. It is thrown (or rejected) only for a
 * programmer's mistake, such as `track()` before `init()`; everything that can
 * go wrong at run time on a visitor's browser fails soft instead.
 * Messages start with `[pruuv]` so they are easy to find in a console.
 */
export class PruuvError extends Error {
  override name = 'PruuvError';
  constructor(message: string) {
    super('[pruuv] ' + message);
  }
}
