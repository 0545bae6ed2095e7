/**
 * Connections at rest: secrets encrypted under PRUUV_ENCRYPTION_KEY, never
 * shown, rotated; the sender refusing to start without the key; the send
 * settings read from the environment.
 */
import { parseKeyRing } from '@pruuv/sender';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { OperationError } from '../src/domain/operations.js';
import { checkStoredCredentials } from '@pruuv/sender';
import { EncryptionKeyError, readKeyRing } from '../src/send/secrets.js';
import { createSendStore } from '../src/send/send-store.js';
import { createSender } from '../src/send/sender.js';
import { FAKE_FIELDS, newKey, sendEnv, type SendEnv } from './send-helpers.js';

let env: SendEnv | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

const SECRETS = ['fake-meta-token', 'fake-client-secret', 'fake-refresh-token', 'fake-tiktok-token'];

describe('connections', () => {
  it('stores tokens and client secrets encrypted and lists only their names', async () => {
    env = await sendEnv();
    const raw = JSON.stringify(env.db.prepare('SELECT * FROM connections').all());
    for (const secret of SECRETS) expect(raw).not.toContain(secret);
    expect(raw).toMatch(/v1:[0-9a-f]{8}:/);
    const listed = await env.connections.list({ client_id: env.client.id });
    expect(listed.map((c) => [c.platform, c.secrets])).toEqual([
      ['google', ['client_secret', 'refresh_token']],
      ['meta', ['access_token']],
      ['tiktok', ['access_token']],
    ]);
    for (const secret of SECRETS) expect(JSON.stringify(listed)).not.toContain(secret);
    expect(listed.find((c) => c.platform === 'google')?.settings).toEqual({
      api: 'data-manager',
      customer_id: '1234567890',
      conversion_action_id: '987654321',
      client_id: 'fake-client-id.apps.googleusercontent.com',
    });
  });

  it('decrypts a connection for sending', async () => {
    env = await sendEnv();
    expect((await env.connections.load(env.client.id, 'meta', env.ring))?.connection).toEqual({ platform: 'meta', ...FAKE_FIELDS.meta });
  });

  it('replaces one field and keeps the others, and un-pauses', async () => {
    env = await sendEnv({ connect: ['meta'] });
    const id = (await env.connections.get(env.client.id, 'meta'))!.id;
    await env.store.connections.pause(id, 'auth 190: Invalid OAuth access token', env.clock.now());
    const view = await env.connections.set({ client_id: env.client.id, platform: 'meta', fields: { access_token: 'new-token', test_event_code: 'TEST123' } }, env.ring);
    expect(view).toMatchObject({ id, status: 'active', settings: { pixel_id: FAKE_FIELDS.meta['pixel_id'], test_event_code: 'TEST123' } });
    expect(view.status_reason).toBeUndefined();
    expect((await env.connections.load(env.client.id, 'meta', env.ring))?.connection).toMatchObject({ access_token: 'new-token' });
  });

  it('removes an optional field set to null', async () => {
    env = await sendEnv({ connect: ['tiktok'], fields: { tiktok: { test_event_code: 'TEST1' } } });
    const view = await env.connections.set({ client_id: env.client.id, platform: 'tiktok', fields: { test_event_code: null } }, env.ring);
    expect(view.settings).toEqual({ match: 'any', pixel_code: FAKE_FIELDS.tiktok['pixel_code'] });
  });

  const invalid = [
    { name: 'a missing required field', platform: 'meta' as const, fields: { pixel_id: '123' }, message: /needs --access-token/ },
    { name: 'a field of another platform', platform: 'tiktok' as const, fields: { pixel_id: '123', pixel_code: 'C1', access_token: 't' }, message: /--pixel-id does not apply to tiktok/ },
    { name: 'a non-numeric pixel id', platform: 'meta' as const, fields: { pixel_id: 'abc', access_token: 't' }, message: /--pixel-id: must be the numeric Pixel/ },
    { name: 'a short customer id', platform: 'google' as const, fields: { ...FAKE_FIELDS.google, customer_id: '123' }, message: /--customer-id: must be a 10-digit/ },
    { name: 'an unknown Google API', platform: 'google' as const, fields: { ...FAKE_FIELDS.google, api: 'rest' }, message: /--api/ },
  ];
  for (const c of invalid) {
    it(`rejects ${c.name} with the flag to fix`, async () => {
      env ??= await sendEnv({ connect: [] });
      const attempt = () => env!.connections.set({ client_id: env!.client.id, platform: c.platform, fields: c.fields }, env!.ring);
      await expect(attempt()).rejects.toThrow(OperationError);
      await expect(attempt()).rejects.toThrow(c.message);
    });
  }

  it('accepts a Google customer id with hyphens and stores digits', async () => {
    env = await sendEnv({ connect: ['google'], fields: { google: { customer_id: '123-456-7890' } } });
    expect((await env.connections.get(env.client.id, 'google'))?.settings['customer_id']).toBe('1234567890');
  });

  it('rejects an unknown client', async () => {
    env = await sendEnv({ connect: [] });
    await expect(env!.connections.set({ client_id: 'cli_nope', platform: 'meta', fields: FAKE_FIELDS.meta }, env!.ring)).rejects.toThrow(/Unknown client 'cli_nope'/);
  });

  it('needs a key to store secrets, and says how to make one', async () => {
    env = await sendEnv({ connect: [] });
    const attempt = () => env!.connections.set({ client_id: env!.client.id, platform: 'meta', fields: FAKE_FIELDS.meta }, undefined);
    await expect(attempt()).rejects.toThrow(EncryptionKeyError);
    await expect(attempt()).rejects.toThrow(/openssl rand -base64 32/);
  });
});

