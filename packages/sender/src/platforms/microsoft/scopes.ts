/**
 * The scopes of a Microsoft Advertising grant (microsoft-ads.md §7.1). Access
 * tokens come from the send runtime's token cache (`oauth.ts`), with the
 * credential's own token endpoint and scope: refreshed once at a time across
 * workers, and a rotated refresh token (the identity platform may hand out a
 * new one with each refresh) written back to the connection, encrypted.
 */

/** Production scope (MS-OAUTH); `offline_access` brings the refresh token. */
export const MICROSOFT_SCOPE = 'https://ads.microsoft.com/msads.manage offline_access';
/** Sandbox scope, as the SDKs ask it (SDK-PY authorization.py, SDK-PHP UriOAuthService.php; DISAGREE in §7.1). */
export const MICROSOFT_SANDBOX_SCOPE = 'https://si.ads.microsoft.com/msads.manage offline_access';
