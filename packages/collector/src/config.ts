import { z } from 'zod';
import { DEFAULT_BEACON_LIMITS, type BeaconLimitSettings } from './domain/beacon-limits.js';
import { BEACON_SIGNALS, type BeaconSignal } from './domain/beacon-signals.js';
import { DEFAULT_RETENTION_DAYS, MAX_RETENTION_DAYS, MIN_RETENTION_DAYS } from './domain/retention.js';
import { CollectorError } from './errors.js';
import { readSendConfig, SEND_CONFIG_VARIABLES, type SendConfig } from './send/send-config.js';
import { OPS_CONFIG_VARIABLES, readOpsConfig, type OpsConfig } from './ops/ops-config.js';
import { OAUTH_CONFIG_VARIABLES, readOAuthConfig, type OAuthConfig } from './oauth-config.js';

/** Log levels accepted by `PRUUV_LOG_LEVEL` (pino's levels). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** A pino log level. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The collector's runtime configuration, read from environment variables by {@link loadConfig}. */
export interface Config {
  /** TCP port of the HTTP server (`PORT`). Defaults to `8787`. */
  port: number;
  /**
   * Interface the HTTP server binds (`PRUUV_HOST`). Defaults to `undefined`: every interface,
   * which is what a container or a VM behind a proxy needs.
   */
  host?: string;
  /** SQLite database file (`PRUUV_DB`). Defaults to `./data/pruuv.db`. Unused when {@link databaseUrl} is set. */
  dbFile: string;
  /**
   * PostgreSQL instead of SQLite (`PRUUV_DATABASE_URL`, `postgres://user:password@host:5432/db`).
   * Defaults to `undefined`: the SQLite file.
   */
  databaseUrl?: string;
  /** PostgreSQL connections per process (`PRUUV_DATABASE_POOL_SIZE`). Defaults to `10`. */
  poolSize: number;
  /**
   * Open connections one client address may hold when the collector faces clients directly
   * (`PRUUV_CONNECTIONS_PER_ADDRESS`, `0`: no limit). Defaults to `100`.
   */
  connectionsPerAddress: number;
  /** Bearer token of the admin API (`PRUUV_ADMIN_TOKEN`). Defaults to `undefined`: admin API disabled (404). */
  adminToken?: string;
  /** Log level (`PRUUV_LOG_LEVEL`). Defaults to `info`. */
  logLevel: LogLevel;
  /**
   * Human-readable logs (`PRUUV_LOG_PRETTY`, `1`/`true` or `0`/`false`). Defaults to `undefined`:
   * pretty when stdout is a TTY, JSON lines otherwise.
   */
  logPretty?: boolean;
  /** Express `trust proxy` setting (`PRUUV_TRUST_PROXY`). Defaults to `false`. */
  trustProxy: boolean | number | string;
  /** Path of the pixel script (`PRUUV_SCRIPT_PATH`). Defaults to `/s.js`. */
  scriptPath: string;
  /** Path of the pixel ingest endpoint (`PRUUV_INGEST_PATH`). Defaults to `/e`. */
  ingestPath: string;
  /**
   * Public base URL of the collector (`PRUUV_PUBLIC_URL`), used to print webhook URLs.
   * Defaults to `undefined`: `http://localhost:{port}`.
   */
  publicUrl?: string;
  /**
   * Limits of the pixel's ingest endpoint, apart from the webhook's stage quota (see `domain/beacon-limits.ts`):
   * `burst` beacons at once per client address and site (`PRUUV_PIXEL_BURST`, default `60`), then `perMinute`
   * (`PRUUV_PIXEL_PER_MINUTE`, default `60`); `sitePerHour` per site over every address (`PRUUV_PIXEL_SITE_PER_HOUR`,
   * default `10000`). In memory, per process.
   */
  pixelLimits: BeaconLimitSettings;
  /**
   * Browser signals whose absence holds a beacon until an admin releases it (`PRUUV_PIXEL_HOLD`, a comma-separated
   * list of `bot`, `user_agent`, `fetch_metadata`, or `none`). Defaults to all three.
   */
  pixelHold: BeaconSignal[];
  /**
   * Conversion sending: the encryption key ring (`PRUUV_ENCRYPTION_KEY`), the schedule
   * (`PRUUV_SEND_CRON`, default `0 3 * * *`, UTC), the platform API base URLs
   * (`PRUUV_*_API_URL`, default the real platforms) and API versions. See `SendConfig`.
   */
  send: SendConfig;
  /**
   * Days an event is kept with its sends (`PRUUV_RETENTION_DAYS`, from `91` to `36500`): the worker removes, once a
   * day after the scheduled pass, events received earlier whose sends all ended earlier too (see `domain/retention.ts`).
   * Defaults to `180` days.
   */
  retentionDays: number;
  /** Health checks and metrics (`PRUUV_METRICS`…, see `OpsConfig`). Defaults to `DEFAULT_OPS_CONFIG`: metrics off. */
  ops?: OpsConfig;
  /**
   * The OAuth apps of the dashboard's Connect buttons (`PRUUV_GOOGLE_OAUTH_CLIENT_ID` and `_SECRET`…, see
   * `oauth-config.ts`). Defaults to none: credentials are pasted.
   */
  oauth?: OAuthConfig;
}

