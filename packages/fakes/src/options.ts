/**
 * Defaults and validation of {@link FakePlatformsOptions} (zod at the boundary).
 */
import { z } from 'zod';
import { FakePlatformsError } from './errors.js';
import { DEFAULT_ACCESSIBLE, DEFAULT_ADS_ACCOUNTS, type FakeAdsAccount } from './google-accounts.js';
import { GOOGLE_SCOPES } from './google-oauth.js';
import { META_OAUTH_DEFAULTS, metaOAuthSeedSchema, TIKTOK_OAUTH_DEFAULTS, tiktokOAuthSeedSchema } from './oauth-seeds.js';
import type { FakeMetaOAuthSeed, FakeMicrosoftOptions, FakePlatformsOptions, FakeTikTokOAuthSeed } from './types.js';

/** The accounts every fake is seeded with unless the options say otherwise. */
export const FAKE_DEFAULTS = {
  meta: { pixelId: '1234567890123456', token: 'fake-meta-token' },
  google: {
    customerId: '1234567890',
    conversionActionId: '987654321',
    clientId: 'fake-client-id.apps.googleusercontent.com',
    clientSecret: 'fake-client-secret',
    refreshToken: 'fake-refresh-token',
  },
  tiktok: { pixelCode: 'CFAKEPIXEL0000000000', token: 'fake-tiktok-token' },
  /** The Meta app, its Facebook Login for Business configurations (`900000000000001` issues system-user tokens), businesses and pixels. */
  metaOAuth: META_OAUTH_DEFAULTS,
  /** The TikTok app, its advertisers and their pixels. */
  tiktokOAuth: TIKTOK_OAUTH_DEFAULTS,
  microsoft: {
    customerId: '251000001',
    accountId: '180000001',
    accountNumber: 'F120ABCD',
    goalId: '33000001',
    goalName: 'Pruuv offline conversions',
    clientId: '4c0b7e2a-0000-4000-8000-00000000a001',
    clientSecret: 'fake-microsoft-client-secret',
    refreshToken: 'M.C-fake-microsoft-refresh-token',
    sandboxRefreshToken: 'M.C-fake-microsoft-sandbox-refresh-token',
    developerToken: 'FAKEDEVTOKEN01',
    user: 'advertiser@contoso.example',
    uetTagId: '187000001',
    uetTagName: 'Contoso site tag',
    uetTagToken: 'fake-uet-capi-token-187000001',
  },
} as const;

const ids = z.array(z.string().min(1));
const digits = z.array(z.string().regex(/^\d+$/, 'digits only, no hyphens'));
const instant = z.union([z.date(), z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'an ISO 8601 date-time')]);

