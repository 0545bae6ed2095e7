/**
 * The sender's settings from environment variables, validated with zod; each
 * error names its variable and what it expects. `loadConfig` (config.ts)
 * reads them into `Config.send` and reports their errors with the others'.
 */
import { DEFAULT_URLS, DEFAULT_VERSIONS, type KeyRing, type Platform, type PlatformUrls } from '@pruuv/sender';
import { Cron } from 'croner';
import { z } from 'zod';
import { EncryptionKeyError, readKeyRing } from './secrets.js';

/** The default schedule: daily at 03:00 UTC (conversion-sending.md "How it works"). */
export const DEFAULT_SEND_CRON = '0 3 * * *';

/** The sender's settings. */
export interface SendConfig {
  /** Keys of `PRUUV_ENCRYPTION_KEY`, the first current. Defaults to `undefined`: no credentials can be stored or read. */
  keyRing?: KeyRing;
  /** Cron expression of the scheduled send pass, always UTC (`PRUUV_SEND_CRON`). Defaults to `0 3 * * *`. */
  cron: string;
  /**
   * Platform API base URLs (`PRUUV_META_API_URL`, `PRUUV_GOOGLE_ADS_API_URL`,
   * `PRUUV_GOOGLE_DATA_MANAGER_API_URL`, `PRUUV_GOOGLE_OAUTH_TOKEN_URL`, `PRUUV_TIKTOK_API_URL`).
   * Defaults to the real platforms.
   */
  urls: PlatformUrls;
  /**
   * Settings of the operator's own apps, filled into every connection of the platform that does not
   * set them: Microsoft's developer token and Azure app (`PRUUV_MICROSOFT_DEVELOPER_TOKEN`,
   * `PRUUV_MICROSOFT_CLIENT_ID`, `PRUUV_MICROSOFT_CLIENT_SECRET`). Held in memory only, never stored
   * or printed. Defaults to none.
   */
  connectionDefaults?: Partial<Record<Platform, Readonly<Record<string, string>>>>;
  /** API versions (`PRUUV_META_API_VERSION`, `PRUUV_GOOGLE_ADS_API_VERSION`). Defaults to `v26.0` and `v26`. */
  versions: { meta: string; googleAds: string };
  /**
   * How long a pass holds the outbox rows it claimed (`PRUUV_SEND_LEASE_SECONDS`): the rows of a
   * worker that died mid-pass are sent by another after this. Longer than the slowest batch.
   * Defaults to `undefined`: the sender's 3600 s.
   */
  leaseMs?: number;
}

/** Environment variables read by {@link loadSendConfig}, in the order the README lists them. */
export const SEND_CONFIG_VARIABLES = [
  'PRUUV_ENCRYPTION_KEY',
  'PRUUV_SEND_CRON',
  'PRUUV_META_API_URL',
  'PRUUV_GOOGLE_ADS_API_URL',
  'PRUUV_GOOGLE_DATA_MANAGER_API_URL',
  'PRUUV_GOOGLE_OAUTH_TOKEN_URL',
  'PRUUV_TIKTOK_API_URL',
  'PRUUV_MICROSOFT_CAMPAIGN_API_URL',
  'PRUUV_MICROSOFT_CAMPAIGN_SANDBOX_API_URL',
  'PRUUV_MICROSOFT_CUSTOMER_API_URL',
  'PRUUV_MICROSOFT_CUSTOMER_SANDBOX_API_URL',
  'PRUUV_MICROSOFT_OAUTH_TOKEN_URL',
  'PRUUV_MICROSOFT_CAPI_URL',
  'PRUUV_MICROSOFT_DEVELOPER_TOKEN',
  'PRUUV_MICROSOFT_CLIENT_ID',
  'PRUUV_MICROSOFT_CLIENT_SECRET',
  'PRUUV_META_API_VERSION',
  'PRUUV_GOOGLE_ADS_API_VERSION',
  'PRUUV_SEND_LEASE_SECONDS',
] as const;

