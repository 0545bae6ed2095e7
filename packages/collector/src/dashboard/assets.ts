/**
 * The dashboard's static files, served by the collector itself (no CDN: many
 * installs run on closed networks): our stylesheet and script from the
 * package's `assets/dashboard/`, and uPlot's build from its npm package. Each is
 * read once at start and served under a name with its content hash, cached for
 * a year (`immutable`), so a new version is a new URL.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Request, Response } from 'express';

/** One served file. */
export interface Asset {
  /** Path under `/dashboard/assets/`, with the content hash. */
  name: string;
  type: string;
  body: Buffer;
  etag: string;
}

/** The dashboard's files, by role. */
export interface Assets {
  css: Asset;
  js: Asset;
  chartCss: Asset;
  chartJs: Asset;
}

function asset(file: string | URL, base: string, ext: 'css' | 'js'): Asset {
  const body = readFileSync(file);
  const hash = createHash('sha256').update(body).digest('base64url').slice(0, 12);
  return { name: `${base}-${hash}.${ext}`, type: ext === 'css' ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8', body, etag: `"${hash}"` };
}

/** Reads the files once. */
export function loadAssets(): Assets {
  const own = new URL('../../assets/dashboard/', import.meta.url);
  const require = createRequire(import.meta.url);
  const uplot = require.resolve('uplot').replace(/uPlot\.cjs\.js$/, '');
  return {
    css: asset(new URL('dashboard.css', own), 'dashboard', 'css'),
    js: asset(new URL('dashboard.js', own), 'dashboard', 'js'),
    chartCss: asset(`${uplot}uPlot.min.css`, 'uplot', 'css'),
    chartJs: asset(`${uplot}uPlot.iife.min.js`, 'uplot', 'js'),
  };
}

/** Serves `GET /dashboard/assets/:name`. */
export function serveAsset(assets: Assets): (req: Request, res: Response) => void {
  const byName = new Map(Object.values(assets).map((a: Asset) => [a.name, a]));
  return (req, res) => {
    const found = byName.get(String(req.params['name']));
    if (found === undefined) {
      res.status(404).type('text/plain').send('Not found');
      return;
    }
    res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    res.setHeader('ETag', found.etag);
    if (req.headers['if-none-match'] === found.etag) {
      res.status(304).end();
      return;
    }
    res.type(found.type).send(found.body);
  };
}
