/**
 * Serves the pixel's script-tag build (`pruuv.min.js`) at `scriptPath` (default
 * `/s.js`) and at a content-versioned path (`/s.<hash8>.js`).
 *
 * - `/s.js`: `Cache-Control: public, max-age=300` and a strong ETag (content
 *   hash), 304 on a matching `If-None-Match`: a new release reaches every page
 *   within 5 minutes while repeat views cost a revalidation at most.
 * - `/s.<hash8>.js`: `public, max-age=31536000, immutable`: the name changes when the content does.
 *
 * Default paths avoid the words ad-block filter lists match (`pixel`, `track`,
 * `collect`, `analytics`). `Cross-Origin-Resource-Policy: cross-origin` lets
 * any site load it; helmet's `same-origin` would block it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IRouter, Request, Response } from 'express';

/** What the script routes serve. */
export interface PixelScript {
  /** The stable path, e.g. `/s.js`. */
  path: string;
  /** The versioned path, e.g. `/s.1a2b3c4d.js`. */
  versionedPath: string;
  /** Strong ETag, quoted. */
  etag: string;
  body: Buffer;
}

/** `/s.js` → `/s.<hash8>.js`; a path without `.js` gets `.<hash8>.js` appended. */
export function versionedScriptPath(path: string, hash8: string): string {
  return path.endsWith('.js') ? `${path.slice(0, -3)}.${hash8}.js` : `${path}.${hash8}.js`;
}

/** Reads the built script and derives its ETag and versioned path. */
export function loadPixelScript(file: string, path: string): PixelScript {
  const body = readFileSync(file);
  const hash = createHash('sha256').update(body).digest('hex');
  return { path, versionedPath: versionedScriptPath(path, hash.slice(0, 8)), etag: `"${hash.slice(0, 32)}"`, body };
}

/** Whether `If-None-Match` matches the ETag (weak comparison, as RFC 9110 §13.1.2 asks for this header). */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/** Adds the routes serving the script at both paths to `router` (the app). */
export function addScriptRoutes(router: IRouter, script: PixelScript): void {
  const serve = (cacheControl: string) => (req: Request, res: Response) => {
    res.set({
      'Content-Type': 'application/javascript; charset=utf-8',
      'Cache-Control': cacheControl,
      ETag: script.etag,
      'Cross-Origin-Resource-Policy': 'cross-origin',
      // Lets pages load it with `crossorigin` (Subresource Integrity); the script is public.
      'Access-Control-Allow-Origin': '*',
      'X-Content-Type-Options': 'nosniff',
    });
    if (etagMatches(req.get('if-none-match'), script.etag)) {
      res.status(304).end();
      return;
    }
    res.status(200).send(script.body);
  };
  router.get(script.path, serve('public, max-age=300'));
  router.get(script.versionedPath, serve('public, max-age=31536000, immutable'));
}
