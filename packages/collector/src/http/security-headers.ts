/**
 * helmet's security headers, computed once. `helmet()` with static options sets the
 * same headers on every answer (no nonces, no per-request directives), but builds
 * them through thirteen chained middlewares per request, the Content-Security-Policy
 * string included: on the webhook that was a measurable share of the request's CPU
 * (bench/ingest.mjs). {@link precomputedHeaders} runs the middleware once against a
 * recording response and then copies the recorded headers onto each answer, so the
 * answers carry exactly the headers helmet would have set.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/** A header operation recorded from the middleware: set `name` to `value`, or remove `name`. */
type HeaderOp = readonly [name: string, value: string | readonly string[] | number | undefined];

/**
 * Runs `middleware` once against a recording response. Returns the header operations it
 * made, or `undefined` when it did anything else (read the request, called another
 * response method, did not call `next` synchronously, passed an error): such a
 * middleware depends on the request and must run every time.
 */
export function recordHeaders(middleware: RequestHandler): HeaderOp[] | undefined {
  const ops: HeaderOp[] = [];
  let unsupported = false;
  const res = new Proxy(
    {
      setHeader(name: string, value: string | readonly string[] | number) {
        ops.push([name, value]);
        return res;
      },
      removeHeader(name: string) {
        ops.push([name, undefined]);
      },
    },
    {
      get(target, key) {
        if (key === 'setHeader' || key === 'removeHeader') return target[key];
        unsupported = true;
        return undefined;
      },
    },
  ) as unknown as Response;
  const req = new Proxy({}, { get: () => ((unsupported = true), undefined) }) as Request;
  let nextCalled = false;
  let nextError: unknown;
  try {
    void middleware(req, res, (error?: unknown) => {
      nextCalled = true;
      nextError = error;
    });
  } catch {
    return undefined;
  }
  return nextCalled && nextError === undefined && !unsupported ? ops : undefined;
}

/**
 * `middleware` (e.g. `helmet()`) as a handler that applies its recorded headers,
 * or `middleware` itself when its headers cannot be recorded (see {@link recordHeaders}).
 */
export function precomputedHeaders(middleware: RequestHandler): RequestHandler {
  const ops = recordHeaders(middleware);
  if (ops === undefined) return middleware;
  return (_req: Request, res: Response, next: NextFunction): void => {
    for (const [name, value] of ops) {
      if (value === undefined) res.removeHeader(name);
      else res.setHeader(name, value);
    }
    next();
  };
}
