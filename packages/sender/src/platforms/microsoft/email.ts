/**
 * Microsoft's email normalisation, on EVERY domain (microsoft-ads.md §3.1,
 * MS-CAPI): trimmed, lower-cased, every `.` and any `+alias` removed from the
 * local part, then SHA-256. The offline-conversion pages only say "SHA-256";
 * that they use the CAPI rule is UNCONFIRMED, so it is the reading Microsoft
 * documents and walkerOS and Stape follow. The collector applies it where it
 * holds the raw address (webhooks); the hash travels as
 * `email_sha256_microsoft` when it differs from `email_sha256`. Pure.
 */

/**
 * The Microsoft form of an address; `undefined` when nothing is left of the local part.
 *
 * @example microsoftEmail(' John.Doe+ads@Contoso.com ') // 'johndoe@contoso.com'
 */
export function microsoftEmail(address: string): string | undefined {
  const email = address.trim().toLowerCase();
  const at = email.lastIndexOf('@');
  if (at <= 0) return undefined;
  const local = (email.slice(0, at).split('+')[0] ?? '').replace(/\./g, '');
  if (local === '') return undefined;
  return `${local}${email.slice(at)}`;
}
