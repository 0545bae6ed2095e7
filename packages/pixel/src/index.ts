/**
 * `@pruuv/pixel`: captures ad click IDs and UTMs into first-party storage and sends
 * funnel events to a Pruuv collector.
 *
 * Importing runs nothing (`sideEffects: false`), and without a DOM (server rendering)
 * every call is a no-op. The named functions use one default pixel, created on first use.
 *
 * @example
 * import { init, track } from '@pruuv/pixel';
 * init({ site: 'SITE_KEY', endpoint: 'https://collect.example.com' });
 * await track('lead', { email: 'jo@example.com' });
 */
import { createPixel as browserPixel, type Pixel, type PixelDeps } from './pixel.js';
import type { Attribution, InitOptions, TrackProps, TrackResult } from './types.js';
import { uuid } from './uuid.js';

/**
 * Creates an independent pixel. Most pages use the default one (`init`, `track`…).
 *
 * Without a DOM (server rendering) the pixel is a no-op: `init` and `consent` do nothing,
 * `getAttribution()` returns `{ clicks: {} }`, and `track` resolves with a new `event_id`
 * and sends nothing. (The check lives here, not in the pixel itself, so the script-tag
 * build, which only runs in browsers, does not carry it.)
 */
export const createPixel = (deps?: PixelDeps): Pixel =>
  typeof document == 'undefined'
    ? { init() {}, consent() {}, getAttribution: () => ({ clicks: {} }), track: async () => ({ event_id: uuid() }) }
    : browserPixel(deps);

let instance: Pixel | undefined;
const pixel = (): Pixel => (instance ||= createPixel());

/** Starts the default pixel. See {@link Pixel.init}. @throws {PruuvError} when `site` or `endpoint` is missing. */
export const init = (options: InitOptions): void => pixel().init(options);

/** Sends a funnel event with the default pixel. See {@link Pixel.track}. */
export const track = (stage: string, props?: TrackProps): Promise<TrackResult> => pixel().track(stage, props);

/** The default pixel's attribution data. See {@link Pixel.getAttribution}. */
export const getAttribution = (): Attribution => pixel().getAttribution();

/** Passes the visitor's consent answer to the default pixel. See {@link Pixel.consent}. */
export const consent = (granted: boolean): void => pixel().consent(granted);

export { PruuvError } from './errors.js';
export { normalizeEmail, googleEmail, normalizePhone, sha256Hex, hashIdentity } from './normalize.js';
export type { Pixel, PixelDeps } from './pixel.js';
export type { HashedIdentity } from './normalize.js';
export type {
  Attribution,
  CapturedParam,
  ClickEntry,
  ClickIdName,
  ClickLedger,
  ConsentState,
  Demographics,
  InitOptions,
  Touch,
  TrackPayload,
  TrackProps,
  TrackResult,
  UtmName,
} from './types.js';
