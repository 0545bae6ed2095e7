/**
 * Crashes and concurrency with real processes: sender child processes
 * (test/send-child.mjs, the built code) on one SQLite file, the fakes in this
 * process counting what the platforms would count.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Platform } from '@pruuv/sender';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from './send-build.js';
import type { StoredEvent } from '../src/store/types.js';
import { FAKE_MICROSOFT_APP, sendEnv, type SendEnv } from './send-helpers.js';

const CHILD = fileURLToPath(new URL('./send-child.mjs', import.meta.url));
const PLATFORMS: Platform[] = ['meta', 'google', 'tiktok', 'microsoft'];
/** Every platform connected; the child processes have no PRUUV_MICROSOFT_*: the Microsoft app is in the connection. */
const CONNECT = { connect: PLATFORMS, fields: { microsoft: { ...FAKE_MICROSOFT_APP } } };

/** The fake's receipts of an event: Meta, Google and TikTok key on its id, Microsoft on its click (no dedup field). */
function receiptsOf(env: SendEnv, platform: Platform, event: StoredEvent): number[] {
  const counted = env.fakes.counted(platform as 'meta' | 'google' | 'tiktok' | 'microsoft');
  const key = platform === 'microsoft' ? `:${event.clicks.msclkid?.value ?? '-'}:` : event.id;
  return [...counted].filter(([k]) => k.includes(key)).map(([, n]) => n);
}

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runChild(env: SendEnv, extra: Record<string, string>): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD], {
      env: {
        ...process.env,
        SEND_CHILD_DB: env.dbFile,
        SEND_CHILD_KEY: env.key,
        SEND_CHILD_URLS: JSON.stringify(env.fakes.urls),
        ...extra,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let env: SendEnv | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

beforeAll(() => {
  ensureBuilt();
}, 120_000);

describe('a sender killed between the platform answer and the commit', () => {
  it('resends under the same dedup key and every conversion is counted once', async () => {
    // The fakes and the events run on the real time, like the child processes.
    env = await sendEnv({ start: new Date().toISOString(), ...CONNECT });
    const events = Array.from({ length: 20 }, () => env!.addEvent());
    const leaseMs = 1500;

    // Round 1 is killed after its first batch answer (meta). Rounds 2 to 4 first resend
    // and commit the batch the previous round crashed on, then are killed after the next
    // platform's answer (google, tiktok, then microsoft: its resend must be byte-identical,
    // Microsoft having no dedup field).
    for (let round = 1; round <= PLATFORMS.length; round++) {
      const killAfter = round === 1 ? 1 : 2;
      const child = await runChild(env, { SEND_CHILD_KILL_AFTER: String(killAfter), SEND_CHILD_LEASE_MS: String(leaseMs) });
      expect(child.signal, `round ${round}: ${child.stdout} ${child.stderr}`).toBe("SIGKILL");
      const until = env.db.prepare('SELECT MAX(lease_until) AS at FROM outbox').get() as { at: string | null };
      expect(until.at).not.toBeNull(); // the crashed batch is still leased
      await sleep(Math.max(0, Date.parse(until.at as string) - Date.now()) + 50);
    }

    // A normal pass once the last lease ran out.
    env.clock.set(new Date(Date.now() + 1000).toISOString());
    const report = await env.pass();
    expect(report.counts.sent).toBe(events.length); // the last platform's rows

    for (const platform of PLATFORMS) {
      expect(env.fakes.counted(platform as 'meta').size, platform).toBe(events.length);
      for (const event of events) {
        // Counted once, received twice: the crash window was exercised on every platform.
        expect(receiptsOf(env, platform, event), `${platform} ${event.id}`).toEqual([2]);
      }
    }
    const rows = env.db.prepare("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status").all();
    expect(rows).toEqual([{ status: 'sent', n: events.length * PLATFORMS.length }]);
    const sentAudit = env.db.prepare("SELECT COUNT(*) AS n, COUNT(DISTINCT outbox_id) AS rows FROM send_attempts WHERE status = 'sent'").get();
    expect(sentAudit).toEqual({ n: events.length * PLATFORMS.length, rows: events.length * PLATFORMS.length });
  }, 60_000);
});

describe('two sender processes on one database', () => {
  it('send every conversion exactly once, none received twice', async () => {
    env = await sendEnv({ start: new Date(Date.now() - 60_000).toISOString(), ...CONNECT });
    const events = Array.from({ length: 2000 }, () => env!.addEvent());
    const claimLimit = '300';
    const [a, b] = await Promise.all([
      runChild(env, { SEND_CHILD_CLAIM_LIMIT: claimLimit }),
      runChild(env, { SEND_CHILD_CLAIM_LIMIT: claimLimit }),
    ]);
    expect(a?.code, a?.stderr).toBe(0);
    expect(b?.code, b?.stderr).toBe(0);
    const reports = [a, b].map((r) => JSON.parse(r!.stdout) as { owner: string; claimed: number });
    expect(reports[0]!.owner).not.toBe(reports[1]!.owner);
    // Both did part of the work, and together exactly all of it.
    expect(reports[0]!.claimed).toBeGreaterThan(0);
    expect(reports[1]!.claimed).toBeGreaterThan(0);
    expect(reports[0]!.claimed + reports[1]!.claimed).toBe(events.length * PLATFORMS.length);

    for (const platform of PLATFORMS) {
      const counted = env.fakes.counted(platform as 'meta');
      expect(counted.size, platform).toBe(events.length);
      expect([...counted.values()].every((n) => n === 1), `${platform}: some conversion was received twice`).toBe(true);
    }
    const audit = env.db.prepare("SELECT COUNT(*) AS n, COUNT(DISTINCT outbox_id) AS rows FROM send_attempts").get();
    expect(audit).toEqual({ n: events.length * PLATFORMS.length, rows: events.length * PLATFORMS.length });
  }, 60_000);
});
