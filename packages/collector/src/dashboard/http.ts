/**
 * The dashboard's HTTP plumbing: its own security headers (a CSP with no
 * inline script or style), the session cookie, the checks every state-changing
 * request passes (same origin, CSRF token), and rendering.
 */
import { parseCookie, stringifySetCookie } from 'cookie';
import type { NextFunction, Request, Response } from 'express';
import type { VNode } from 'preact';
import { renderToString } from 'preact-render-to-string';
import { csrfTokenMatches, type LiveSession } from './auth/sessions.js';

/** The dashboard's Content-Security-Policy: nothing inline, nothing from elsewhere. */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** Headers of every dashboard answer. Pages are never cached: they show live, per-user data. */
export function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Content-Security-Policy', DASHBOARD_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=()');
  if (!res.hasHeader('Cache-Control')) res.setHeader('Cache-Control', 'no-store');
  next();
}

/** Whether the request reached us over HTTPS (directly, or through a trusted proxy). */
export function isSecure(req: Request): boolean {
  return req.secure;
}

/** Whether the request is for a loopback host, where plain HTTP is acceptable. */
export function isLocalhost(req: Request): boolean {
  const host = req.hostname;
  return host === 'localhost' || host === '127.0.0.1' || host === '::1' || host === '[::1]' || host.endsWith('.localhost');
}

/**
 * The session cookie's name: `__Host-` (the browser then insists on Secure,
 * Path=/ and no Domain) over HTTPS; plain on HTTP localhost.
 */
export function cookieName(req: Request): string {
  return isSecure(req) ? '__Host-pruuv_session' : 'pruuv_session';
}

/** The session id the request carries, if any. */
export function sessionCookie(req: Request): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  return parseCookie(header)[cookieName(req)];
}

/** Sets (or, with `undefined`, clears) the session cookie. */
export function setSessionCookie(req: Request, res: Response, id: string | undefined, maxAgeSeconds: number): void {
  res.append(
    'Set-Cookie',
    stringifySetCookie({
      name: cookieName(req),
      value: id ?? '',
      httpOnly: true,
      secure: isSecure(req) || !isLocalhost(req),
      sameSite: 'lax',
      path: '/',
      maxAge: id === undefined ? 0 : maxAgeSeconds,
    }),
  );
}

/** Whether a state-changing request comes from our own pages (Fetch Metadata, then Origin). */
export function sameOrigin(req: Request): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin';
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  return origin === `${req.protocol}://${req.get('host') ?? ''}`;
}

/** Refuses a state-changing request from another origin, or without the session's CSRF token. */
export function checkWrite(req: Request, session: LiveSession | undefined): string | undefined {
  if (!sameOrigin(req)) return 'This form was sent from another site; nothing was changed.';
  if (session !== undefined) {
    const body = req.body as Record<string, unknown> | undefined;
    if (!csrfTokenMatches(session.id, body?.['_csrf'])) return 'This form has expired; reload the page and try again.';
  }
  return undefined;
}

/** Sends a rendered page. */
export function render(res: Response, page: VNode, status = 200): void {
  res.status(status).type('html').send(`<!doctype html>${renderToString(page)}`);
}

/** A dashboard path to return to after sign-in: only our own pages, never another site. */
export function safeNext(value: unknown): string {
  if (typeof value !== 'string' || !/^\/dashboard(\/[A-Za-z0-9/_\-.?=&%]*)?$/.test(value) || value.includes('//')) return '/dashboard';
  return value;
}
