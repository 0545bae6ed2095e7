import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { CLICK_ID_NAMES, COOKIE_ID_NAMES } from '../../src/click-ids.js';
import { PLATFORM_BATCH_LIMITS } from '../../src/pass-batches.js';
import type { SendContext } from '../../src/platforms/adapter.js';
import {
  connectionSchema,
  DEFAULT_URLS,
  DEFAULT_VERSIONS,
  PLATFORM_IDS,
  PLATFORMS,
  platformAdapter,
  type Connection,
  type Platform,
} from '../../src/platforms/index.js';
import { RETRY_TABLE } from '../../src/retry-policy.js';
import { SHARED_RETRY_RULES } from '../../src/retry-rules.js';
import { conversionEventSchema } from '../../src/schema.js';
import { createShared } from '../../src/shared-services.js';
import { googleConnection, makeEvent, metaConnection, microsoftConnection, tiktokConnection } from '../helpers.js';

const SRC = new URL('../../src/', import.meta.url);
const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** A complete connection per platform: a new adapter must add one here (the type says so). */
const VALID: Record<Platform, Connection> = { meta: metaConnection(), google: googleConnection(), tiktok: tiktokConnection(), microsoft: microsoftConnection() };

/** Relative import paths of a source file, type imports included. */
function importsOf(file: URL): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)].map((m) => new URL(m[1] as string, file).pathname);
}

function sourceFiles(dir: URL): URL[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sourceFiles(new URL(`${d.name}/`, dir)) : d.name.endsWith('.ts') ? [new URL(d.name, dir)] : [],
  );
}

describe('the platform registry', () => {
  it('gives every platform its own id, in PLATFORM_IDS order', () => {
    expect(new Set(PLATFORM_IDS).size).toBe(PLATFORMS.length);
    expect(PLATFORMS.map((p) => p.id)).toEqual(PLATFORM_IDS);
    for (const id of PLATFORM_IDS) expect(platformAdapter(id).id).toBe(id);
  });

  it('derives the Platform type from the adapters', () => {
    expectTypeOf<Platform>().toEqualTypeOf<'meta' | 'google' | 'tiktok' | 'microsoft'>();
  });

  it('refuses an id no adapter has', () => {
    expect(() => platformAdapter('bing' as Platform)).toThrow(/Unknown platform "bing"; known: meta, google, tiktok, microsoft/);
  });

  it('keeps platforms apart: no adapter imports another platform or the registry', () => {
    for (const id of PLATFORM_IDS) {
      const folder = new URL(`platforms/${id}/`, SRC);
      for (const file of sourceFiles(folder)) {
        for (const target of importsOf(file)) {
          const platforms = new URL('platforms/', SRC).pathname;
          // Shared: anything outside platforms/, and the files right in platforms/ but the registry.
          const shared = !target.startsWith(platforms) || (!target.slice(platforms.length).includes('/') && !target.endsWith('/index.js'));
          const allowed = shared || target.startsWith(folder.pathname);
          expect(allowed, `${file.pathname} imports ${target}`).toBe(true);
        }
      }
    }
  });

  it('dispatches on no platform id outside the adapters', () => {
    const outside = sourceFiles(SRC).filter((f) => !f.pathname.includes('/src/platforms/'));
    for (const file of outside) {
      const text = readFileSync(file, 'utf8');
      for (const id of PLATFORM_IDS) expect(text, file.pathname).not.toMatch(new RegExp(`[!=]==\\s*'${id}'`));
    }
  });

  it('never imports the fake platforms into the sender', () => {
    for (const file of sourceFiles(SRC)) expect(readFileSync(file, 'utf8'), file.pathname).not.toContain('@pruuv/fakes');
  });
});

describe('click IDs', () => {
  it("takes every adapter's click IDs from the one list", () => {
    for (const p of PLATFORMS) for (const id of p.clickIds) expect(CLICK_ID_NAMES).toContain(id);
  });

  it('gives each click ID to at most one platform', () => {
    const all = PLATFORMS.flatMap((p) => p.clickIds);
    expect(new Set(all).size).toBe(all.length);
  });

  it('leaves no captured click ID unclaimed', () => {
    const claimed = new Set<string>(PLATFORMS.flatMap((p) => p.clickIds));
    expect(CLICK_ID_NAMES.filter((id) => !claimed.has(id))).toEqual([]);
  });

  it("takes every adapter's cookie IDs from the one list, and each cookie ID is some platform's", () => {
    for (const p of PLATFORMS) for (const id of p.cookieIds) expect(COOKIE_ID_NAMES).toContain(id);
    expect(new Set(PLATFORMS.flatMap((p) => p.cookieIds))).toEqual(new Set(COOKIE_ID_NAMES));
  });

  it('lets every listed click ID through the event schema', () => {
    const clicks = Object.fromEntries(CLICK_ID_NAMES.map((id) => [id, { value: `v-${id}` }]));
    const parsed = conversionEventSchema.parse(makeEvent({ clicks }));
    expect(Object.keys(parsed.clicks).sort()).toEqual([...CLICK_ID_NAMES].sort());
  });
});

