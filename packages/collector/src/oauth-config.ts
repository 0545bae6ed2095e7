/**
 * The OAuth apps of "Connect" from environment variables, one set per platform
 * provider (oauth.md §1 table): the app's id and secret (both, or the platform
 * has no Connect button), further app settings, and every URL, each
 * overridable so the flow can run against the fakes.
 */
import { OAUTH_PROVIDERS, type Platform } from '@pruuv/sender';
import type { OAuthPlatformConfig } from './domain/oauth.js';

/** The variables of every provider, in registry order: app credentials, then the URLs. */
export const OAUTH_CONFIG_VARIABLES: readonly string[] = [
  ...new Set(OAUTH_PROVIDERS.flatMap((p) => [p.env.clientId, p.env.clientSecret, ...(p.env.extra ?? []), ...(p.env.optional ?? []), ...Object.values(p.env.urls)])),
];

/** The apps configured: only these platforms show a Connect button. */
export interface OAuthConfig {
  platforms: Partial<Record<Platform, OAuthPlatformConfig>>;
}

/** The result: the apps, or one message per invalid variable. */
export type OAuthConfigResult = { ok: true; config: OAuthConfig } | { ok: false; issues: string[] };

function url(value: string): string | undefined {
  try {
    const u = new URL(value.trim());
    if ((u.protocol === 'http:' || u.protocol === 'https:') && u.search === '' && u.hash === '' && u.username === '' && u.password === '') return u.href.replace(/\/+$/, '');
  } catch {
    // reported by the caller
  }
  return undefined;
}

/** Reads the OAuth apps of `env` (empty variables count as unset). */
export function readOAuthConfig(env: NodeJS.ProcessEnv): OAuthConfigResult {
  const get = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const issues: string[] = [];
  const platforms: OAuthConfig['platforms'] = {};
  for (const p of OAUTH_PROVIDERS) {
    const id = get(p.env.clientId);
    const secret = get(p.env.clientSecret);
    const urls: Record<string, string> = { ...p.urls };
    for (const [key, name] of Object.entries(p.env.urls)) {
      const raw = get(name);
      if (raw === undefined) continue;
      const parsed = url(raw);
      if (parsed === undefined) issues.push(`${name} must be an http(s) URL without query or fragment, got '${raw.slice(0, 60)}'`);
      else urls[key] = parsed;
    }
    if (id === undefined && secret === undefined) continue;
    if (id === undefined || secret === undefined) {
      issues.push(`${id === undefined ? p.env.clientId : p.env.clientSecret} must be set with ${id === undefined ? p.env.clientSecret : p.env.clientId} (both, or neither: then ${p.platform} has no Connect button)`);
      continue;
    }
    const extra: Record<string, string> = {};
    const missing = (p.env.extra ?? []).filter((name) => get(name) === undefined);
    if (missing.length > 0) {
      issues.push(`${missing.join(', ')} must be set to connect ${p.platform} with OAuth (with ${p.env.clientId})`);
      continue;
    }
    for (const name of [...(p.env.extra ?? []), ...(p.env.optional ?? [])]) {
      const v = get(name);
      if (v !== undefined) extra[name] = v;
    }
    platforms[p.platform as Platform] = { app: { clientId: id, clientSecret: secret, ...(Object.keys(extra).length > 0 ? { extra } : {}) }, urls };
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, config: { platforms } };
}
