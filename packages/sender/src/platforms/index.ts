/**
 * THE PLATFORM REGISTRY: the one list of the platforms Pruuv sends to. The
 * `Platform`, `Connection` and `Plan` types, the platform id list, the
 * connection schema, the default URLs and versions (and, in their modules, the
 * retry table and the batch limits) are derived from it. Adding a platform is
 * a folder under `platforms/` and its entry in `PLATFORMS`, with its import
 * (README, "Adding a platform").
 */
import { z } from 'zod';
import { CLICK_ID_NAMES, COOKIE_ID_NAMES } from '../click-ids.js';
import { SenderError } from '../errors.js';
import type { PlatformAdapter } from './adapter.js';
import type { OAuthProvider } from './oauth-provider.js';
import { google } from './google/index.js';
import { meta } from './meta/index.js';
import { microsoft } from './microsoft/index.js';
import { tiktok } from './tiktok/index.js';

/** Every platform, in the order reports and tables list them. */
export const PLATFORMS = [meta, google, tiktok, microsoft] as const;

type Adapter = (typeof PLATFORMS)[number];
type Parts<A> = A extends PlatformAdapter<infer C, infer P, infer U, infer V> ? { c: C; p: P; u: U; v: V } : never;

/** The ad platforms Pruuv sends conversions to. */
export type Platform = Adapter['id'];
/** A client's connection to one platform: the union of the adapters' connections. */
export type Connection = Parts<Adapter>['c'];
/** An event eligibility accepted for one platform: the union of the adapters' plans. */
export type Plan = Parts<Adapter>['p'];
/** Base URLs of the platforms' APIs, one key per API (the fakes' `urls` fit as they are). */
export type PlatformUrls = Record<Parts<Adapter>['u'], string>;
/** API versions, one key per versioned API. */
export type ApiVersions = Record<Parts<Adapter>['v'], string>;
/** An adapter as the shared engine holds it: any platform's, fed only its own connections and plans. */
export type AnyPlatformAdapter = PlatformAdapter<Connection, Plan, string, string>;

export { CLICK_ID_NAMES, COOKIE_ID_NAMES };

/** Every platform id, in registry order. */
export const PLATFORM_IDS: readonly Platform[] = PLATFORMS.map((p) => p.id);

const BY_ID: ReadonlyMap<string, AnyPlatformAdapter> = new Map<string, AnyPlatformAdapter>(PLATFORMS.map((p) => [p.id, p]));

/** The adapter of a platform id. Throws {@link SenderError} for an id no adapter has: a caller bug, the types rule it out. */
export function platformAdapter(id: Platform): AnyPlatformAdapter {
  const adapter = BY_ID.get(id);
  if (adapter === undefined) throw new SenderError(`Unknown platform "${String(id)}"; known: ${PLATFORM_IDS.join(', ')}.`);
  return adapter;
}

/** The real platforms: every adapter's base URLs. */
export const DEFAULT_URLS: Readonly<PlatformUrls> = Object.fromEntries(PLATFORMS.flatMap((p) => Object.entries(p.urls))) as PlatformUrls;

/** The versions the request builders were written against: every adapter's. */
export const DEFAULT_VERSIONS: Readonly<ApiVersions> = Object.fromEntries(PLATFORMS.flatMap((p) => Object.entries(p.versions))) as ApiVersions;

type ConnectionSchemas = [AnyPlatformAdapter['connection']['schema'], ...AnyPlatformAdapter['connection']['schema'][]];

/** Schema of {@link Connection}: each adapter's, picked by `platform`; Google account ids lose their hyphens. */
export const connectionSchema: z.ZodType<Connection, Connection> = z.discriminatedUnion(
  'platform',
  PLATFORMS.map((p): AnyPlatformAdapter['connection']['schema'] => p.connection.schema) as ConnectionSchemas,
);

/** The OAuth providers of the platforms that have one ("Connect" buttons), in registry order. */
export const OAUTH_PROVIDERS: readonly OAuthProvider[] = PLATFORMS.flatMap((p): OAuthProvider[] => (p.oauth === undefined ? [] : [p.oauth]));

/** The OAuth provider of a platform id, `undefined` for a platform without one or an unknown id. */
export function oauthProvider(id: string): OAuthProvider | undefined {
  return BY_ID.get(id)?.oauth;
}