describe('connections', () => {
  for (const p of PLATFORMS) {
    describe(p.id, () => {
      const valid = VALID[p.id];
      const parse = (c: Record<string, unknown>) => connectionSchema.safeParse(c).success;

      it('accepts a complete connection', () => {
        expect(parse({ ...valid })).toBe(true);
      });

      it('lists every schema field but platform, once', () => {
        const names = p.connection.fields.map((f) => f.name);
        expect(new Set(names).size).toBe(names.length);
        const keys = Object.keys(p.connection.schema.shape).filter((k) => k !== 'platform');
        expect([...names].sort()).toEqual(keys.sort());
      });

      it('requires exactly the required fields; a default stands in for a missing one', () => {
        for (const f of p.connection.fields) {
          const without: Record<string, unknown> = { ...valid };
          delete without[f.name];
          // A default is filled in for a person; the schema may require the field (Google's api) or not
          // (TikTok's match, so connections stored before it existed stay valid).
          if (f.default === undefined) expect(parse(without), `${f.name} left out`).toBe(!f.required);
          else expect(parse({ ...without, [f.name]: f.default }), `${f.name} defaulted`).toBe(true);
          if (f.required) expect(parse(without), `${f.name} left out`).toBe(false);
        }
      });
    });
  }

  it('takes the fields in schema order, the required ones marked', () => {
    const table = Object.fromEntries(
      PLATFORMS.map((p) => [p.id, p.connection.fields.map((f) => `${f.name}${f.required ? '*' : ''}${f.default !== undefined ? `=${f.default}` : ''}`)]),
    );
    expect(table).toEqual({
      meta: ['pixel_id*', 'access_token*', 'test_event_code', 'dry_run'],
      google: [
        'api=data-manager',
        'customer_id*',
        'conversion_action_id*',
        'login_customer_id',
        'client_id*',
        'client_secret*',
        'refresh_token*',
        'developer_token',
        'dry_run',
      ],
      tiktok: ['pixel_code*', 'access_token*', 'test_event_code', 'match=any', 'dry_run'],
      microsoft: [
        'customer_id*',
        'account_id*',
        'goal_name*',
        'goal_id',
        'enhanced_conversions',
        'test_mode',
        'api=offline-conversions',
        'uet_tag_id',
        'uet_api_token',
        'refresh_token*',
        'developer_token',
        'client_id',
        'client_secret',
        'dry_run',
      ],
    });
  });

  it('names the secrets, stored encrypted and never shown', () => {
    const secrets = Object.fromEntries(PLATFORMS.map((p) => [p.id, p.connection.fields.filter((f) => f.kind === 'secret').map((f) => f.name)]));
    expect(secrets).toEqual({
      meta: ['access_token'],
      google: ['client_secret', 'refresh_token', 'developer_token'],
      tiktok: ['access_token'],
      microsoft: ['uet_api_token', 'refresh_token', 'developer_token', 'client_secret'],
    });
  });

  it('picks the schema by platform and refuses an unknown one', () => {
    expect(connectionSchema.safeParse({ ...metaConnection(), platform: 'bing' }).success).toBe(false);
    expect(connectionSchema.safeParse({ ...metaConnection(), platform: 'tiktok' }).success).toBe(false);
  });
});

describe('limits, URLs and dry runs', () => {
  it("takes each platform's batch limit from its adapter", () => {
    expect(PLATFORM_BATCH_LIMITS).toEqual({ meta: 1000, google: 2000, tiktok: 1000, microsoft: 1000 });
    for (const p of PLATFORMS) expect(PLATFORM_BATCH_LIMITS[p.id]).toBe(p.maxBatch);
  });

  it('merges the base URLs and versions of every adapter, no key claimed twice', () => {
    const urlKeys = PLATFORMS.flatMap((p) => Object.keys(p.urls));
    const versionKeys = PLATFORMS.flatMap((p) => Object.keys(p.versions));
    expect(new Set(urlKeys).size).toBe(urlKeys.length);
    expect(new Set(versionKeys).size).toBe(versionKeys.length);
    expect(Object.keys(DEFAULT_URLS)).toEqual(urlKeys);
    expect(Object.keys(DEFAULT_VERSIONS)).toEqual(versionKeys);
  });

  it('rate-limits only APIs the adapter has a URL for', () => {
    for (const p of PLATFORMS) for (const api of Object.keys(p.rateLimits ?? {})) expect(Object.keys(p.urls)).toContain(api);
  });

  it('gives every build-only dry run a preview', () => {
    const ctx: SendContext = {
      fetch: () => Promise.reject(new Error('no request in this test')),
      now: () => new Date(),
      urls: DEFAULT_URLS,
      versions: DEFAULT_VERSIONS,
      timeoutMs: 1000,
      sleep: async () => {},
      shared: createShared({}),
    };
    for (const p of PLATFORMS) {
      const sender = platformAdapter(p.id).open(VALID[p.id], ctx);
      expect(sender.preview !== undefined, p.id).toBe(p.dryRun === 'build-only');
    }
  });
});

describe('the retry table', () => {
  it('is the shared rows, then each adapter’s in registry order', () => {
    expect(RETRY_TABLE).toEqual([...SHARED_RETRY_RULES, ...PLATFORMS.flatMap((p) => p.retryRules)]);
  });

  it("keys each adapter's rows by its id", () => {
    for (const p of PLATFORMS) {
      for (const r of p.retryRules) {
        expect(r.platform).toBe(p.id);
        expect(r.key.startsWith(`${p.id}:`), r.key).toBe(true);
      }
    }
  });

  it('has the rows the README prints, no more, no fewer', () => {
    const printed = [...README.matchAll(/^\| `([^`]+)` \| (any|[a-z]+) \| (retry|split|fail|pause|delivered) \| `([^`]+)` \|/gm)].map(
      (m) => `${m[1]} ${m[2]} ${m[3]} ${m[4]}`,
    );
    expect(printed).toEqual(RETRY_TABLE.map((r) => `${r.key} ${r.platform} ${r.verdict} ${r.reason}`));
  });
});

describe('the README', () => {
  it('shows the registry line as it is', () => {
    const registry = readFileSync(new URL('platforms/index.ts', SRC), 'utf8');
    const line = /^export const PLATFORMS = .*$/m.exec(registry)?.[0];
    expect(line).toBeDefined();
    expect(README).toContain(line);
  });
});
