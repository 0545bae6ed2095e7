/**
 * The webhook's answer time tells nothing about stage ids or tokens: over
 * 10,000 tries against the built `pruuv serve` (its log lines written, as in
 * production), an unknown stage, a known stage with a wrong token, and a known
 * stage with its real token but the last character changed take the same time.
 *
 * Robust on a shared two-core machine: the three kinds are interleaved (each
 * round of three in a random order, so a slow patch of the machine hits all of
 * them alike) on one keep-alive connection, and the medians are compared, with
 * a tolerance of 5 % of the median and at least 25 µs; the whole distribution
 * is printed. Each try comes from an address of its own (`X-Forwarded-For`
 * behind a trusted proxy), as a guesser with many addresses would, so the
 * throttle never answers instead.
 */
import { freePort } from '@pruuv/testkit/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProc, stop, type Proc } from '../test/helpers/process.js';
import { ensureBuilt } from '../test/send-build.js';
import { soakDatabase, type SoakDatabase } from './helpers/database.js';

const TRIES = 10_000;
const KINDS = ['unknown stage', 'wrong token', 'token off by its last character'] as const;
type Kind = (typeof KINDS)[number];

let db: SoakDatabase;
let proc: Proc;
let url = '';
let stage = { id: '', token: '' };

beforeAll(async () => {
  ensureBuilt();
  db = await soakDatabase('sqlite');
  const store = await db.open();
  const client = await store.clients.create({ name: 'Timing' });
  const made = await store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' });
  stage = { id: made.stage.id, token: made.token };
  await store.close();
  proc = startProc('collector', ['serve', '--no-worker'], {
    PATH: process.env['PATH'],
    PRUUV_HOST: '127.0.0.1',
    PORT: String(await freePort()),
    PRUUV_TRUST_PROXY: 'loopback',
    PRUUV_LOG_LEVEL: 'info',
    ...db.env,
  });
  url = String((await proc.waitFor((l) => l['msg'] === 'collector listening'))['url']);
}, 120_000);
afterAll(async () => {
  await stop(proc);
  // The log lines are kept in memory by the helper: drop them.
  proc.lines.length = 0;
  await db.drop();
});

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

describe('webhook answer times', () => {
  it(`are the same for an unknown stage, a wrong token and a nearly right token over ${TRIES.toLocaleString('en')} tries`, async () => {
    const wrong = `pwh_${'A'.repeat(40)}`;
    const nearly = stage.token.slice(0, -1) + (stage.token.endsWith('A') ? 'B' : 'A');
    const request: Record<Kind, (ip: string) => { path: string; token: string; status: number }> = {
      'unknown stage': () => ({ path: 'stg_0000000000000000000000', token: wrong, status: 404 }),
      'wrong token': () => ({ path: stage.id, token: wrong, status: 401 }),
      'token off by its last character': () => ({ path: stage.id, token: nearly, status: 401 }),
    };
    const times: Record<Kind, number[]> = { 'unknown stage': [], 'wrong token': [], 'token off by its last character': [] };
    let n = 0;
    const once = async (kind: Kind): Promise<void> => {
      n++;
      const ip = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
      const { path, token, status } = request[kind](ip);
      const started = performance.now();
      const res = await fetch(`${url}/api/webhooks/funnel/${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-forwarded-for': ip },
        body: '{"reference":"guess"}',
      });
      await res.arrayBuffer();
      times[kind].push(performance.now() - started);
      expect(res.status).toBe(status);
    };
    // Warm-up: JIT, caches, the connection.
    for (let i = 0; i < 300; i++) await once(KINDS[i % 3]!);
    for (const kind of KINDS) times[kind].length = 0;
    for (let round = 0; round < Math.ceil(TRIES / 3); round++) {
      const order = [...KINDS].sort(() => Math.random() - 0.5);
      for (const kind of order) await once(kind);
    }

    const stats = Object.fromEntries(
      KINDS.map((kind) => {
        const sorted = [...times[kind]].sort((a, b) => a - b);
        return [kind, { n: sorted.length, p25: quantile(sorted, 0.25), median: quantile(sorted, 0.5), p75: quantile(sorted, 0.75) }];
      }),
    ) as Record<Kind, { n: number; p25: number; median: number; p75: number }>;
    const us = (ms: number) => `${Math.round(ms * 1000)} µs`;
    console.info(
      `[soak] webhook answer times over ${KINDS.reduce((s, k) => s + stats[k].n, 0)} tries: ${KINDS.map((k) => `${k} median ${us(stats[k].median)} (p25 ${us(stats[k].p25)}, p75 ${us(stats[k].p75)})`).join('; ')}`,
    );
    const base = stats['wrong token'].median;
    const tolerance = Math.max(0.025, 0.05 * base);
    for (const kind of KINDS) expect(Math.abs(stats[kind].median - base), `${kind} vs wrong token`).toBeLessThanOrEqual(tolerance);
  }, 300_000);
});
