/** The label the `npm start` sandbox prints, so nobody mistakes the fakes for real platforms. */
import type { FakePlatforms } from './types.js';

/** A multi-line, clearly labelled description of running fakes and their base URLs. Pure. */
export function sandboxBanner(fakes: Pick<FakePlatforms, 'urls'>): string {
  const { urls } = fakes;
  return [
    'SANDBOX: fake ad platforms on 127.0.0.1. Nothing is sent to Meta, Google, TikTok or Microsoft.',
    `  Meta Conversions API   ${urls.meta}`,
    `  Meta login dialog      ${urls.metaOAuth}`,
    `  Google OAuth token     ${urls.oauthToken}`,
    `  Google OAuth consent   ${urls.googleAuthorize}`,
    `  Google OAuth revoke    ${urls.googleRevoke}`,
    `  Google Ads API         ${urls.googleAds}`,
    `  Google Data Manager    ${urls.dataManager}`,
    `  TikTok Events API      ${urls.tiktok}`,
    `  TikTok authorization   ${urls.tiktokOAuth}`,
    `  Microsoft identity     ${urls.microsoftToken}`,
    `                         ${urls.microsoftAuthorize}`,
    `  Microsoft Campaign Mgt ${urls.microsoftCampaign}`,
    `           (sandbox)     ${urls.microsoftCampaignSandbox}`,
    `  Microsoft Customer Mgt ${urls.microsoftCustomer}`,
    `           (sandbox)     ${urls.microsoftCustomerSandbox}`,
    `  Microsoft UET CAPI     ${urls.microsoftCapi}`,
    `  Microsoft test-only    ${urls.microsoftInspect}`,
    `                         ${urls.microsoftCapiInspect}`,
  ].join('\n');
}
