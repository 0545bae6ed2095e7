/**
 * Script-tag entry, built to `dist/pruuv.min.js` (global `Pruuv`). The only module
 * that touches `window` on load:
 *
 * 1. A second copy of the script sees a real `Pruuv` (marked `v`) and does nothing.
 * 2. Replaces the pre-load stub's methods (README, "Script tag") with the real ones.
 * 3. Without a queued `init`, initialises from `data-site` / `data-endpoint` /
 *    `data-debug`; `endpoint` defaults to the script's own origin, also for a queued
 *    or later `init` that names none.
 * 4. Replays the stub's queue in order. It takes either stub:
 *    - ours, whose entries are `[method, arguments, resolve]`: each queued promise settles
 *      with the real result (a throwing call rejects it);
 *    - the one analytics snippets use, `window.Pruuv = window.Pruuv || function () {
 *      (Pruuv.q = Pruuv.q || []).push(arguments) }`, whose entries are argument lists
 *      `(method, ...args)`: a throwing call's rejection is left unhandled, so the console
 *      reports it. The queue's `push` then runs a call at once, so `Pruuv('track', …)`
 *      keeps working after load.
 *    Either way, one call failing never stops the replay.
 */
import { createPixel, type Pixel } from './pixel.js';
import type { InitOptions } from './types.js';

/** One queued call: our stub's array, or the `arguments` of a function-style stub. */
type Call = [method: keyof Pixel, args: unknown[], resolve: (value: unknown) => void] | IArguments;
/** A queued call as `run` reads it: `pop` (an array's method) is only there on our stub's entries. */
type Ours = { 0: keyof Pixel; 1: unknown[]; 2: (value: unknown) => void; pop?: unknown } & Iterable<unknown>;
type Global = Partial<Pixel> & { q?: Call[]; v?: number };

const w = window as unknown as { Pruuv?: Global };
const g = (w.Pruuv ||= {});
if (!g.v) {
  const s = document.currentScript as HTMLScriptElement | null;
  const d = s ? s.dataset : {};
  const p = createPixel();
  const init = (o?: InitOptions) =>
    p.init({ site: d.site, endpoint: d.endpoint || (s && new URL(s.src).origin), debug: 'debug' in d, ...o } as InitOptions);
  // Created when missing, so that a function-style stub called after load pushes here.
  const q = (g.q ||= []);
  Object.assign(g, p, { init, v: 1 });
  if (d.site && !q.some((c) => c[0] == 'init')) init();
  // `pop` tells our stub's array from an `arguments` object. The async arrow turns a throw
  // into a rejection, so the next call still runs.
  const run = (c: Ours) =>
    (c.pop ? c[2] : Object)((async () => (g[c[0]] as (...a: unknown[]) => unknown)(...(c.pop ? c[1] : [...c].slice(1))))());
  (q as Ours[]).map(run);
  q.push = run as unknown as Call[]['push'];
}