/** Thrown by {@link loadConfig}; `issues` holds one line per invalid variable. */
export class ConfigError extends CollectorError {
  override name = 'ConfigError';
  /** One message per invalid variable, each naming the variable. */
  readonly issues: string[];

  constructor(issues: string[]) {
    super(
      issues.length === 1
        ? `Invalid configuration: ${issues[0]}`
        : `Invalid configuration:\n- ${issues.join('\n- ')}`,
    );
    this.issues = issues;
  }
}

/** Minimum admin-token length: a short bearer token on a public admin API is guessable. */
const MIN_ADMIN_TOKEN_LENGTH = 16;

/** Quotes a received value for an error message, truncated so a stray secret does not flood the terminal. */
function shown(value: string): string {
  return `'${value.length > 40 ? `${value.slice(0, 37)}...` : value}'`;
}

/**
 * Builds a string-variable schema whose error says "NAME must be …, got 'value'"
 * (without the value for secrets).
 */
function variable<T>(name: string, expected: string, parse: (raw: string) => T | undefined, secret = false) {
  return z.string().transform((raw, ctx): T => {
    const value = parse(raw);
    if (value === undefined) {
      const got = secret ? `got ${raw.length} characters` : `got ${shown(raw)}`;
      ctx.addIssue({ code: 'custom', message: `${name} must be ${expected}, ${got}` });
      return z.NEVER;
    }
    return value;
  });
}

function parsePort(raw: string): number | undefined {
  if (!/^\d{1,5}$/.test(raw.trim())) return undefined;
  const port = Number(raw.trim());
  return port >= 1 && port <= 65535 ? port : undefined;
}

function parseUrlPath(raw: string): string | undefined {
  // A path only: the pixel builds `${endpoint}${path}`, so a query or fragment would break it.
  return /^\/[A-Za-z0-9._~\-/]*$/.test(raw) && !raw.includes('//') ? raw : undefined;
}

function parseBoolean(raw: string): boolean | undefined {
  const v = raw.trim().toLowerCase();
  if (v === '1' || v === 'true' || v === 'yes') return true;
  if (v === '0' || v === 'false' || v === 'no') return false;
  return undefined;
}

function parseTrustProxy(raw: string): boolean | number | string | undefined {
  const v = raw.trim();
  const bool = parseBoolean(v);
  if (bool !== undefined && !/^\d+$/.test(v)) return bool;
  // A number is a hop count (Express "trust proxy" docs): `1` trusts the nearest proxy only.
  if (/^\d+$/.test(v)) return Number(v);
  // Otherwise Express accepts a comma-separated list of addresses, subnets or the names
  // loopback / linklocal / uniquelocal.
  return /^[A-Za-z0-9.:/, ]+$/.test(v) ? v : undefined;
}

function parseDatabaseUrl(raw: string): string | undefined {
  try {
    const url = new URL(raw.trim());
    return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '' ? raw.trim() : undefined;
  } catch {
    return undefined;
  }
}

function parsePublicUrl(raw: string): string | undefined {
  try {
    const url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') return undefined;
    return url.href.replace(/\/+$/, '');
  } catch {
    return undefined;
  }
}

/** A whole number from `min` to `max`. */
function parseCount(min: number, max: number): (raw: string) => number | undefined {
  return (raw) => (/^\d{1,9}$/.test(raw.trim()) && Number(raw) >= min && Number(raw) <= max ? Number(raw) : undefined);
}

function parseSignals(raw: string): BeaconSignal[] | undefined {
  const v = raw.trim().toLowerCase();
  if (v === 'none') return [];
  const names = v.split(',').map((n) => n.trim());
  if (!names.every((n) => (BEACON_SIGNALS as readonly string[]).includes(n))) return undefined;
  // In the order they are checked, each once.
  return BEACON_SIGNALS.filter((n) => names.includes(n));
}

