import { createServer, type Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { afterEach, describe, expect, it } from 'vitest';
import { precomputedHeaders, recordHeaders } from '../src/http/security-headers.js';

let server: Server | undefined;
async function stop(): Promise<void> {
  const running = server;
  server = undefined;
  if (!running) return;
  running.closeAllConnections();
  await new Promise((resolve) => running.close(resolve));
}
afterEach(stop);

/** The headers of a GET answered by `middleware` then a JSON body, over real HTTP. */
async function headersOf(middleware: express.RequestHandler): Promise<Record<string, string>> {
  const app = express();
  app.use(middleware);
  app.get('/', (_req, res) => res.json({ ok: true }));
  server = createServer(app);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const res = await fetch(`http://127.0.0.1:${port}/`);
  await res.arrayBuffer();
  await stop();
  const headers = Object.fromEntries(res.headers);
  delete headers['date'];
  delete headers['etag'];
  delete headers['connection'];
  delete headers['keep-alive'];
  return headers;
}

describe('precomputedHeaders', () => {
  it('sets exactly the headers helmet() sets', async () => {
    const expected = await headersOf(helmet());
    expect(expected['x-content-type-options']).toBe('nosniff');
    expect(expected['x-powered-by']).toBeUndefined();
    expect(await headersOf(precomputedHeaders(helmet()))).toEqual(expected);
  });

  it('records helmet() without running it per request', () => {
    const ops = recordHeaders(helmet());
    expect(ops?.map(([name]) => name)).toContain('Content-Security-Policy');
    expect(ops).toContainEqual(['X-Powered-By', undefined]);
  });

  const perRequest: { name: string; middleware: express.RequestHandler }[] = [
    { name: 'reads the request', middleware: (req: Request, res: Response, next: NextFunction) => (res.setHeader('X-Path', req.path), next()) },
    { name: 'calls another response method', middleware: (_req: Request, res: Response, next: NextFunction) => (res.status(200), next()) },
    { name: 'calls next later', middleware: (_req: Request, _res: Response, next: NextFunction) => void setImmediate(next) },
    { name: 'passes an error', middleware: (_req: Request, _res: Response, next: NextFunction) => next(new Error('no')) },
  ];
  for (const { name, middleware } of perRequest) {
    it(`keeps running a middleware that ${name}`, () => {
      expect(recordHeaders(middleware)).toBeUndefined();
      expect(precomputedHeaders(middleware)).toBe(middleware);
    });
  }
});
