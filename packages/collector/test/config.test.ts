import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type Config } from '../src/config.js';

describe('loadConfig', () => {
  it('returns the documented defaults for an empty environment', () => {
    expect(loadConfig({})).toEqual<Config>({
      port: 8787,
      dbFile: './data/pruuv.db',
      poolSize: 10,
      connectionsPerAddress: 100,
      logLevel: 'info',
      trustProxy: false,
      scriptPath: '/s.js',
      ingestPath: '/e',
      pixelLimits: { burst: 60, perMinute: 60, sitePerHour: 10_000 },
      pixelHold: ['bot', 'user_agent', 'fetch_metadata'],
      retentionDays: 180,
      send: {
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
      },
      ops: { metrics: false, readyTimeoutMs: 1000, shutdownDelayMs: 0 },
    });
  });

  it('reads the pixel limits and the signals that hold a beacon', () => {
    expect(loadConfig({ PRUUV_PIXEL_BURST: '10', PRUUV_PIXEL_PER_MINUTE: '5', PRUUV_PIXEL_SITE_PER_HOUR: '500' }).pixelLimits).toEqual({
      burst: 10,
      perMinute: 5,
      sitePerHour: 500,
    });
    expect(loadConfig({ PRUUV_PIXEL_HOLD: 'fetch_metadata, bot' }).pixelHold).toEqual(['bot', 'fetch_metadata']);
    expect(loadConfig({ PRUUV_PIXEL_HOLD: 'none' }).pixelHold).toEqual([]);
    expect(() => loadConfig({ PRUUV_PIXEL_HOLD: 'bots' })).toThrow(/PRUUV_PIXEL_HOLD must be a comma-separated list of bot, user_agent, fetch_metadata, or none, got 'bots'/);
    expect(() => loadConfig({ PRUUV_PIXEL_BURST: '0' })).toThrow(/PRUUV_PIXEL_BURST must be an integer from 1 to 100000/);
    expect(() => loadConfig({ PRUUV_PIXEL_SITE_PER_HOUR: '1e4' })).toThrow(/PRUUV_PIXEL_SITE_PER_HOUR/);
  });

  it('reads the retention, never shorter than Google\'s 90-day click window', () => {
    expect(loadConfig({ PRUUV_RETENTION_DAYS: '365' }).retentionDays).toBe(365);
    expect(loadConfig({ PRUUV_RETENTION_DAYS: '91' }).retentionDays).toBe(91);
    expect(() => loadConfig({ PRUUV_RETENTION_DAYS: '90' })).toThrow(/PRUUV_RETENTION_DAYS must be an integer from 91 \(longer than Google's 90-day click window\) to 36500, got '90'/);
    expect(() => loadConfig({ PRUUV_RETENTION_DAYS: '1.5' })).toThrow(/PRUUV_RETENTION_DAYS/);
  });

  it('reads the health and metrics settings, and never echoes the metrics token', () => {
    const token = 'm'.repeat(32);
    expect(
      loadConfig({ PRUUV_METRICS: 'true', PRUUV_METRICS_TOKEN: token, PRUUV_METRICS_PORT: '9464', PRUUV_READY_TIMEOUT_MS: '2000', PRUUV_SHUTDOWN_DELAY_MS: '5000' }).ops,
    ).toEqual({ metrics: true, metricsToken: token, metricsPort: 9464, readyTimeoutMs: 2000, shutdownDelayMs: 5000 });
    const short = 'short secret';
    const error = (() => {
      try {
        loadConfig({ PRUUV_METRICS: 'maybe', PRUUV_METRICS_TOKEN: short, PRUUV_READY_TIMEOUT_MS: '-1' });
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('no error');
    })();
    expect(error.issues).toHaveLength(3);
    expect(error.message).toContain('PRUUV_METRICS_TOKEN must be at least 16 characters');
    expect(error.message).not.toContain(short);
  });

  it('reads PostgreSQL settings, and never echoes the database URL', () => {
    const url = 'postgres://pruuv:s3cret@db.internal:5432/pruuv';
    expect(loadConfig({ PRUUV_DATABASE_URL: url, PRUUV_DATABASE_POOL_SIZE: '25' })).toMatchObject({ databaseUrl: url, poolSize: 25 });
    expect(loadConfig({ PRUUV_CONNECTIONS_PER_ADDRESS: '0' }).connectionsPerAddress).toBe(0);
    expect(() => loadConfig({ PRUUV_CONNECTIONS_PER_ADDRESS: 'many' })).toThrow(/PRUUV_CONNECTIONS_PER_ADDRESS/);
    expect(() => loadConfig({ PRUUV_DATABASE_URL: 'mysql://pruuv:s3cret@db/pruuv' })).toThrow(/PRUUV_DATABASE_URL must be a postgres:\/\/ URL/);
    expect(() => loadConfig({ PRUUV_DATABASE_URL: 'mysql://pruuv:s3cret@db/pruuv' })).not.toThrow(/s3cret/);
    expect(() => loadConfig({ PRUUV_DATABASE_POOL_SIZE: '0' })).toThrow(/PRUUV_DATABASE_POOL_SIZE must be an integer from 1 to 1000/);
  });

  it('reads the send lease in seconds, at least 10', () => {
    expect(loadConfig({ PRUUV_SEND_LEASE_SECONDS: '120' }).send.leaseMs).toBe(120_000);
    expect(() => loadConfig({ PRUUV_SEND_LEASE_SECONDS: '5' })).toThrow(/PRUUV_SEND_LEASE_SECONDS must be a whole number of seconds, at least 10/);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', PRUUV_ADMIN_TOKEN: '  ' })).toEqual(loadConfig({}));
  });

  const valid: { name: string; env: Record<string, string>; expected: Partial<Config> }[] = [
    { name: 'port', env: { PORT: '3000' }, expected: { port: 3000 } },
    { name: 'highest port', env: { PORT: '65535' }, expected: { port: 65535 } },
    { name: 'host', env: { PRUUV_HOST: '127.0.0.1' }, expected: { host: '127.0.0.1' } },
    { name: 'database file', env: { PRUUV_DB: '/var/lib/pruuv/p.db' }, expected: { dbFile: '/var/lib/pruuv/p.db' } },
    { name: 'admin token', env: { PRUUV_ADMIN_TOKEN: 'a'.repeat(32) }, expected: { adminToken: 'a'.repeat(32) } },
    { name: 'log level in any case', env: { PRUUV_LOG_LEVEL: 'DEBUG' }, expected: { logLevel: 'debug' } },
    { name: 'pretty logs on', env: { PRUUV_LOG_PRETTY: '1' }, expected: { logPretty: true } },
    { name: 'pretty logs off', env: { PRUUV_LOG_PRETTY: 'false' }, expected: { logPretty: false } },
    { name: 'trust proxy true', env: { PRUUV_TRUST_PROXY: 'true' }, expected: { trustProxy: true } },
    { name: 'trust proxy hop count', env: { PRUUV_TRUST_PROXY: '1' }, expected: { trustProxy: 1 } },
    { name: 'trust proxy subnet list', env: { PRUUV_TRUST_PROXY: 'loopback, 10.0.0.0/8' }, expected: { trustProxy: 'loopback, 10.0.0.0/8' } },
    { name: 'script path', env: { PRUUV_SCRIPT_PATH: '/js/p.js' }, expected: { scriptPath: '/js/p.js' } },
    { name: 'ingest path', env: { PRUUV_INGEST_PATH: '/collect' }, expected: { ingestPath: '/collect' } },
    { name: 'public URL without trailing slash', env: { PRUUV_PUBLIC_URL: 'https://c.example.com/' }, expected: { publicUrl: 'https://c.example.com' } },
  ];
  for (const { name, env, expected } of valid) {
    it(`reads ${name}`, () => {
      expect(loadConfig(env)).toMatchObject(expected);
    });
  }

  const invalid: { env: Record<string, string>; message: string }[] = [
    { env: { PORT: 'abc' }, message: "PORT must be an integer from 1 to 65535, got 'abc'" },
    { env: { PORT: '0' }, message: "PORT must be an integer from 1 to 65535, got '0'" },
    { env: { PORT: '65536' }, message: "PORT must be an integer from 1 to 65535, got '65536'" },
    { env: { PORT: '80.5' }, message: "PORT must be an integer from 1 to 65535, got '80.5'" },
    { env: { PRUUV_HOST: 'a b' }, message: "PRUUV_HOST must be a host name or IP address, got 'a b'" },
    { env: { PRUUV_ADMIN_TOKEN: 'short' }, message: 'PRUUV_ADMIN_TOKEN must be at least 16 characters' },
    { env: { PRUUV_LOG_LEVEL: 'loud' }, message: "PRUUV_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got 'loud'" },
    { env: { PRUUV_LOG_PRETTY: 'maybe' }, message: "PRUUV_LOG_PRETTY must be 1, true, 0 or false, got 'maybe'" },
    { env: { PRUUV_TRUST_PROXY: 'every$one' }, message: 'PRUUV_TRUST_PROXY must be true, false, a hop count' },
    { env: { PRUUV_SCRIPT_PATH: 's.js' }, message: "PRUUV_SCRIPT_PATH must be a URL path starting with '/'" },
    { env: { PRUUV_INGEST_PATH: '/e?x=1' }, message: "PRUUV_INGEST_PATH must be a URL path starting with '/'" },
    { env: { PRUUV_SCRIPT_PATH: '/x', PRUUV_INGEST_PATH: '/x' }, message: "PRUUV_INGEST_PATH must differ from PRUUV_SCRIPT_PATH, both are '/x'" },
    { env: { PRUUV_PUBLIC_URL: 'ftp://c.example' }, message: "PRUUV_PUBLIC_URL must be an http(s) URL" },
  ];
  for (const { env, message } of invalid) {
    it(`rejects ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')}`, () => {
      let error: unknown;
      try {
        loadConfig(env);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).issues).toHaveLength(1);
      expect((error as ConfigError).issues[0]).toContain(message);
    });
  }

  it('reports every invalid variable at once', () => {
    expect(() => loadConfig({ PORT: 'x', PRUUV_LOG_LEVEL: 'y' })).toThrow(
      /PORT must be an integer from 1 to 65535, got 'x'[\s\S]*PRUUV_LOG_LEVEL must be one of/,
    );
  });

  it('never echoes an invalid admin token', () => {
    const secret = 'has spaces but is-a-long-secret';
    expect(() => loadConfig({ PRUUV_ADMIN_TOKEN: secret })).toThrow(ConfigError);
    try {
      loadConfig({ PRUUV_ADMIN_TOKEN: secret });
    } catch (error) {
      expect((error as Error).message).toContain('got 31 characters');
      expect((error as Error).message).not.toContain('secret');
    }
  });
});
