/**
 * A tiny web server for the browser tests, on 127.0.0.1: HTTPS on one free
 * port for the secure test hosts, plain HTTP on another for `other.example`.
 *
 * It plays both sides of a deployment: the shop (HTML fixture pages from
 * `fixtures/`, the landing-page example under `/demo/`) and the collector
 * (`/s.js` serves the built `dist/pruuv.min.js`, `POST /e` captures beacons).
 * Every host name the browser maps to 127.0.0.1 reaches this one server, so a
 * page on `www.shop.example.co.uk` posting to `collect.shop.example.co.uk` is a
 * real cross-origin, same-site request.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { existsSync, readFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TrackPayload } from '../../src/types.js';
import { makeTestCertificate } from '@pruuv/testkit/tls';
import { COLLECT, SECURE_HOSTS } from './chromium.js';

const here = dirname(fileURLToPath(import.meta.url));
const FIXTURES = join(here, 'fixtures');
/**
 * The artifact that ships: tests run against it, never against src.
 * `PRUUV_PIXEL_SCRIPT` points the suite at another build (a release candidate, a CDN copy).
 */
export const DIST_SCRIPT = process.env.PRUUV_PIXEL_SCRIPT ?? resolve(here, '../../dist/pruuv.min.js');
/** The static landing page example, served like the collector serves it at `/demo/`. */
export const LANDING_PAGE = resolve(here, '../../../../examples/landing-page/index.html');
/** The npm-app example; its `dist/app.js` is built by the test that serves it. */
export const NPM_APP = resolve(here, '../../../../examples/npm-app');
/** The site key the test server injects into the examples, as the collector does. */
export const DEMO_SITE = 'site_demo';

/**
 * How `POST /e` answers:
 * - `ok`: 204, the beacon is delivered.
 * - `status`: answers `status` (e.g. 503, 400) without accepting the beacon.
 * - `hang`: never answers (the socket is closed when the server stops).
 * - `refuse`: destroys the socket without a response, a network error in the browser.
 */
export type IngestMode = { kind: 'ok' } | { kind: 'status'; status: number } | { kind: 'hang' } | { kind: 'refuse' };

/** One request that reached the ingest path. */
export interface Beacon {
  /** `Host` header, e.g. `collect.shop.example.co.uk:41234`. */
  host: string;
  /** `Origin` header of the page that sent it. */
  origin: string | undefined;
  contentType: string | undefined;
  /** `Cookie` header: present when the pixel sent credentials to a same-site collector. */
  cookie: string | undefined;
  /** The body as received. */
  raw: string;
  /** The body parsed as JSON (the pixel's `TrackPayload`). */
  body: TrackPayload;
  /** How the server answered it. */
  answered: IngestMode['kind'];
}

export interface TestServer {
  /** The HTTPS port, for the secure hosts. */
  port: number;
  /** The plain HTTP port, for `other.example`. */
  httpPort: number;
  /** `https://{host}:{port}` for a secure host, else `http://{host}:{httpPort}`. */
  origin(host: string): string;
  /** Beacons answered with 2xx, in arrival order. */
  delivered: Beacon[];
  /** Every ingest request, delivered or not, in arrival order. */
  attempts: Beacon[];
  /** CORS preflights seen: a `text/plain` beacon must never need one. */
  preflights: number;
  /** Sets how the ingest path answers from now on. */
  setIngest(mode: IngestMode): void;
  /** Resolves with the delivered beacons once `count` match `filter`; rejects after `timeoutMs`. */
  waitForDelivered(count: number, filter?: (b: Beacon) => boolean, timeoutMs?: number): Promise<Beacon[]>;
  /** Resolves once `count` ingest attempts match `filter`; rejects after `timeoutMs`. */
  waitForAttempts(count: number, filter?: (b: Beacon) => boolean, timeoutMs?: number): Promise<Beacon[]>;
  /** Forgets captured beacons and resets the ingest mode to `ok`. */
  reset(): void;
  close(): Promise<void>;
}

const INGEST_PATH = '/e';

function cors(req: IncomingMessage, res: ServerResponse): void {
  // Credentialed CORS needs the exact Origin echoed, never `*`.
  const origin = req.headers.origin;
  if (origin) {
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    res.setHeader('Vary', 'Origin');
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((done, fail) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
    req.on('error', fail);
  });
}

function sendText(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  res.end(body);
}

/** Fills `{{PORT}}` and `{{COLLECT}}` (the collector's HTTPS origin) in a fixture page. */
function render(html: string, port: number): string {
  return html.replaceAll('{{COLLECT}}', `https://${COLLECT}:${port}`).replaceAll('{{PORT}}', String(port));
}