const optionsSchema = z
  .object({
    meta: z.object({ pixels: ids, tokens: ids }).strict().optional(),
    google: z
      .object({
        customers: digits,
        conversionActions: digits,
        clientId: z.string().min(1),
        clientSecret: z.string().min(1),
        refreshTokens: ids,
        knownClicks: z.array(z.union([z.string().min(1), z.object({ id: z.string().min(1), clickedAt: instant }).strict()])).optional(),
        tokenScopes: z.array(z.string().min(1)).optional(),
        accounts: z.array(z.object({
          id: z.string().regex(/^\d{10}$/, '10 digits'),
          name: z.string(),
          manager: z.boolean(),
          parents: digits.optional(),
          currencyCode: z.string().optional(),
          timeZone: z.string().optional(),
          conversionActions: z.array(z.object({ id: z.string().regex(/^\d+$/), name: z.string(), type: z.string(), status: z.string(), category: z.string().optional() }).strict()).optional(),
          noRows: z.boolean().optional(),
        }).strict()).optional(),
        accessible: digits.optional(),
        redirectUris: z.array(z.string().url()).optional(),
        codeTtlSeconds: z.number().positive().optional(),
        discoveryPageSize: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
    tiktok: z.object({ pixelCodes: ids, tokens: ids }).strict().optional(),
    metaOAuth: metaOAuthSeedSchema.optional(),
    tiktokOAuth: tiktokOAuthSeedSchema.optional(),
    microsoft: z
      .object({
        customerId: z.string().regex(/^\d+$/),
        accounts: z.array(z.object({ id: z.string().regex(/^\d+$/), name: z.string(), number: z.string() }).strict()),
        goals: z.array(
          z
            .object({
              id: z.string().regex(/^\d+$/),
              name: z.string().min(1).max(100),
              accountId: z.string().regex(/^\d+$/),
              type: z.string().optional(),
              status: z.enum(['Active', 'Paused']).optional(),
              enhanced: z.boolean().optional(),
              createdAt: instant.optional(),
            })
            .strict(),
        ),
        clientId: z.string().min(1),
        clientSecret: z.string().min(1),
        redirectUris: z.array(z.string().url()),
        refreshTokens: ids,
        sandboxRefreshTokens: ids.optional(),
        developerToken: z.string().min(1),
        knownClicks: z.array(z.object({ id: z.string().min(1), accountId: z.string().regex(/^\d+$/), clickedAt: instant.optional() }).strict()).optional(),
        uetTags: z.array(z.object({ id: z.string().regex(/^\d+$/), name: z.string(), accountId: z.string().regex(/^\d+$/), authKey: z.string().min(1).optional() }).strict()).optional(),
      })
      .strict()
      .optional(),
    now: z.custom<() => Date>((v) => typeof v === 'function', 'a function returning a Date').optional(),
    dataManagerQuota: z.object({ perMinute: z.number().int().positive().optional(), perDay: z.number().int().positive().optional() }).strict().optional(),
    dataManagerStatusDelaySeconds: z.number().min(0).optional(),
    adsNotAllowlisted: z.array(z.string()).optional(),
    port: z.number().int().min(0).max(65_535).optional(),
    maxRequestLog: z.union([z.number().int().positive(), z.custom<number>((v) => v === Number.POSITIVE_INFINITY)]).optional(),
  })
  .strict();

/** Options with every default applied. */
export interface ResolvedOptions {
  meta: { pixels: ReadonlySet<string>; tokens: ReadonlySet<string> };
  google: {
    customers: ReadonlySet<string>;
    conversionActions: ReadonlySet<string>;
    clientId: string;
    clientSecret: string;
    refreshTokens: ReadonlySet<string>;
    knownClicks: ReadonlyMap<string, number | undefined> | undefined;
    tokenScopes: readonly string[];
    accounts: ReadonlyMap<string, FakeAdsAccount>;
    accessible: readonly string[];
    redirectUris: readonly string[];
    codeTtlMs: number;
    discoveryPageSize: number;
  };
  tiktok: { pixelCodes: ReadonlySet<string>; tokens: ReadonlySet<string> };
  metaOAuth: FakeMetaOAuthSeed;
  tiktokOAuth: FakeTikTokOAuthSeed;
  microsoft: FakeMicrosoftOptions;
  now: () => Date;
  dataManagerQuota: { perMinute: number; perDay: number };
  dataManagerStatusDelayMs: number;
  adsNotAllowlisted: ReadonlySet<string>;
  port: number;
  maxRequestLog: number;
}

/** Validate options and apply the defaults; throws `FakePlatformsError` naming the bad field. */
export function resolveOptions(options: FakePlatformsOptions): ResolvedOptions {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new FakePlatformsError(`startFakePlatforms: invalid options.\n${z.prettifyError(parsed.error)}`);
  }
  const o = parsed.data;
  const d = FAKE_DEFAULTS;
  const knownClicks = o.google?.knownClicks?.map((click): [string, number | undefined] =>
    typeof click === 'string' ? [click, undefined] : [click.id, new Date(click.clickedAt).getTime()],
  );
  return {
    meta: { pixels: new Set(o.meta?.pixels ?? [d.meta.pixelId]), tokens: new Set(o.meta?.tokens ?? [d.meta.token]) },
    google: {
      customers: new Set(o.google?.customers ?? [d.google.customerId]),
      conversionActions: new Set(o.google?.conversionActions ?? [d.google.conversionActionId]),
      clientId: o.google?.clientId ?? d.google.clientId,
      clientSecret: o.google?.clientSecret ?? d.google.clientSecret,
      refreshTokens: new Set(o.google?.refreshTokens ?? [d.google.refreshToken]),
      knownClicks: knownClicks === undefined ? undefined : new Map(knownClicks),
      tokenScopes: o.google?.tokenScopes ?? [GOOGLE_SCOPES.ads, GOOGLE_SCOPES.dataManager],
      accounts: new Map((o.google?.accounts ?? DEFAULT_ADS_ACCOUNTS).map((a) => [a.id, a as FakeAdsAccount])),
      accessible: o.google?.accessible ?? DEFAULT_ACCESSIBLE,
      redirectUris: o.google?.redirectUris ?? [],
      codeTtlMs: (o.google?.codeTtlSeconds ?? 60) * 1000,
      discoveryPageSize: o.google?.discoveryPageSize ?? 2,
    },
    tiktok: { pixelCodes: new Set(o.tiktok?.pixelCodes ?? [d.tiktok.pixelCode]), tokens: new Set(o.tiktok?.tokens ?? [d.tiktok.token]) },
    metaOAuth: o.metaOAuth ?? structuredClone(d.metaOAuth),
    tiktokOAuth: o.tiktokOAuth ?? structuredClone(d.tiktokOAuth),
    microsoft: o.microsoft ?? {
      customerId: d.microsoft.customerId,
      accounts: [{ id: d.microsoft.accountId, name: 'Contoso', number: d.microsoft.accountNumber }],
      goals: [{ id: d.microsoft.goalId, name: d.microsoft.goalName, accountId: d.microsoft.accountId, enhanced: true }],
      clientId: d.microsoft.clientId,
      clientSecret: d.microsoft.clientSecret,
      redirectUris: [],
      refreshTokens: [d.microsoft.refreshToken],
      sandboxRefreshTokens: [d.microsoft.sandboxRefreshToken],
      developerToken: d.microsoft.developerToken,
      uetTags: [{ id: d.microsoft.uetTagId, name: d.microsoft.uetTagName, accountId: d.microsoft.accountId, authKey: d.microsoft.uetTagToken }],
    },
    now: o.now ?? (() => new Date()),
    dataManagerQuota: { perMinute: o.dataManagerQuota?.perMinute ?? 300, perDay: o.dataManagerQuota?.perDay ?? 100_000 },
    dataManagerStatusDelayMs: (o.dataManagerStatusDelaySeconds ?? 0) * 1000,
    adsNotAllowlisted: new Set(o.adsNotAllowlisted ?? []),
    port: o.port ?? 0,
    maxRequestLog: o.maxRequestLog ?? Number.POSITIVE_INFINITY,
  };
}
