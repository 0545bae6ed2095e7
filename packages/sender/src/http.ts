/**
 * The sender's only I/O with the platforms: one `fetch` with a timeout, turned
 * into a plain response record or a typed error. It never throws for an HTTP
 * status: the platform classifiers decide what a 400 or a 500 means, because
 * Meta puts retryable errors in 400s and TikTok puts errors in 200s
 * (platforms.md §1.7, §4.3).
 */
import { NetworkError, redactUrl, TimeoutError } from './errors.js';

/** The `fetch` the sender calls: the global one or a test double. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** A request as built by a platform module: pure data, ready to send or to audit. */
export interface HttpRequest {
  method: 'POST' | 'GET';
  url: string;
  headers: Record<string, string>;
  /** JSON body (serialised by {@link sendHttp}) or a form-encoded string. */
  body?: unknown;
}

/** What came back: status, lower-cased headers, raw text and the parsed JSON when the text was JSON. */
export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
  /** `undefined` when the body is not JSON. */
  json: unknown;
}

/** Default time a platform gets to answer, in milliseconds. Defaults to `30_000`. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Sends one request. Resolves with the response for every HTTP status; rejects
 * with {@link TimeoutError} when `timeoutMs` passes (the body read included) and
 * with {@link NetworkError} when the connection fails. Both keep the original
 * error as `cause` and print the URL without its query string.
 */
export async function sendHttp(
  fetchImpl: FetchLike,
  req: HttpRequest,
  timeoutMs: number = DEFAULT_TIMEOUT_MS,
): Promise<HttpResponse> {
  const signal = AbortSignal.timeout(timeoutMs);
  const init: RequestInit = { method: req.method, headers: req.headers, signal };
  if (req.body !== undefined) init.body = typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
  try {
    const res = await fetchImpl(req.url, init);
    const text = await res.text();
    const headers: Record<string, string> = {};
    res.headers.forEach((value, key) => {
      headers[key.toLowerCase()] = value;
    });
    return { status: res.status, headers, text, json: parseJson(text) };
  } catch (error) {
    if (signal.aborted || isAbort(error)) throw new TimeoutError(req.method, req.url, timeoutMs, { cause: error });
    throw new NetworkError(req.method, req.url, { cause: error });
  }
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

function parseJson(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Reads `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date.
 * Returns the wait in milliseconds, `0` for a date in the past, `undefined`
 * when the header is absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}

const SECRET_HEADERS = new Set(['authorization', 'access-token', 'developer-token']);

/**
 * A copy of a request fit for an audit log or a dry-run report: secret
 * headers and a body `access_token` (Meta) replaced by `[redacted]`, the URL
 * without query string.
 */
export function redactRequest(req: HttpRequest): HttpRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k] = SECRET_HEADERS.has(k.toLowerCase()) ? '[redacted]' : v;
  const out: HttpRequest = { method: req.method, url: redactUrl(req.url), headers };
  if (req.body !== undefined) {
    out.body =
      typeof req.body === 'object' && req.body !== null && 'access_token' in req.body
        ? { ...(req.body as Record<string, unknown>), access_token: '[redacted]' }
        : typeof req.body === 'string'
          ? '[redacted form body]'
          : req.body;
  }
  return out;
}
