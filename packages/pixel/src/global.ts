/**
 * Script-tag entry, built to `dist/pruuv.min.js` (global `Pruuv`). The only module
 * that touches `window` on load:
 *
 * 1. A second copy of the script sees a real `Pruuv` (marked `v`) and does nothing.
 * 2. Replaces the pre-load stub's methods (README, "Script tag") with the real ones.
 * 3. Without a queued `init`, initialises from `data-site` / `data-endpoint` /
 *    `data-debug`; `endpoint` defaults to the script's own origin, also for a queued
 *    or later `init` that names none.
 * 4. Replays the stub's queue in order, settling each queued promise with the real
 *    result (a throwing call rejects its promise; the replay goes on).
 */
import { createPixel, type Pixel } from './pixel.js';
import type { InitOptions } from './types.js';

type Call = [method: keyof Pixel, args: unknown[], resolve: (value: unknown) => void];
type Global = Partial<Pixel> & { q?: Call[]; v?: number };

const w = window as unknown as { Pruuv?: Global };
const g = (w.Pruuv ||= {});
if (!g.v) {
  const s = document.currentScript as HTMLScriptElement | null;
  const d = s ? s.dataset : {};
  const p = createPixel();
  const init = (o?: InitOptions) =>
    p.init({ site: d.site, endpoint: d.endpoint || (s && new URL(s.src).origin), debug: 'debug' in d, ...o } as InitOptions);
  const q = g.q || [];
  Object.assign(g, p, { init, v: 1 });
  if (d.site && !q.some((c) => c[0] == 'init')) init();
  for (const [m, a, resolve] of q) resolve(new Promise((r) => r((g[m] as (...x: unknown[]) => unknown)(...a))));
}
