/**
 * The pixel: a factory that wires capture, storage, consent and transport together.
 * Nothing here runs until `init()`. It needs a DOM: without one (server rendering) the npm
 * entry's `createPixel` (index.ts) hands out a no-op pixel instead, so the script-tag build,
 * which only ever runs in a browser, carries no such checks.
 */
import { attempt } from './attempt.js';
import { findDomain, levels, subdomainIndex } from './domain.js';
import { PruuvError } from './errors.js';
import { fillFields } from './fields.js';
import { gclFallback, iso, record, utmOf, type Saved } from './ledger.js';
import { nextFb, validFb } from './meta.js';
import { hashIdentity } from './normalize.js';
import { captureParams, validClickId, type Params } from './params.js';
import { pickProps } from './payload.js';
import { createStore, lsSet, removeCookie, type CookieAttrs, type Stored } from './storage.js';
import { OUTBOX, createTransport, type Transport } from './transport.js';
import type { Attribution, InitOptions, TrackProps, TrackResult } from './types.js';
import { uuid } from './uuid.js';

/** Seams for tests and unusual hosts. */
export interface PixelDeps {
  /** Clock, epoch milliseconds. Defaults to `Date.now`. */
  now?: () => number;
  /** The `fetch` to POST events with. Defaults to the global `fetch` at send time. */
  fetch?: typeof fetch;
  /**
   * Cookie-domain probe (see `findDomain`). Defaults to writing a real test cookie on
   * each level and reading it back, the last of these reads being the page's cookie read.
   */
  probe?: (domain: string) => boolean;
}

/** The pixel's API, the same on the global `Pruuv` and as named exports. */
export interface Pixel {
  /**
   * Starts the pixel: captures the URL's click IDs and UTMs, watches SPA navigation and
   * hidden fields, and (unless consent is required and not given) persists and sends.
   * A second call is ignored. Without a DOM, does nothing.
   * @throws {PruuvError} when `site` or `endpoint` is missing.
   */
  init(options: InitOptions): void;
  /**
   * Sends a funnel event. Resolves with its `event_id` once the request is handed off (never waiting for the collector's answer)
   * (at once while the event waits for consent); never rejects for network reasons,
   * the outbox retries. Rejects with a `PruuvError` before `init()`. Without a DOM,
   * resolves and sends nothing.
   */
  track(stage: string, props?: TrackProps): Promise<TrackResult>;
  /** What the pixel knows about the visitor's ad clicks (a copy). */
  getAttribution(): Attribution;
  /**
   * The visitor's answer to your consent banner. `true` persists and sends what waited;
   * `false` erases Pruuv's storage and drops waiting events. Not remembered across pages:
   * call it on every page load, as with Meta's `fbq('consent', …)`.
   */
  consent(granted: boolean): void;
}

const PRUUV = '_pruuv';
const VID = '_pruuv_vid';
const FBC = '_fbc';
const FBP = '_fbp';

/**
 * Creates an independent pixel in a browser. Most pages use the default one (`init`, `track`…).
 * Needs a DOM: the npm entry's `createPixel` checks for one.
 */
