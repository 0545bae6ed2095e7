/**
 * Throwaway TLS certificates for test servers.
 *
 * Chromium's headless shell ignores `--unsafely-treat-insecure-origin-as-secure`,
 * so tests that need a secure context on a real host name (WebCrypto hashing,
 * `Secure` cookies) serve it over HTTPS with a certificate made at test start,
 * and open it in a context with `ignoreHTTPSErrors`: closer to production than
 * plain HTTP treated as secure.
 */
import { generate } from 'selfsigned';

/** A PEM key and certificate, as `https.createServer` takes them. */
export interface TestCertificate {
  key: string;
  cert: string;
}

/**
 * A self-signed certificate for `hosts` (DNS names) and 127.0.0.1, valid for a
 * day from an hour ago (a little clock skew between the test and the browser
 * must not matter). P-256: generated in milliseconds.
 */
export async function makeTestCertificate(hosts: readonly string[]): Promise<TestCertificate> {
  const now = Date.now();
  const pems = await generate([{ name: 'commonName', value: hosts[0] ?? 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now - 3_600_000),
    notAfterDate: new Date(now + 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [...hosts.map((value) => ({ type: 2 as const, value })), { type: 7 as const, ip: '127.0.0.1' }],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}