const envSchema = z
  .object({
    PORT: variable('PORT', 'an integer from 1 to 65535', parsePort).optional(),
    PRUUV_HOST: variable('PRUUV_HOST', 'a host name or IP address', (raw) =>
      /^[A-Za-z0-9.:\-[\]]+$/.test(raw) ? raw : undefined,
    ).optional(),
    PRUUV_DB: z.string().optional(),
    PRUUV_DATABASE_URL: variable(
      'PRUUV_DATABASE_URL',
      'a postgres:// URL (postgres://user:password@host:5432/database)',
      parseDatabaseUrl,
      true,
    ).optional(),
    PRUUV_DATABASE_POOL_SIZE: variable('PRUUV_DATABASE_POOL_SIZE', 'an integer from 1 to 1000', (raw) =>
      /^\d{1,4}$/.test(raw.trim()) && Number(raw) >= 1 && Number(raw) <= 1000 ? Number(raw) : undefined,
    ).optional(),
    PRUUV_CONNECTIONS_PER_ADDRESS: variable('PRUUV_CONNECTIONS_PER_ADDRESS', 'an integer from 0 (no limit) to 100000', (raw) =>
      /^\d{1,6}$/.test(raw.trim()) && Number(raw) <= 100_000 ? Number(raw) : undefined,
    ).optional(),
    PRUUV_ADMIN_TOKEN: variable(
      'PRUUV_ADMIN_TOKEN',
      `at least ${MIN_ADMIN_TOKEN_LENGTH} characters without spaces (generate one with \`openssl rand -hex 32\`)`,
      (raw) => (raw.length >= MIN_ADMIN_TOKEN_LENGTH && !/\s/.test(raw) ? raw : undefined),
      true,
    ).optional(),
    PRUUV_LOG_LEVEL: variable('PRUUV_LOG_LEVEL', `one of ${LOG_LEVELS.join(', ')}`, (raw) =>
      (LOG_LEVELS as readonly string[]).includes(raw.trim().toLowerCase())
        ? (raw.trim().toLowerCase() as LogLevel)
        : undefined,
    ).optional(),
    PRUUV_LOG_PRETTY: variable('PRUUV_LOG_PRETTY', '1, true, 0 or false', parseBoolean).optional(),
    PRUUV_TRUST_PROXY: variable(
      'PRUUV_TRUST_PROXY',
      'true, false, a hop count, or a comma-separated list of proxy addresses/subnets',
      parseTrustProxy,
    ).optional(),
    PRUUV_SCRIPT_PATH: variable('PRUUV_SCRIPT_PATH', "a URL path starting with '/' (e.g. /s.js)", parseUrlPath).optional(),
    PRUUV_INGEST_PATH: variable('PRUUV_INGEST_PATH', "a URL path starting with '/' (e.g. /e)", parseUrlPath).optional(),
    PRUUV_PUBLIC_URL: variable('PRUUV_PUBLIC_URL', 'an http(s) URL without query or fragment (e.g. https://collector.example)', parsePublicUrl).optional(),
    PRUUV_PIXEL_BURST: variable('PRUUV_PIXEL_BURST', 'an integer from 1 to 100000', parseCount(1, 100_000)).optional(),
    PRUUV_PIXEL_PER_MINUTE: variable('PRUUV_PIXEL_PER_MINUTE', 'an integer from 1 to 1000000', parseCount(1, 1_000_000)).optional(),
    PRUUV_PIXEL_SITE_PER_HOUR: variable('PRUUV_PIXEL_SITE_PER_HOUR', 'an integer from 1 to 100000000', parseCount(1, 100_000_000)).optional(),
    PRUUV_RETENTION_DAYS: variable(
      'PRUUV_RETENTION_DAYS',
      `an integer from ${MIN_RETENTION_DAYS} (longer than Google's 90-day click window) to ${MAX_RETENTION_DAYS}`,
      parseCount(MIN_RETENTION_DAYS, MAX_RETENTION_DAYS),
    ).optional(),
    PRUUV_PIXEL_HOLD: variable('PRUUV_PIXEL_HOLD', `a comma-separated list of ${BEACON_SIGNALS.join(', ')}, or none`, parseSignals).optional(),
  })
  .superRefine((env, ctx) => {
    const script = env.PRUUV_SCRIPT_PATH ?? '/s.js';
    const ingest = env.PRUUV_INGEST_PATH ?? '/e';
    if (script === ingest) {
      ctx.addIssue({
        code: 'custom',
        message: `PRUUV_INGEST_PATH must differ from PRUUV_SCRIPT_PATH, both are '${script}'`,
      });
    }
  });

