/**
 * Property: whatever JSON arrives, the webhook and the ingest endpoint answer
 * with a 2xx or a 4xx JSON body, never a 5xx (no input reaches an unhandled path).
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEBHOOK_FIELDS } from '../src/domain/schemas.js';
import { postWebhook, seedClient, startCollector, tempDir, type Fixture, type Running } from './helpers/harness.js';
import { beacon, postBeacon } from './helpers/payloads.js';

let tmp: ReturnType<typeof tempDir>;
let run: Running;
let f: Fixture;

beforeAll(async () => {
  tmp = tempDir();
  run = await startCollector({ dbFile: join(tmp.dir, 'pruuv.db') });
  f = await seedClient(run.store);
});
afterAll(async () => {
  await run.close();
  tmp.cleanup();
});

/** Any UTF-16 string, lone surrogates included. */
const anyString = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 40 }).map((codes) => String.fromCharCode(...codes));

/** Values a field might plausibly (or implausibly) get. */
const fieldValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  anyString,
  fc.constantFrom('', ' ', 'GBP', 'gbp', 'EAIaIQobCh...', 'fb.1.1554763741205.AbC', 'jo@example.com', '+44 7700 900123', '2026-03-01T10:00:00Z', 'granted'),
  fc.double(),
  fc.constant(null),
);

/** Objects built from the real field names (and prototype-ish keys) with random values. */
const webhookObject = fc.dictionary(fc.constantFrom(...WEBHOOK_FIELDS, '__proto__', 'constructor', 'gclld'), fieldValue, {
  maxKeys: 12,
});

const TRACK_FIELDS = Object.keys(beacon('x', { item_reference: 'i', referrer: 'r', fbc: 'c', fbp: 'p', ttp: 't' }));
const beaconPatch = fc.dictionary(fc.constantFrom(...TRACK_FIELDS, '__proto__', 'constructor'), fieldValue, { maxKeys: 6 });

function expectHandled(status: number, contentType: string | null): void {
  expect(status === 200 || status === 204 || (status >= 400 && status < 500), `status ${status}`).toBe(true);
  if (status !== 204) expect(contentType).toMatch(/^application\/json/);
}

describe('POST /api/webhooks/funnel/:stageId', () => {
  describe('with random JSON bodies', () => {
    it('answers 2xx or 4xx, never 5xx', async () => {
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.jsonValue(), webhookObject), async (body) => {
          const res = await postWebhook(run, f.lead.stage.id, f.lead.token, undefined, { raw: JSON.stringify(body) ?? 'null' });
          expectHandled(res.status, res.headers.get('content-type'));
          await res.arrayBuffer();
        }),
        { numRuns: 300 },
      );
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    });
  });
});

describe('POST /e', () => {
  describe('with random JSON bodies', () => {
    it('answers 2xx or 4xx, never 5xx', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.jsonValue(),
            beaconPatch.map((patch) => ({ ...beacon(f.client.site_key), ...patch })),
          ),
          async (body) => {
            const res = await postBeacon(run, undefined, { raw: JSON.stringify(body) ?? 'null' });
            expectHandled(res.status, res.headers.get('content-type'));
            await res.arrayBuffer();
          },
        ),
        { numRuns: 300 },
      );
    });
  });
});
