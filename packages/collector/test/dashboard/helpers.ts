/** Driving the dashboard over real HTTP in tests: sign in, keep the cookie, read CSRF tokens. */
import { hashPassword } from '../../src/domain/passwords.js';
import type { Store, User, UserRole } from '../../src/store/types.js';

export const PASSWORD = 'a long test passphrase';

/** Creates a user (the hash is computed once per role and reused: scrypt is slow on purpose). */
const hashes = new Map<string, Promise<string>>();
export async function addUser(store: Store, email: string, role: UserRole, clientId?: string, at: Date = new Date()): Promise<User> {
  if (!hashes.has(PASSWORD)) hashes.set(PASSWORD, hashPassword(PASSWORD));
  return store.users.create({ email, role, password_hash: await hashes.get(PASSWORD)!, ...(clientId !== undefined ? { client_id: clientId } : {}) }, at);
}

/** A browser-like client of the dashboard: one cookie, same-origin headers on writes. */
export interface Browser {
  cookie: string | undefined;
  get(path: string): Promise<Response>;
  /** A form POST as our own pages send it (Sec-Fetch-Site: same-origin) with the page's CSRF token unless given. */
  post(path: string, fields: Record<string, string>, headers?: Record<string, string>): Promise<Response>;
  /** The CSRF token of the last page read. */
  csrf: string | undefined;
  signIn(email: string, password?: string): Promise<Response>;
}

export function browser(base: string): Browser {
  const b: Browser = {
    cookie: undefined,
    csrf: undefined,
    async get(path) {
      const res = await fetch(`${base}${path}`, { redirect: 'manual', headers: b.cookie ? { cookie: b.cookie } : {} });
      keep(res);
      if ((res.headers.get('content-type') ?? '').includes('text/html')) {
        const html = await res.clone().text();
        const match = /name="_csrf" value="([^"]+)"/.exec(html);
        if (match) b.csrf = match[1];
      }
      return res;
    },
    async post(path, fields, headers = {}) {
      const body = new URLSearchParams({ ...(b.csrf !== undefined && !('_csrf' in fields) ? { _csrf: b.csrf } : {}), ...fields });
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin', ...(b.cookie ? { cookie: b.cookie } : {}), ...headers },
        body,
      });
      keep(res);
      return res;
    },
    async signIn(email, password = PASSWORD) {
      return b.post('/dashboard/sign-in', { email, password, next: '/dashboard' });
    },
  };
  const keep = (res: Response): void => {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, value] = (pair ?? '').split('=');
      if (name?.includes('pruuv_session')) b.cookie = value === '' ? undefined : `${name}=${value}`;
    }
  };
  return b;
}
