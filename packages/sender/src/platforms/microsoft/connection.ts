/**
 * A Microsoft Advertising connection: the manager account (customer) and ad
 * account the offline conversions go to, the offline conversion goal, and the
 * OAuth grant of the person who connected them (microsoft-ads.md §2, §7).
 * The developer token and the Azure app (client id and secret) belong to the
 * Pruuv operator, not to one client: the collector fills them in from
 * `PRUUV_MICROSOFT_DEVELOPER_TOKEN`, `PRUUV_MICROSOFT_CLIENT_ID` and
 * `PRUUV_MICROSOFT_CLIENT_SECRET` when the connection does not set them.
 */
import { z } from 'zod';
import type { ConnectionSpec } from '../adapter.js';
import { connectionFields, DRY_RUN_SCHEMA } from '../connection-fields.js';

/** Microsoft Advertising offline conversions (ApplyOfflineConversions over REST, microsoft-ads.md §1–§3). */
export interface MicrosoftConnection {
  platform: 'microsoft';
  /** Manager account (customer) id, the UI `cid`: the `CustomerId` header. Digits. */
  customer_id: string;
  /** Ad account id, the UI `aid` (not the 8-character account number): the `CustomerAccountId` header. Digits. */
  account_id: string;
  /** The offline conversion goal's name exactly as Microsoft returns it: the `ConversionName` (≤ 100 characters). */
  goal_name: string;
  /** The goal's id, when it was picked from discovery (the goal checks read the goal by it). */
  goal_id?: string;
  /**
   * The goal's `IsEnhancedConversionsEnabled`: only then are hashed email and
   * phone sent (microsoft-ads.md §3.1). Defaults to `false`.
   */
  enhanced_conversions?: boolean;
  /** Microsoft's sandbox hosts and sandbox OAuth scope instead of production (microsoft-ads.md §2, §7.1). Defaults to `false`. */
  test_mode?: boolean;
  /**
   * The path conversions take, one per connection, never both (microsoft-ads.md §1: no
   * cross-path dedup is documented, so one conversion sent both ways may count twice):
   * `offline-conversions` (ApplyOfflineConversions to the offline goal) or `uet-capi`
   * (the UET Conversions API to {@link uet_tag_id}, `capi-*.ts`). Defaults to `offline-conversions`.
   */
  api?: MicrosoftApi;
  /** The UET tag the Conversions API sends to (`api: 'uet-capi'`). Digits. */
  uet_tag_id?: string;
  /** The UET tag's Conversions API token (UI "Copy Token", or `UetTagAuthKey/Query`), bound to {@link uet_tag_id}. */
  uet_api_token?: string;
  /** OAuth refresh token of the Microsoft user who granted `msads.manage`. Microsoft may rotate it; the newest replaces it. */
  refresh_token: string;
  /** The operator's developer token. Defaults to `PRUUV_MICROSOFT_DEVELOPER_TOKEN` (sandbox: the universal `BBD37VB98` works). */
  developer_token?: string;
  /** Azure app (client) id. Defaults to `PRUUV_MICROSOFT_CLIENT_ID`. */
  client_id?: string;
  /** Azure app client secret. Defaults to `PRUUV_MICROSOFT_CLIENT_SECRET`. */
  client_secret?: string;
  dry_run?: boolean;
}

/** The two paths of a Microsoft connection. */
export const MICROSOFT_APIS = ['offline-conversions', 'uet-capi'] as const;
/** One of {@link MICROSOFT_APIS}. */
export type MicrosoftApi = (typeof MICROSOFT_APIS)[number];

/** int64 ids travel as digit strings (microsoft-ads.md §2): kept as text, never numbers. */
const id = (what: string) => z.string().trim().regex(/^\d{1,19}$/, `must be the numeric ${what}`);

const schema = z.object({
  platform: z.literal('microsoft'),
  customer_id: id('customer id (cid)'),
  account_id: id('account id (aid), not the account number'),
  goal_name: z.string().min(1).max(100),
  goal_id: id('conversion goal id').optional(),
  enhanced_conversions: z.boolean().optional(),
  test_mode: z.boolean().optional(),
  api: z.enum(MICROSOFT_APIS).optional(),
  uet_tag_id: id('UET tag id').optional(),
  uet_api_token: z.string().trim().min(1).optional(),
  refresh_token: z.string().min(1),
  developer_token: z.string().min(1).optional(),
  client_id: z.string().min(1).optional(),
  client_secret: z.string().min(1).optional(),
  dry_run: DRY_RUN_SCHEMA,
}).superRefine((c, ctx) => {
  // The UET path needs its tag and the tag's token; the offline fields stay required on both
  // paths (the connection is made with Connect, which picks them).
  if (c.api !== 'uet-capi') return;
  if (c.uet_tag_id === undefined) ctx.addIssue({ code: 'custom', path: ['uet_tag_id'], message: 'the UET Conversions API needs the UET tag id' });
  if (c.uet_api_token === undefined) ctx.addIssue({ code: 'custom', path: ['uet_api_token'], message: "the UET Conversions API needs the tag's API token: paste it, or save the tag id on the offline path first and fetch the token from Microsoft" });
});

/** The fields of a Microsoft connection and their schema. */
export const MICROSOFT_CONNECTION: ConnectionSpec<MicrosoftConnection> = {
  schema,
  fields: connectionFields<MicrosoftConnection>(schema, {
    secrets: ['refresh_token', 'developer_token', 'client_secret', 'uet_api_token'],
    labels: {
      customer_id: 'customer (manager account) id, the cid in the Microsoft Advertising URL',
      account_id: 'ad account id, the aid in the URL (not the account number)',
      goal_name: 'offline conversion goal name, exactly as in Microsoft Advertising',
      goal_id: 'offline conversion goal id',
      enhanced_conversions: 'the goal has enhanced conversions on: send hashed email and phone',
      test_mode: 'send to the Microsoft Advertising sandbox',
      api: 'path: offline-conversions (default) or uet-capi (UET Conversions API), never both',
      uet_tag_id: 'UET tag id (uet-capi path)',
      uet_api_token: "UET tag's Conversions API token (uet-capi path)",
      refresh_token: 'OAuth refresh token (msads.manage offline_access)',
      // Short words only: the Connections page wraps labels on a phone; the variables are in the README.
      developer_token: "developer token (empty: the server's own)",
      client_id: "Azure app client id (empty: the server's own)",
      client_secret: "Azure app client secret (empty: the server's own)",
    },
    defaults: { api: 'offline-conversions' },
  }),
};

/** Whether the connection sends through the UET Conversions API rather than offline conversions. */
export function usesUetCapi(connection: Pick<MicrosoftConnection, 'api'>): boolean {
  return connection.api === 'uet-capi';
}

/** What the connection lacks to send, or `undefined`: the operator's settings may come from the environment. */
export function missingAppSettings(connection: MicrosoftConnection): string | undefined {
  const missing: string[] = [];
  if (connection.developer_token === undefined) missing.push('the developer token (PRUUV_MICROSOFT_DEVELOPER_TOKEN)');
  if (connection.client_id === undefined) missing.push('the Azure app client id (PRUUV_MICROSOFT_CLIENT_ID)');
  if (connection.client_secret === undefined) missing.push('the Azure app client secret (PRUUV_MICROSOFT_CLIENT_SECRET)');
  return missing.length === 0 ? undefined : `The Microsoft connection has no ${missing.join(', ')}.`;
}