/** Environment variables read by {@link loadConfig}, in the order the README lists them. */
export const CONFIG_VARIABLES = [
  'PORT',
  'PRUUV_HOST',
  'PRUUV_DB',
  'PRUUV_DATABASE_URL',
  'PRUUV_DATABASE_POOL_SIZE',
  'PRUUV_CONNECTIONS_PER_ADDRESS',
  'PRUUV_ADMIN_TOKEN',
  'PRUUV_LOG_LEVEL',
  'PRUUV_LOG_PRETTY',
  'PRUUV_TRUST_PROXY',
  'PRUUV_SCRIPT_PATH',
  'PRUUV_INGEST_PATH',
  'PRUUV_PUBLIC_URL',
  'PRUUV_PIXEL_BURST',
  'PRUUV_PIXEL_PER_MINUTE',
  'PRUUV_PIXEL_SITE_PER_HOUR',
  'PRUUV_PIXEL_HOLD',
  'PRUUV_RETENTION_DAYS',
  ...SEND_CONFIG_VARIABLES,
  ...OPS_CONFIG_VARIABLES,
] as const;

/** Every variable {@link loadConfig} reads: {@link CONFIG_VARIABLES} and the OAuth apps'. */
const ALL_VARIABLES: readonly string[] = [...new Set<string>([...CONFIG_VARIABLES, ...OAUTH_CONFIG_VARIABLES])];

/**
 * Reads and validates the collector's configuration from environment variables.
 * Empty variables count as unset. Every invalid variable is reported at once.
 *
 * @param env - The environment. Defaults to `process.env`.
 * @throws {ConfigError} naming each invalid variable and what it expects.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const picked: Record<string, string> = {};
  for (const name of ALL_VARIABLES) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') picked[name] = value;
  }
  const result = envSchema.safeParse(picked);
  const send = readSendConfig(picked);
  const ops = readOpsConfig(picked);
  const oauth = readOAuthConfig(picked);
  const issues = [
    ...(result.success ? [] : result.error.issues.map((issue) => issue.message)),
    ...(send.ok ? [] : send.issues),
    ...(ops.ok ? [] : ops.issues),
    ...(oauth.ok ? [] : oauth.issues),
  ];
  if (!result.success || !send.ok || !ops.ok || !oauth.ok) throw new ConfigError(issues);
  const e = result.data;
  const config: Config = {
    port: e.PORT ?? 8787,
    dbFile: e.PRUUV_DB ?? './data/pruuv.db',
    poolSize: e.PRUUV_DATABASE_POOL_SIZE ?? 10,
    connectionsPerAddress: e.PRUUV_CONNECTIONS_PER_ADDRESS ?? 100,
    logLevel: e.PRUUV_LOG_LEVEL ?? 'info',
    trustProxy: e.PRUUV_TRUST_PROXY ?? false,
    scriptPath: e.PRUUV_SCRIPT_PATH ?? '/s.js',
    ingestPath: e.PRUUV_INGEST_PATH ?? '/e',
    pixelLimits: {
      burst: e.PRUUV_PIXEL_BURST ?? DEFAULT_BEACON_LIMITS.burst,
      perMinute: e.PRUUV_PIXEL_PER_MINUTE ?? DEFAULT_BEACON_LIMITS.perMinute,
      sitePerHour: e.PRUUV_PIXEL_SITE_PER_HOUR ?? DEFAULT_BEACON_LIMITS.sitePerHour,
    },
    pixelHold: e.PRUUV_PIXEL_HOLD ?? [...BEACON_SIGNALS],
    send: send.config,
    retentionDays: e.PRUUV_RETENTION_DAYS ?? DEFAULT_RETENTION_DAYS,
    ops: ops.config,
  };
  if (e.PRUUV_HOST !== undefined) config.host = e.PRUUV_HOST;
  if (e.PRUUV_DATABASE_URL !== undefined) config.databaseUrl = e.PRUUV_DATABASE_URL;
  if (e.PRUUV_ADMIN_TOKEN !== undefined) config.adminToken = e.PRUUV_ADMIN_TOKEN;
  if (e.PRUUV_LOG_PRETTY !== undefined) config.logPretty = e.PRUUV_LOG_PRETTY;
  if (e.PRUUV_PUBLIC_URL !== undefined) config.publicUrl = e.PRUUV_PUBLIC_URL;
  if (Object.keys(oauth.config.platforms).length > 0) config.oauth = oauth.config;
  return config;
}