export function createPixel(deps: PixelDeps = {}): Pixel {
  // `let`, not `const`, for this and `attrs`: terser joins them with the `let`s around them
  // into one declaration (6 B gzipped). Neither is reassigned.
  let now = deps.now || Date.now;
  let opts: InitOptions;
  /** The visitor's consent answer; `undefined` until `consent()` is called. */
  let granted: boolean | undefined;
  let st: Saved = { clicks: {} };
  /** Captures not saved yet (storage closed: waiting for consent), replayed once it opens. */
  let hist: [Params, string, number][] = [];
  /** Events waiting for consent. */
  let queue: (() => unknown)[] = [];
  /** Cookie attributes, filled in on first use (`open`): the domain probe writes cookies, so only after consent or to erase. */
  let attrs: CookieAttrs = {};
  /** Meta's subdomainIndex of the cookie domain; set with `attrs`. */
  let idx: number;
  let loaded: boolean | undefined;
  let vid: string;
  let fbc: Stored;
  let fbp: Stored;
  let ttp: Stored;
  let href: string;
  let send: Transport[0];
  let drain: Transport[1];

  const [read, cookie, get, put, mirror, probe] = createStore(attrs);

  // Only called after init(): `opts` is set.
  const log = (...a: unknown[]) => opts.debug && console.warn('[pruuv]', ...a);
  const allowed = () => granted ?? !opts.requireConsent;

  const parse = (v: Stored) =>
    attempt(() => {
      const s = JSON.parse(v as string) as Saved;
      return s.clicks instanceof Object ? s : undefined;
    });
  /**
   * Reads storage: one cookie read (another tab or Meta's pixel may have written),
   * keeping what is in memory when storage is empty or blocked. Only well-formed
   * `_fbc`/`_ttp` travel: the collector rejects an event with a bad one.
   *
   * The first time, it also finds the cookie attributes and Meta's subdomainIndex: only
   * after consent or to erase, as the domain probe writes cookies. The domain a probe
   * found is kept in the state (`d`), whose localStorage copy is read before any cookie:
   * a page that has it does not probe. One that does not (a first visit, storage cleared
   * or blocked) probes, and the probe's last cookie read is the page's read.
   */
  const open = () => {
    if (idx == null) {
      const host = location.hostname;
      const domain = opts.cookieDomain ?? parse(mirror(PRUUV))?.d ?? findDomain(host, deps.probe || probe);
      idx = subdomainIndex(domain || host);
      Object.assign(attrs, { domain, expires: opts.cookieDays ?? 90, secure: location.protocol == 'https:' });
    }
    read();
    const c = get(FBC);
    const t = cookie('_ttp');
    st = parse(get(PRUUV)) || st;
    if (validFb(c)) fbc = c;
    fbp = get(FBP) ?? fbp;
    ttp = validClickId(t) ? t : undefined;
  };
  /** Re-reads storage before a write or a send, so two tabs do not overwrite each other's clicks. */
  const sync = () => loaded && open();
  const save = () => loaded && put(PRUUV, JSON.stringify({ ...st, d: attrs.domain }));
  const use = (p: Params, url: string, t: number) => {
    record(st, p, url, t);
    // platforms.md §1.8: write _fbc only when absent/invalid or its fbclid differs.
    const n = loaded && p.fbclid && nextFb(fbc, idx, t, p.fbclid);
    if (n && n != fbc) {
      // The _fbc there may sit on another level of the host too (host-only on `www.`, a parent
      // domain: an older setup's or another tool's), listed before ours in document.cookie and
      // so read instead of it: remove it on every level first, leaving the fresh one alone.
      if (cookie(FBC)) attempt(() => ['', ...levels(location.hostname)].map((d) => removeCookie(FBC, d)));
      put(FBC, (st.fbc = fbc = n));
    }
  };
  /** A copy of what is in memory (no storage access: the MutationObserver calls this often). */
  const attribution = (): Attribution => JSON.parse(JSON.stringify({ ...st, d: undefined, fbc, fbp, ttp }));
  const fill = () => fillFields(attribution());

  const capture = () => {
    const url = location.href;
    if (url != href) {
      // The referrer only counts for the page load, not for later SPA navigations.
      const p = captureParams(url, href ? '' : document.referrer);
      const t = now();
      href = url;
      if (Object.keys(p)[0]) {
        sync();
        use(p, url, t);
        loaded ? save() : hist.push([p, url, t]);
      }
      fill();
    }
  };

  /** Opens storage (consent given or not needed): loads, replays waiting captures and events. */
  const load = () => {
    if (!loaded) {
      open();
      loaded = true;
      put(VID, (vid = get(VID) || uuid()));
      // _fbp's last segment: a random 31-bit integer (platforms.md §2.1 rule 7), drawn only when one is needed.
      if (!validFb(fbp)) put(FBP, (st.fbp = fbp = `fb.${idx}.${now()}.${(Math.random() * 2 ** 31) | 0}`));
      hist.splice(0).forEach((h) => use(...h));
      gclFallback(st, 'gclid', cookie('_gcl_aw'));
      gclFallback(st, 'gbraid', cookie('_gcl_gb'));
      save();
      queue.splice(0).forEach((f) => f());
      drain();
    }
  };

  /** consent(false): removes Pruuv's storage, and `_fbc`/`_fbp` only when Pruuv wrote them. */
  const erase = () => {
    open();
    for (const k of [FBC, FBP]) {
      const v = st[k.slice(1) as 'fbc' | 'fbp'];
      // A cookie Pruuv did not write stays; its localStorage copy goes.
      put(k, undefined, !(v && v == cookie(k)));
    }
    [PRUUV, VID].forEach((k) => put(k));
    lsSet(OUTBOX);
    queue = [];
    loaded = false;
    fbc = fbp = ttp = st.fbc = st.fbp = undefined;
  };

  const gate = () => (allowed() ? (load(), fill()) : granted === false && erase());

  const init = (o: InitOptions): void => {
    if (opts) return void log('init twice');
    if (!o?.site || !o.endpoint) throw new PruuvError('[pruuv] init({ site, endpoint }) needs both');
    opts = o;
    [send, drain] = createTransport(o.endpoint.replace(/\/$/, '') + (o.ingestPath || '/e'), now, log, deps.fetch);
    const safeCapture = () => attempt(capture);
    for (const m of ['pushState', 'replaceState'] as const) {
      const f = history[m];
      history[m] = (...a: Parameters<History['pushState']>) => {
        f.apply(history, a);
        safeCapture();
      };
    }
    addEventListener('popstate', safeCapture);
    addEventListener('online', () => allowed() && drain());
    new MutationObserver(() => attempt(fill)).observe(document, { childList: true, subtree: true });
    capture();
    gate();
  };

  const track = async (stage: string, props: TrackProps = {}): Promise<TrackResult> => {
    const event_id = uuid();
    if (!opts) throw new PruuvError('[pruuv] track() before init()');
    // The collector takes URLs up to 4,096 characters.
    const url = location.href.slice(0, 4096);
    const referrer = document.referrer.slice(0, 4096) || undefined;
    const client_time = iso(now());
    // No WebCrypto (insecure context): email and phone are dropped, never sent raw instead.
    const h = await hashIdentity(props.email, props.phone, opts.defaultCountryCode).catch(() => (log('no WebCrypto'), {}));
    const go = () => {
      sync();
      return send({
        ...pickProps(props),
        ...h,
        ...attribution(),
        v: 1,
        site: opts.site,
        stage,
        event_id,
        visitor_id: vid,
        reference: props.reference || vid,
        utm: utmOf(st.last_touch?.params),
        url,
        referrer,
        client_time,
        consent: granted ? 'granted' : 'unspecified',
      });
    };
    // Resolve once the request is handed off, not when the collector answers: a page that
    // awaits track() before navigating must never hang on a slow collector (the keepalive
    // request outlives the page; a failure lands in the outbox).
    allowed() ? void go() : queue.push(go);
    return { event_id };
  };

  return {
    init,
    track,
    getAttribution: () => (sync(), attribution()),
    consent: (g) => ((granted = !!g), opts && gate()),
  };
}
