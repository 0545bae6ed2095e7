/**
 * Shared HTTP pieces of the collector's routes: the JSON error answers of the
 * webhook contract (webhook-api.md "Responses") and reading a JSON body with a
 * size limit, a content-type check and no prototype surprises.
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { ValidationDetails } from '../domain/schemas.js';

/** Largest request body accepted, in bytes (64 KB): a funnel event is well under 4 KB. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Sends a JSON error answer, with `Retry-After` when given. */
export function sendError(res: Response, status: number, error: string, retryAfterSeconds?: number): void {
  if (retryAfterSeconds !== undefined) res.set('Retry-After', String(retryAfterSeconds));
  res.status(status).json({ error });
}

/** Sends `400 { error: "Validation failed", details }`. */
export function sendValidationFailed(res: Response, details: ValidationDetails): void {
  res.status(400).json({ error: 'Validation failed', details });
}

/**
 * Answers 415 unless the request's media type is one of `types` and its charset,
 * if any, is UTF-8 (RFC 8259 §8.1: JSON between systems is UTF-8).
 */
export function requireContentType(types: readonly string[]): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const [media = '', ...params] = (req.get('content-type') ?? '').split(';');
    const charset = params
      .map((p) => p.trim().toLowerCase())
      .find((p) => p.startsWith('charset='))
      ?.slice('charset='.length)
      .replace(/"/g, '');
    if (!types.includes(media.trim().toLowerCase()) || (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')) {
      sendError(res, 415, 'Unsupported Media Type');
      return;
    }
    next();
  };
}

/** Reads the body as bytes, up to {@link MAX_BODY_BYTES} (beyond: 413 through the error handler). */
export const rawBody: RequestHandler = express.raw({ type: () => true, limit: MAX_BODY_BYTES });

/** The outcome of {@link parseJsonBody}. */
export type ParsedBody = { ok: true; value: unknown } | { ok: false; details: ValidationDetails };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes the raw body as UTF-8 JSON. `JSON.parse` creates `__proto__` as a
 * plain own property, never a prototype, so the schema then rejects it as an
 * unknown field. Messages never echo the body.
 */
export function parseJsonBody(body: unknown): ParsedBody {
  if (!Buffer.isBuffer(body) || body.length === 0) {
    return { ok: false, details: { body: ['Empty body: send a JSON object'] } };
  }
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    return { ok: false, details: { body: ['Body is not valid UTF-8'] } };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, details: { body: ['Malformed JSON: send one JSON object'] } };
  }
}