const URL_VARIABLES = {
  PRUUV_META_API_URL: 'meta',
  PRUUV_GOOGLE_ADS_API_URL: 'googleAds',
  PRUUV_GOOGLE_DATA_MANAGER_API_URL: 'dataManager',
  PRUUV_GOOGLE_OAUTH_TOKEN_URL: 'oauthToken',
  PRUUV_TIKTOK_API_URL: 'tiktok',
  PRUUV_MICROSOFT_CAMPAIGN_API_URL: 'microsoftCampaign',
  PRUUV_MICROSOFT_CAMPAIGN_SANDBOX_API_URL: 'microsoftCampaignSandbox',
  PRUUV_MICROSOFT_CUSTOMER_API_URL: 'microsoftCustomer',
  PRUUV_MICROSOFT_CUSTOMER_SANDBOX_API_URL: 'microsoftCustomerSandbox',
  PRUUV_MICROSOFT_OAUTH_TOKEN_URL: 'microsoftToken',
  PRUUV_MICROSOFT_CAPI_URL: 'microsoftCapi',
} as const satisfies Record<string, keyof PlatformUrls>;

/** Connection fields the operator sets once for every connection of a platform, by variable. */
const CONNECTION_DEFAULT_VARIABLES = {
  PRUUV_MICROSOFT_DEVELOPER_TOKEN: ['microsoft', 'developer_token'],
  PRUUV_MICROSOFT_CLIENT_ID: ['microsoft', 'client_id'],
  PRUUV_MICROSOFT_CLIENT_SECRET: ['microsoft', 'client_secret'],
} as const satisfies Record<string, readonly [Platform, string]>;

function shown(value: string): string {
  return `'${value.length > 60 ? `${value.slice(0, 57)}...` : value}'`;
}

/** An http(s) URL without query, fragment or credentials; trailing slashes dropped. */
function baseUrl(name: string) {
  return z.string().transform((raw, ctx) => {
    try {
      const url = new URL(raw.trim());
      if ((url.protocol === 'http:' || url.protocol === 'https:') && url.search === '' && url.hash === '' && url.username === '' && url.password === '') {
        return url.href.replace(/\/+$/, '');
      }
    } catch {
      // reported below
    }
    ctx.addIssue({ code: 'custom', message: `${name} must be an http(s) URL without query or fragment (e.g. https://graph.facebook.com), got ${shown(raw)}` });
    return z.NEVER;
  });
}

function apiVersion(name: string, example: string) {
  return z
    .string()
    .transform((s) => s.trim())
    .refine((s) => /^v\d+(\.\d+)?$/.test(s), { message: `${name} must look like ${example}` });
}

const cron = z.string().transform((raw, ctx) => {
  const expr = raw.trim();
  try {
    // Validation only: a paused job never fires.
    new Cron(expr, { paused: true, timezone: 'UTC' }).stop();
    return expr;
  } catch (error) {
    ctx.addIssue({
      code: 'custom',
      message: `PRUUV_SEND_CRON must be a cron expression (minute hour day month weekday, read in UTC), e.g. '0 3 * * *', got ${shown(raw)}: ${error instanceof Error ? error.message : String(error)}`,
    });
    return z.NEVER;
  }
});

