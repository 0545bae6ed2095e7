#!/usr/bin/env node
/**
 * A sender process for the crash and concurrency tests: runs ONE send pass on
 * the database named by SEND_CHILD_DB against the platform URLs in
 * SEND_CHILD_URLS, with the real clock, and prints its report as JSON.
 * Imports the BUILT packages (`npm test` builds first through the root
 * `pretest`; the tests rebuild a stale dist themselves).
 *
 * Test-only hook: SEND_CHILD_KILL_AFTER=n sends SIGKILL to this process
 * right after the n-th batch's platform answer and before its commit — the
 * crash window in which the platform has counted a conversion that the
 * outbox does not know was sent.
 */
import { parseKeyRing } from '@pruuv/sender';
import { createSender } from '../dist/send/sender.js';
import { openSqliteStore } from '../dist/store/sqlite/index.js';

const env = process.env;
const store = openSqliteStore(env.SEND_CHILD_DB);
const killAfter = Number(env.SEND_CHILD_KILL_AFTER ?? 0);
let answered = 0;

const sender = await createSender({
  store,
  config: {
    keyRing: parseKeyRing(env.SEND_CHILD_KEY),
    cron: '0 3 * * *',
    urls: JSON.parse(env.SEND_CHILD_URLS),
    versions: { meta: 'v26.0', googleAds: 'v26' },
  },
  leaseMs: Number(env.SEND_CHILD_LEASE_MS ?? 60_000),
  claimLimit: Number(env.SEND_CHILD_CLAIM_LIMIT ?? 6000),
  timeoutMs: 10_000,
  beforeCommit: () => {
    answered += 1;
    if (killAfter > 0 && answered === killAfter) process.kill(process.pid, 'SIGKILL');
  },
});

const report = await sender.runPass();
process.stdout.write(`${JSON.stringify({ owner: sender.owner, claimed: report.claimed, counts: report.counts, batches: report.batches })}\n`);
await store.close();
