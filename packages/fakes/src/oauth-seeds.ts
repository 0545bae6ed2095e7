/**
 * The default worlds of the Meta and TikTok OAuth fakes (oauth.md §5.2, §5.3) and the zod
 * schemas of their seeds. The default Conversions API pixel and Events API pixel code are
 * among the discovered ones, so a flow test can connect, pick and send.
 */
import { z } from 'zod';
import type { FakeMetaOAuthSeed, FakeTikTokOAuthSeed } from './types.js';

/** The Meta world: a client business (BISU consent) whose owned pixel is the default CAPI pixel, an agency-shared pixel and a second business. */
export const META_OAUTH_DEFAULTS: FakeMetaOAuthSeed = {
  app: { id: '1122334455667788', secret: 'fake-meta-app-secret' },
  configs: [
    { id: '900000000000001', tokenType: 'system_user', permissions: ['ads_read', 'business_management'] },
    { id: '900000000000002', tokenType: 'user', permissions: ['ads_read', 'business_management'] },
  ],
  user: { id: '10150000000000001', name: 'Ada Agency' },
  businesses: [
    {
      id: '200000000000001',
      name: 'Client Shop GmbH',
      ownedPixels: [
        { id: '1234567890123456', name: 'Client Shop web' },
        { id: '1234567890123457', name: 'Client Shop staging' },
      ],
      clientPixels: [{ id: '1234567890123458', name: 'Wholesale partner pixel', ownerBusinessId: '200000000000009' }],
      adAccounts: [{ accountId: '300000000000001', name: 'Client Shop EU', pixels: [{ id: '1234567890123456', name: 'Client Shop web' }] }],
    },
    {
      id: '200000000000002',
      name: 'Second Client Ltd',
      ownedPixels: [{ id: '2234567890123456', name: 'Second Client web' }],
      clientPixels: [],
      adAccounts: [],
    },
  ],
  clientBusinessId: '200000000000001',
  maxPageSize: 100,
  codeTtlSeconds: 60,
};

const tiktokPixels = [
  { id: '7100000000000000000', code: 'CFAKEPIXEL0000000000', name: 'Client Shop web' },
  ...Array.from({ length: 21 }, (_, i) => {
    const n = String(i + 1).padStart(2, '0');
    return { id: `71000000000000000${n}`, code: `CFAKEPIXEL00000000${n}`, name: `Client Shop campaign ${n}`, ...(i === 20 ? { unbound: true } : {}) };
  }),
];

/** The TikTok world: an advertiser with 22 pixels (two pages of 20; the last one unbound) and a second advertiser. */
export const TIKTOK_OAUTH_DEFAULTS: FakeTikTokOAuthSeed = {
  app: { id: '7300000000000000001', secret: 'fake-tiktok-app-secret' },
  advertisers: [
    { id: '7012345678901234567', name: 'Client Shop', pixels: tiktokPixels },
    { id: '7012345678901234568', name: 'Second Client', pixels: [{ id: '7100000000000000100', code: 'CFAKEPIXEL1000000000', name: 'Second Client web' }] },
  ],
  codeTtlSeconds: 3600,
};

const app = z.object({ id: z.string().min(1), secret: z.string().min(1), redirectUris: z.array(z.string().url()).optional() }).strict();
const metaPixel = z
  .object({ id: z.string().regex(/^\d+$/), name: z.string(), ownerBusinessId: z.string().optional(), unavailable: z.boolean().optional() })
  .strict();

/** Schema of {@link FakeMetaOAuthSeed}. */
export const metaOAuthSeedSchema = z
  .object({
    app,
    configs: z.array(z.object({ id: z.string().min(1), tokenType: z.enum(['system_user', 'user']), permissions: z.array(z.string().min(1)) }).strict()),
    user: z.object({ id: z.string().min(1), name: z.string() }).strict(),
    businesses: z.array(
      z
        .object({
          id: z.string().regex(/^\d+$/),
          name: z.string(),
          ownedPixels: z.array(metaPixel),
          clientPixels: z.array(metaPixel),
          adAccounts: z.array(z.object({ accountId: z.string().regex(/^\d+$/), name: z.string(), pixels: z.array(metaPixel) }).strict()),
        })
        .strict(),
    ),
    clientBusinessId: z.string().min(1),
    maxPageSize: z.number().int().positive(),
    trailingEmptyPage: z.boolean().optional(),
    codeTtlSeconds: z.number().positive(),
  })
  .strict();

/** Schema of {@link FakeTikTokOAuthSeed}. */
export const tiktokOAuthSeedSchema = z
  .object({
    app: app.refine((a) => (a.redirectUris?.length ?? 0) <= 10, 'a TikTok app has at most 10 advertiser redirect URLs'),
    advertisers: z.array(
      z
        .object({
          id: z.string().regex(/^\d+$/),
          name: z.string(),
          pixels: z.array(z.object({ id: z.string().min(1), code: z.string().min(1), name: z.string(), unbound: z.boolean().optional() }).strict()),
        })
        .strict(),
    ),
    codeTtlSeconds: z.number().positive(),
  })
  .strict();