/** Starts the server on two free ports of 127.0.0.1. Throws when the pixel has not been built. */
export async function startServer(): Promise<TestServer> {
  if (!existsSync(DIST_SCRIPT)) {
    throw new Error(`${DIST_SCRIPT} is missing. Build the pixel first: npm run build -w @pruuv/pixel`);
  }
  let mode: IngestMode = { kind: 'ok' };
  const delivered: Beacon[] = [];
  const attempts: Beacon[] = [];
  const waiters = new Set<() => void>();
  const sockets = new Set<Socket>();
  let preflights = 0;
  let port = 0;
  let httpPort = 0;

  const notify = (): void => waiters.forEach((w) => w());

  async function ingest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    let body: TrackPayload;
    try {
      body = JSON.parse(raw) as TrackPayload;
    } catch {
      cors(req, res);
      sendText(res, 400, 'text/plain', 'body is not JSON');
      return;
    }
    const beacon: Beacon = {
      host: req.headers.host ?? '',
      origin: req.headers.origin,
      contentType: req.headers['content-type'],
      cookie: req.headers.cookie,
      raw,
      body,
      answered: mode.kind,
    };
    attempts.push(beacon);
    switch (mode.kind) {
      case 'ok':
        delivered.push(beacon);
        cors(req, res);
        res.writeHead(204, { 'Cache-Control': 'no-store' });
        res.end();
        break;
      case 'status':
        cors(req, res);
        sendText(res, mode.status, 'text/plain', `test server answers ${mode.status}`);
        break;
      case 'hang':
        break;
      case 'refuse':
        req.socket.destroy();
        break;
    }
    notify();
  }

  async function script(url: URL, res: ServerResponse): Promise<void> {
    // `?delay=ms` holds the script back so calls queue in the inline stub first.
    const delay = Number(url.searchParams.get('delay') ?? '0');
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    // Read on every request so a rebuild is picked up without restarting.
    sendText(res, 200, 'text/javascript; charset=utf-8', readFileSync(DIST_SCRIPT, 'utf8'));
  }

  function page(url: URL, res: ServerResponse): void {
    if (url.pathname === '/demo/' || url.pathname === '/demo/index.html') {
      // The collector serves examples/landing-page at /demo/ and injects the site key.
      const html = readFileSync(LANDING_PAGE, 'utf8').replaceAll('DEMO_SITE_KEY', DEMO_SITE);
      sendText(res, 200, 'text/html; charset=utf-8', html);
      return;
    }
    if (url.pathname === '/npm-app/' || url.pathname === '/npm-app/dist/app.js') {
      const isPage = url.pathname.endsWith('/');
      const file = isPage ? join(NPM_APP, 'index.html') : join(NPM_APP, 'dist/app.js');
      if (!existsSync(file)) {
        sendText(res, 404, 'text/plain', `${file} is missing: build it with npx rollup -c in examples/npm-app`);
        return;
      }
      const body = readFileSync(file, 'utf8').replaceAll('DEMO_SITE_KEY', DEMO_SITE);
      sendText(res, 200, isPage ? 'text/html; charset=utf-8' : 'text/javascript; charset=utf-8', body);
      return;
    }
    const name = url.pathname === '/' ? 'index.html' : url.pathname.slice(1);
    const file = join(FIXTURES, name);
    if (!/^[a-z0-9-]+\.html$/.test(name) || !existsSync(file)) {
      sendText(res, 404, 'text/plain', 'not found');
      return;
    }
    sendText(res, 200, 'text/html; charset=utf-8', render(readFileSync(file, 'utf8'), port));
  }

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://test.invalid');
    if (req.method === 'OPTIONS') {
      preflights++;
      cors(req, res);
      res.setHeader('Access-Control-Allow-Methods', 'POST');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type');
      res.writeHead(204);
      res.end();
      return;
    }
    if (req.method === 'POST' && url.pathname === INGEST_PATH) {
      ingest(req, res).catch(() => res.destroy());
      return;
    }
    if (req.method === 'GET' && url.pathname === '/s.js') {
      script(url, res).catch(() => res.destroy());
      return;
    }
    if (req.method === 'GET') {
      page(url, res);
      return;
    }
    sendText(res, 405, 'text/plain', 'method not allowed');
  };
  const https = createHttpsServer(await makeTestCertificate(SECURE_HOSTS), handle);
  const http = createHttpServer(handle);
  const listen = async (server: Server): Promise<number> => {
    // The TLS server reports its raw sockets on `connection` too.
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return (server.address() as AddressInfo).port;
  };
  port = await listen(https);
  httpPort = await listen(http);
  const close = (server: Server): Promise<void> => new Promise((r) => server.close(() => r()));

  function waitFor(list: Beacon[], count: number, filter: (b: Beacon) => boolean, timeoutMs: number, what: string) {
    return new Promise<Beacon[]>((done, fail) => {
      const check = (): boolean => {
        const hits = list.filter(filter);
        if (hits.length < count) return false;
        clearTimeout(timer);
        waiters.delete(onChange);
        done(hits);
        return true;
      };
      const onChange = (): void => void check();
      const timer = setTimeout(() => {
        waiters.delete(onChange);
        fail(new Error(`expected ${count} ${what} within ${timeoutMs} ms, saw ${list.filter(filter).length}`));
      }, timeoutMs);
      waiters.add(onChange);
      check();
    });
  }

  return {
    port,
    httpPort,
    origin: (host) => (SECURE_HOSTS.includes(host) ? `https://${host}:${port}` : `http://${host}:${httpPort}`),
    delivered,
    attempts,
    get preflights() {
      return preflights;
    },
    setIngest(next) {
      mode = next;
    },
    waitForDelivered: (count, filter = () => true, timeoutMs = 10_000) =>
      waitFor(delivered, count, filter, timeoutMs, 'delivered beacons'),
    waitForAttempts: (count, filter = () => true, timeoutMs = 10_000) =>
      waitFor(attempts, count, filter, timeoutMs, 'ingest attempts'),
    reset() {
      delivered.length = 0;
      attempts.length = 0;
      preflights = 0;
      mode = { kind: 'ok' };
    },
    close() {
      // Hanging requests keep sockets open: destroy them so close() returns.
      sockets.forEach((s) => s.destroy());
      return Promise.all([close(https), close(http)]).then(() => undefined);
    },
  };
}