const schema = z.object({
  PRUUV_SEND_CRON: cron.optional(),
  PRUUV_META_API_URL: baseUrl('PRUUV_META_API_URL').optional(),
  PRUUV_GOOGLE_ADS_API_URL: baseUrl('PRUUV_GOOGLE_ADS_API_URL').optional(),
  PRUUV_GOOGLE_DATA_MANAGER_API_URL: baseUrl('PRUUV_GOOGLE_DATA_MANAGER_API_URL').optional(),
  PRUUV_GOOGLE_OAUTH_TOKEN_URL: baseUrl('PRUUV_GOOGLE_OAUTH_TOKEN_URL').optional(),
  PRUUV_TIKTOK_API_URL: baseUrl('PRUUV_TIKTOK_API_URL').optional(),
  PRUUV_MICROSOFT_CAMPAIGN_API_URL: baseUrl('PRUUV_MICROSOFT_CAMPAIGN_API_URL').optional(),
  PRUUV_MICROSOFT_CAMPAIGN_SANDBOX_API_URL: baseUrl('PRUUV_MICROSOFT_CAMPAIGN_SANDBOX_API_URL').optional(),
  PRUUV_MICROSOFT_CUSTOMER_API_URL: baseUrl('PRUUV_MICROSOFT_CUSTOMER_API_URL').optional(),
  PRUUV_MICROSOFT_CUSTOMER_SANDBOX_API_URL: baseUrl('PRUUV_MICROSOFT_CUSTOMER_SANDBOX_API_URL').optional(),
  PRUUV_MICROSOFT_OAUTH_TOKEN_URL: baseUrl('PRUUV_MICROSOFT_OAUTH_TOKEN_URL').optional(),
  PRUUV_MICROSOFT_CAPI_URL: baseUrl('PRUUV_MICROSOFT_CAPI_URL').optional(),
  PRUUV_MICROSOFT_DEVELOPER_TOKEN: z.string().trim().min(1).optional(),
  PRUUV_MICROSOFT_CLIENT_ID: z.string().trim().min(1).optional(),
  PRUUV_MICROSOFT_CLIENT_SECRET: z.string().trim().min(1).optional(),
  PRUUV_META_API_VERSION: apiVersion('PRUUV_META_API_VERSION', 'v26.0').optional(),
  PRUUV_GOOGLE_ADS_API_VERSION: apiVersion('PRUUV_GOOGLE_ADS_API_VERSION', 'v26').optional(),
  PRUUV_SEND_LEASE_SECONDS: z
    .string()
    .transform((s) => s.trim())
    .refine((s) => /^\d{1,6}$/.test(s) && Number(s) >= 10, { message: 'PRUUV_SEND_LEASE_SECONDS must be a whole number of seconds, at least 10' })
    .transform(Number)
    .optional(),
});

/** The settings, or one message per invalid variable. */
export type SendConfigResult = { ok: true; config: SendConfig } | { ok: false; issues: string[] };

/**
 * Reads the sender's settings. Empty variables count as unset. Every invalid
 * variable is reported at once (a malformed `PRUUV_ENCRYPTION_KEY` included,
 * without its value).
 */
export function readSendConfig(env: NodeJS.ProcessEnv): SendConfigResult {
  const picked: Record<string, string> = {};
  for (const name of SEND_CONFIG_VARIABLES) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '' && name !== 'PRUUV_ENCRYPTION_KEY') picked[name] = value;
  }
  const issues: string[] = [];
  let keyRing: KeyRing | undefined;
  try {
    keyRing = readKeyRing(env['PRUUV_ENCRYPTION_KEY']);
  } catch (error) {
    if (!(error instanceof EncryptionKeyError)) throw error;
    issues.push(error.message);
  }
  const result = schema.safeParse(picked);
  if (!result.success) issues.push(...result.error.issues.map((i) => i.message));
  if (issues.length > 0 || !result.success) return { ok: false, issues };
  const e = result.data;
  const urls: PlatformUrls = { ...DEFAULT_URLS };
  for (const [name, key] of Object.entries(URL_VARIABLES) as Array<[keyof typeof URL_VARIABLES, keyof PlatformUrls]>) {
    const value = e[name];
    if (value !== undefined) urls[key] = value;
  }
  const connectionDefaults: Partial<Record<Platform, Record<string, string>>> = {};
  for (const [name, [platform, field]] of Object.entries(CONNECTION_DEFAULT_VARIABLES)) {
    const value = e[name as keyof typeof CONNECTION_DEFAULT_VARIABLES];
    if (value !== undefined) connectionDefaults[platform] = { ...connectionDefaults[platform], [field]: value };
  }
  const config: SendConfig = {
    cron: e.PRUUV_SEND_CRON ?? DEFAULT_SEND_CRON,
    urls,
    connectionDefaults,
    versions: { meta: e.PRUUV_META_API_VERSION ?? DEFAULT_VERSIONS.meta, googleAds: e.PRUUV_GOOGLE_ADS_API_VERSION ?? DEFAULT_VERSIONS.googleAds },
  };
  if (keyRing !== undefined) config.keyRing = keyRing;
  if (e.PRUUV_SEND_LEASE_SECONDS !== undefined) config.leaseMs = e.PRUUV_SEND_LEASE_SECONDS * 1000;
  return { ok: true, config };
}
