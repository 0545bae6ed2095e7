import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, loggablePath, requestLogger } from '../src/logger.js';

/** A pino destination that keeps every line. */
function memory() {
  const lines: string[] = [];
  return {
    lines,
    write(line: string) {
      lines.push(line);
    },
    get text() {
      return lines.join('');
    },
  };
}

describe('createLogger', () => {
  const secrets = {
    authorization: 'Bearer pwh_SECRETAUTHORIZATION',
    cookie: '_pruuv_vid=SECRETCOOKIE',
    setCookie: 'session=SECRETSETCOOKIE',
    token: 'pwh_SECRETTOKEN',
    email: 'jane.secret@example.com',
    phone: '+447700900123',
    accessToken: 'ya29.SECRETACCESS',
    refreshToken: '1//SECRETREFRESH',
    clientSecret: 'SECRETCLIENT',
  };

  const cases: { name: string; object: Record<string, unknown>; secret: string }[] = [
    { name: 'an authorization header', object: { req: { headers: { authorization: secrets.authorization } } }, secret: secrets.authorization },
    { name: 'a cookie header', object: { req: { headers: { cookie: secrets.cookie } } }, secret: secrets.cookie },
    { name: 'a set-cookie header', object: { res: { headers: { 'set-cookie': [secrets.setCookie] } } }, secret: secrets.setCookie },
    { name: 'a top-level token', object: { token: secrets.token }, secret: secrets.token },
    { name: 'a nested token', object: { stage: { webhook: { token: secrets.token } } }, secret: secrets.token },
    { name: 'an email', object: { user: { email: secrets.email } }, secret: secrets.email },
    { name: 'a phone', object: { phone: secrets.phone }, secret: secrets.phone },
    { name: 'an access token', object: { connection: { access_token: secrets.accessToken } }, secret: secrets.accessToken },
    { name: 'a refresh token', object: { refresh_token: secrets.refreshToken }, secret: secrets.refreshToken },
    { name: 'a client secret', object: { google: { oauth: { client_secret: secrets.clientSecret } } }, secret: secrets.clientSecret },
    { name: 'a token inside an array', object: { stages: [{ id: 'stg_1' }, { token: secrets.token }] }, secret: secrets.token },
    { name: 'a property of a logged err', object: { err: Object.assign(new Error('refused'), { access_token: secrets.accessToken }) }, secret: secrets.accessToken },
    { name: 'a nested property of a logged err', object: { err: Object.assign(new Error('refused'), { request: { headers: { authorization: secrets.authorization } } }) }, secret: secrets.authorization },
    { name: 'a property of an error under another key', object: { failure: { cause: Object.assign(new Error('x'), { email: secrets.email }) } }, secret: secrets.email },
  ];
  for (const { name, object, secret } of cases) {
    it(`redacts ${name}`, () => {
      const out = memory();
      createLogger({ destination: out, pretty: false }).info(object, 'something happened');
      expect(out.text).toContain('something happened');
      expect(out.text).toContain('[Redacted]');
      expect(out.text).not.toContain(secret);
    });
  }

  it('redacts the bindings of a child logger', () => {
    const out = memory();
    createLogger({ destination: out, pretty: false }).child({ token: secrets.token }).info('child line');
    expect(out.text).toContain('child line');
    expect(out.text).not.toContain(secrets.token);
  });

  it('keeps a logged err readable and leaves the logged object unchanged', () => {
    const out = memory();
    const object = { stage_id: 'stg_1', connection: { access_token: secrets.accessToken }, err: new TypeError('bad gclid') };
    createLogger({ destination: out, pretty: false }).error(object, 'send failed');
    const line = JSON.parse(out.lines[0] ?? '') as Record<string, unknown>;
    expect(line).toMatchObject({ stage_id: 'stg_1', connection: { access_token: '[Redacted]' }, err: { type: 'TypeError', message: 'bad gclid' } });
    expect((line['err'] as { stack?: string }).stack).toContain('bad gclid');
    expect(object.connection.access_token).toBe(secrets.accessToken);
  });

  it('redacts in pretty output too', () => {
    const out = memory();
    createLogger({ destination: out, pretty: true }).info({ token: secrets.token, email: secrets.email }, 'pretty line');
    expect(out.text).toContain('pretty line');
    expect(out.text).not.toContain(secrets.token);
    expect(out.text).not.toContain(secrets.email);
    // Pretty output is not JSON.
    expect(() => JSON.parse(out.lines[0] ?? '')).toThrow();
  });

  it('writes one JSON object per line by default', () => {
    const out = memory();
    createLogger({ destination: out, pretty: false }).info({ stage_id: 'stg_1' }, 'stored');
    expect(JSON.parse(out.lines[0] ?? '')).toMatchObject({ level: 30, msg: 'stored', stage_id: 'stg_1' });
  });

  it('respects the level', () => {
    const out = memory();
    const logger = createLogger({ destination: out, pretty: false, level: 'warn' });
    logger.info('hidden');
    logger.warn('shown');
    expect(out.text).not.toContain('hidden');
    expect(out.text).toContain('shown');
  });
});

describe('loggablePath', () => {
  const cases = [
    { url: '/demo/?gclid=abc&utm_source=x', expected: '/demo/' },
    { url: '/e', expected: '/e' },
    { url: '/a#frag', expected: '/a' },
    { url: undefined, expected: '/' },
  ];
  for (const { url, expected } of cases) {
    it(`logs ${String(url)} as ${expected}`, () => {
      expect(loggablePath(url)).toBe(expected);
    });
  }
});

describe('requestLogger', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('logs method, path without query, status and duration, and no header or body', async () => {
    const out = memory();
    const log = requestLogger(createLogger({ destination: out, pretty: false }));
    const server = createServer((req, res) =>
      log(req, res, () => {
        req.resume();
        req.on('end', () => {
          res.statusCode = 201;
          res.end('{}');
        });
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    close = () => new Promise((resolve) => server.close(() => resolve()));
    const { port } = server.address() as AddressInfo;

    const res = await fetch(`http://127.0.0.1:${port}/api/webhooks/funnel/stg_1?gclid=SECRETGCLID`, {
      method: 'POST',
      headers: { Authorization: 'Bearer pwh_SECRETTOKEN', Cookie: '_pruuv_vid=SECRETVID', 'Content-Type': 'application/json' },
      body: JSON.stringify({ reference: 'REF', email: 'SECRETBODY@example.com' }),
    });
    expect(res.status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 20));

    expect(out.lines).toHaveLength(1);
    const line = JSON.parse(out.lines[0] ?? '') as Record<string, unknown>;
    expect(line).toMatchObject({ msg: 'request', method: 'POST', path: '/api/webhooks/funnel/stg_1', status: 201 });
    expect(typeof line.ms).toBe('number');
    expect(out.text).not.toMatch(/SECRET/);
  });
});