describe('keys', () => {
  it('rotates every secret to the first key, after which the old key can go', async () => {
    env = await sendEnv();
    const next = newKey();
    const both = parseKeyRing(`${next},${env.key}`);
    expect(await env.connections.rotate(both)).toEqual({ connections: 3, reencrypted: 3, current_key_id: both.currentId });
    expect((await env.connections.rotate(both)).reencrypted).toBe(0);
    const onlyNew = parseKeyRing(next);
    expect(await checkStoredCredentials(createSendStore(env.store), onlyNew)).toBe(3);
    expect((await env.connections.load(env.client.id, 'google', onlyNew))?.connection).toMatchObject({ refresh_token: 'fake-refresh-token' });
    await expect(env!.connections.load(env!.client.id, 'google', env!.ring)).rejects.toThrow(/not in PRUUV_ENCRYPTION_KEY/);
  });

  it('refuses to start a sender with stored credentials and no key', async () => {
    env = await sendEnv({ connect: ['meta'] });
    const start = () => createSender({ store: env!.store, config: { ...env!.config, keyRing: undefined } });
    await expect(start()).rejects.toThrow(EncryptionKeyError);
    await expect(start()).rejects.toThrow(/1 connection\(s\) have stored credentials but PRUUV_ENCRYPTION_KEY is not set.*openssl rand -base64 32/);
  });

  it('refuses to start a sender whose keys cannot open the stored credentials', async () => {
    env = await sendEnv({ connect: ['meta'] });
    const other = parseKeyRing(newKey());
    await expect(createSender({ store: env!.store, config: { ...env!.config, keyRing: other } })).rejects.toThrow(/Add the old key after the current one/);
  });

  it('starts without a key when nothing is stored', async () => {
    env = await sendEnv({ connect: [] });
    await expect(createSender({ store: env!.store, config: { ...env!.config, keyRing: undefined } })).resolves.toBeDefined();
  });

  it('reports a malformed key without printing it', () => {
    const bad = 'c2hvcnQ=';
    expect(() => readKeyRing(bad)).toThrow(/Key 1 in PRUUV_ENCRYPTION_KEY is not valid/);
    try {
      readKeyRing(bad);
    } catch (error) {
      expect(String(error)).not.toContain(bad);
    }
  });
});

