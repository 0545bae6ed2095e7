/**
 * ApplyOfflineConversions over REST (microsoft-ads.md §2–§3): the request for
 * a batch. Pure: every field is a function of the stored event and of the
 * connection's fields frozen at the first attempt (`frozen.ts`), so a retry
 * sends byte-identical values even after the goal or its enhanced-conversions
 * switch changed (microsoft-ads.md §5: Microsoft has no dedup field and keys
 * duplicates on the click, the goal name, the conversion time and the hashes).
 */
import type { HttpRequest } from '../../http.js';
import type { MicrosoftConnection } from './connection.js';
import type { MicrosoftFrozen, MicrosoftPlan } from './eligibility.js';

/** Campaign Management, production (MS-AOC). */
export const MICROSOFT_CAMPAIGN_URL = 'https://campaign.api.bingads.microsoft.com';
/** Campaign Management, sandbox (MS-SBX, SDK-PHP Configuration.php). */
export const MICROSOFT_CAMPAIGN_SANDBOX_URL = 'https://campaign.api.sandbox.bingads.microsoft.com';
/** Customer Management, production (MS-CM). */
export const MICROSOFT_CUSTOMER_URL = 'https://clientcenter.api.bingads.microsoft.com';
/** Customer Management, sandbox (MS-CM). */
export const MICROSOFT_CUSTOMER_SANDBOX_URL = 'https://clientcenter.api.sandbox.bingads.microsoft.com';
/** Microsoft identity platform v2.0 token endpoint, tenant `common` (MS-OAUTH; the sandbox uses it too, microsoft-ads.md §7.1). */
export const MICROSOFT_TOKEN_URL = 'https://login.microsoftonline.com/common/oauth2/v2.0/token';
/** The only Campaign Management version in the sources (microsoft-ads.md §2). Defaults to `v13`. */
export const MICROSOFT_API_VERSION = 'v13';
/** Offline conversions per call; more is 5601 (MS-AOC). */
export const MICROSOFT_MAX_BATCH = 1000;

/** One `OfflineConversion` (MS-OC). Unset optional fields are omitted, never `null`. */
export interface OfflineConversion {
  MicrosoftClickId: string;
  ConversionName: string;
  /** UTC, `YYYY-MM-DDTHH:MM:SS.sssZ`: the stored event time, never the send time. */
  ConversionTime: string;
  ConversionValue?: number;
  ConversionCurrencyCode?: string;
  HashedEmailAddress?: string;
  HashedPhoneNumber?: string;
}

/** The JSON body of `OfflineConversions/Apply`. */
export interface ApplyOfflineConversionsBody {
  OfflineConversions: OfflineConversion[];
}

/** The base URLs and version one request uses. */
export interface MicrosoftEndpoints {
  campaign: string;
  version: string;
}

/**
 * One conversion in Microsoft's shape. Hashes only to a goal with enhanced
 * conversions on (microsoft-ads.md §3.1): the email in Microsoft's form when
 * the collector made it (`email_sha256_microsoft`), else the plain
 * normalised hash (valid, may match less); the phone as E.164 with `+`. The
 * goal name and the hashes switch are the plan's frozen ones when it has them.
 */
export function offlineConversion(connection: MicrosoftConnection, plan: MicrosoftPlan): OfflineConversion {
  const e = plan.event;
  const { name, hashes } = plan.frozen ?? connectionFields(connection);
  const out: OfflineConversion = {
    MicrosoftClickId: plan.msclkid,
    ConversionName: name,
    ConversionTime: new Date(e.event_time).toISOString(),
  };
  // The currency goes with the value, upper case (microsoft-ads.md §3); without a value the goal's own applies.
  if (e.revenue_value !== undefined && e.currency !== undefined) {
    out.ConversionValue = e.revenue_value;
    out.ConversionCurrencyCode = e.currency;
  }
  if (hashes) {
    const email = e.email_sha256_microsoft ?? e.email_sha256;
    if (email !== undefined) out.HashedEmailAddress = email;
    if (e.phone_sha256 !== undefined) out.HashedPhoneNumber = e.phone_sha256;
  }
  return out;
}

/** What the connection adds to a conversion today: frozen at its first attempt (`frozen.ts`). */
export function connectionFields(connection: MicrosoftConnection): MicrosoftFrozen {
  return { name: connection.goal_name, hashes: connection.enhanced_conversions === true };
}

/** The connection's Campaign Management base URL: the sandbox in test mode. */
export function campaignUrl(connection: MicrosoftConnection, urls: { microsoftCampaign: string; microsoftCampaignSandbox: string }): string {
  return (connection.test_mode === true ? urls.microsoftCampaignSandbox : urls.microsoftCampaign).replace(/\/+$/, '');
}

/** The REST headers of a Campaign Management call (microsoft-ads.md §2, MS-HDR). */
export function campaignHeaders(connection: MicrosoftConnection, accessToken: string, developerToken: string): Record<string, string> {
  return {
    authorization: `Bearer ${accessToken}`,
    developertoken: developerToken,
    customerid: connection.customer_id,
    customeraccountid: connection.account_id,
    'content-type': 'application/json',
  };
}

/** `POST {campaign}/CampaignManagement/{version}/OfflineConversions/Apply`. */
export function buildMicrosoftRequest(
  connection: MicrosoftConnection,
  plans: readonly MicrosoftPlan[],
  accessToken: string,
  endpoints: MicrosoftEndpoints,
): HttpRequest {
  const body: ApplyOfflineConversionsBody = { OfflineConversions: plans.map((p) => offlineConversion(connection, p)) };
  return {
    method: 'POST',
    url: `${endpoints.campaign}/CampaignManagement/${endpoints.version}/OfflineConversions/Apply`,
    headers: campaignHeaders(connection, accessToken, connection.developer_token ?? ''),
    body,
  };
}
