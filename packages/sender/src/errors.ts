/**
 * The sender's error classes: one base class, one subclass per failure kind
 * (after ky's `HTTPError` / `TimeoutError`). Messages name the method and the
 * URL, always without the query string, so a token can never leak into a log.
 */

/** Base class of every error the sender throws. */
export class SenderError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * A URL safe to print: scheme, host and path only. The query string and any
 * user-info are dropped because Meta's `access_token` and OAuth secrets may
 * travel there (platforms.md §1.1).
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return url.replace(/[?#].*$/, '');
  }
}

/** A platform answered with a status the caller did not expect. */
export class HttpError extends SenderError {
  readonly method: string;
  /** The URL without query string. */
  readonly url: string;
  readonly status: number;
  /** The response body, cut to 2,000 characters. */
  readonly body: string;

  constructor(method: string, url: string, status: number, body: string) {
    super(`${method} ${redactUrl(url)} answered HTTP ${status}`);
    this.method = method;
    this.url = redactUrl(url);
    this.status = status;
    this.body = body.slice(0, 2000);
  }
}

/** The request did not complete within its timeout. The platform may still have processed it. */
export class TimeoutError extends SenderError {
  readonly method: string;
  readonly url: string;
  readonly timeoutMs: number;

  constructor(method: string, url: string, timeoutMs: number, options?: { cause?: unknown }) {
    super(`${method} ${redactUrl(url)} timed out after ${timeoutMs} ms`, options);
    this.method = method;
    this.url = redactUrl(url);
    this.timeoutMs = timeoutMs;
  }
}

/** The connection failed (DNS, refused, reset) before a full response arrived. */
export class NetworkError extends SenderError {
  readonly method: string;
  readonly url: string;

  constructor(method: string, url: string, options?: { cause?: unknown }) {
    const detail = describeCause(options?.cause);
    super(`${method} ${redactUrl(url)} failed: ${detail}`, options);
    this.method = method;
    this.url = redactUrl(url);
  }
}

/** Google's token endpoint refused to refresh the access token. */
export class OAuthError extends SenderError {
  /** OAuth error code, e.g. `invalid_grant`. */
  readonly code: string;
  /** `true` when the credentials themselves are bad (revoked or wrong): retrying cannot help. */
  readonly permanent: boolean;
  readonly status: number;
  /** The endpoint's `error_description`, when it gave one. */
  readonly description: string | undefined;

  constructor(code: string, status: number, permanent: boolean, description?: string) {
    const hint = permanent
      ? ' Reconnect the Google account (the refresh token was revoked or the client id/secret are wrong).'
      : '';
    super(`Google OAuth token refresh failed: ${code}${description ? ` (${description})` : ''}.${hint}`);
    this.code = code;
    this.status = status;
    this.permanent = permanent;
    this.description = description;
  }
}

/** `PRUUV_ENCRYPTION_KEY` is missing or malformed. */
export class KeyRingError extends SenderError {}

/** A stored secret could not be decrypted (unknown key, wrong format, or tampered data). */
export class DecryptError extends SenderError {}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const inner = (cause as { cause?: unknown }).cause;
    if (inner instanceof Error) {
      const code = (inner as { code?: unknown }).code;
      return typeof code === 'string' ? `${code} (${inner.message})` : inner.message;
    }
    return cause.message;
  }
  return String(cause);
}