describe('send settings', () => {
  const loadSendConfig = (env: NodeJS.ProcessEnv) => loadConfig(env).send;

  it('defaults to the real platforms, v26.0 / v26 and 03:00 UTC', () => {
    const config = loadSendConfig({});
    expect(config).toEqual({
      cron: '0 3 * * *',
      urls: {
        meta: 'https://graph.facebook.com',
        googleAds: 'https://googleads.googleapis.com',
        dataManager: 'https://datamanager.googleapis.com',
        oauthToken: 'https://oauth2.googleapis.com/token',
        tiktok: 'https://business-api.tiktok.com',
        microsoftCampaign: 'https://campaign.api.bingads.microsoft.com',
        microsoftCampaignSandbox: 'https://campaign.api.sandbox.bingads.microsoft.com',
        microsoftCustomer: 'https://clientcenter.api.bingads.microsoft.com',
        microsoftCustomerSandbox: 'https://clientcenter.api.sandbox.bingads.microsoft.com',
        microsoftToken: 'https://login.microsoftonline.com/common/oauth2/v2.0/token',
        microsoftCapi: 'https://capi.uet.microsoft.com',
      },
      connectionDefaults: {},
      versions: { meta: 'v26.0', googleAds: 'v26' },
    });
  });

  it('reads the Microsoft URLs and the operator\'s developer token and Azure app, never printing them', () => {
    const config = loadSendConfig({
      PRUUV_MICROSOFT_CAMPAIGN_SANDBOX_API_URL: 'http://127.0.0.1:9000/microsoft-sandbox/campaign/',
      PRUUV_MICROSOFT_OAUTH_TOKEN_URL: 'http://127.0.0.1:9000/microsoft/login/common/oauth2/v2.0/token',
      PRUUV_MICROSOFT_CAPI_URL: 'http://127.0.0.1:9000/microsoft-capi/',
      PRUUV_MICROSOFT_DEVELOPER_TOKEN: ' DEVTOKEN ',
      PRUUV_MICROSOFT_CLIENT_ID: 'app-id',
      PRUUV_MICROSOFT_CLIENT_SECRET: 'app-secret',
    });
    expect(config.urls.microsoftCampaignSandbox).toBe('http://127.0.0.1:9000/microsoft-sandbox/campaign');
    expect(config.urls.microsoftToken).toBe('http://127.0.0.1:9000/microsoft/login/common/oauth2/v2.0/token');
    expect(config.urls.microsoftCapi).toBe('http://127.0.0.1:9000/microsoft-capi');
    expect(config.connectionDefaults).toEqual({ microsoft: { developer_token: 'DEVTOKEN', client_id: 'app-id', client_secret: 'app-secret' } });
    expect(() => loadSendConfig({ PRUUV_MICROSOFT_CAMPAIGN_API_URL: 'ftp://x' })).toThrow(/PRUUV_MICROSOFT_CAMPAIGN_API_URL must be an http\(s\) URL/);
  });

  it('reads URLs, versions, the cron and the key ring', () => {
    const key = newKey();
    const config = loadSendConfig({
      PRUUV_META_API_URL: 'http://127.0.0.1:9000/meta/',
      PRUUV_GOOGLE_OAUTH_TOKEN_URL: 'http://127.0.0.1:9000/oauth/token',
      PRUUV_META_API_VERSION: 'v25.0',
      PRUUV_SEND_CRON: '15 4 * * 1-5',
      PRUUV_ENCRYPTION_KEY: key,
    });
    expect(config.urls.meta).toBe('http://127.0.0.1:9000/meta');
    expect(config.urls.oauthToken).toBe('http://127.0.0.1:9000/oauth/token');
    expect(config.versions.meta).toBe('v25.0');
    expect(config.cron).toBe('15 4 * * 1-5');
    expect(config.keyRing?.currentId).toBe(parseKeyRing(key).currentId);
  });

  it('names every invalid variable at once', () => {
    try {
      loadSendConfig({ PORT: 'x', PRUUV_TIKTOK_API_URL: 'ftp://x', PRUUV_SEND_CRON: 'every day', PRUUV_GOOGLE_ADS_API_VERSION: '26', PRUUV_ENCRYPTION_KEY: 'nope' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const issues = (error as ConfigError).issues.join('\n');
      expect(issues).toMatch(/PRUUV_TIKTOK_API_URL must be an http\(s\) URL/);
      expect(issues).toMatch(/PRUUV_SEND_CRON must be a cron expression/);
      expect(issues).toMatch(/PRUUV_GOOGLE_ADS_API_VERSION must look like v26/);
      expect(issues).toMatch(/PRUUV_ENCRYPTION_KEY/);
      expect(issues).toMatch(/^PORT must be/m);
    }
  });
});
