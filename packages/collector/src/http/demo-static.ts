/**
 * Serves a demo site folder at `/demo/` (used by `npm start`). In `.html` files
 * the literal `DEMO_SITE_KEY` is replaced with the demo client's site key, so
 * the pages work without editing.
 */
import { readFile } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import express, { Router, type NextFunction, type Request, type Response } from 'express';

/** The placeholder replaced in demo HTML. */
export const DEMO_SITE_KEY_PLACEHOLDER = 'DEMO_SITE_KEY';

/** Creates the router; mount it at `/demo`. */
export function createDemoRouter(dir: string, siteKey: string | undefined): Router {
  const root = resolve(dir);
  const router = Router();
  router.get(/.*/, async (req: Request, res: Response, next: NextFunction) => {
    let rel: string;
    try {
      rel = decodeURIComponent(req.path);
    } catch {
      next();
      return;
    }
    if (rel.endsWith('/')) rel += 'index.html';
    if (!rel.endsWith('.html')) {
      next();
      return;
    }
    const file = resolve(root, `.${rel}`);
    if (!file.startsWith(root + sep)) {
      next();
      return;
    }
    let html: string;
    try {
      html = await readFile(file, 'utf8');
    } catch {
      next();
      return;
    }
    if (siteKey !== undefined) html = html.replaceAll(DEMO_SITE_KEY_PLACEHOLDER, siteKey);
    res.set('Cache-Control', 'no-store').type('html').send(html);
  });
  router.use(express.static(root, { index: false, fallthrough: true }));
  return router;
}
