/** The label the `npm start` sandbox prints, so nobody mistakes the fakes for real platforms. */
import type { FakePlatforms } from './types.js';

/** A multi-line, clearly labelled description of running fakes and their base URLs. Pure. */
export function sandboxBanner(fakes: Pick<FakePlatforms, 'urls'>): string {
  const { urls } = fakes;
  return [
    'SANDBOX: fake ad platforms on 127.0.0.1. Nothing is sent to Meta, Google or TikTok.',
    `  Meta Conversions API   ${urls.meta}`,
    `  Meta login dialog      ${urls.metaOAuth}`,
    `  Google OAuth token     ${urls.oauthToken}`,
    `  Google OAuth consent   ${urls.googleAuthorize}`,
    `  Google OAuth revoke    ${urls.googleRevoke}`,
    `  Google Ads API         ${urls.googleAds}`,
    `  Google Data Manager    ${urls.dataManager}`,
    `  TikTok Events API      ${urls.tiktok}`,
    `  TikTok authorization   ${urls.tiktokOAuth}`,
  ].join('\n');
}
