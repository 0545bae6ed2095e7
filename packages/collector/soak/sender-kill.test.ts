/**
 * The sender killed with SIGKILL in the middle of a pass, 20 times in a row, on
 * each engine: `pruuv send` (the built bin) against the strict fakes in this
 * process, new conversions due before each round, SIGKILL at a random moment
 * once the pass is talking to the platforms (before, during or after a batch's
 * answer, its commit included; the window shrinks to what a pass takes when one
 * ends before its kill), the next round started at once: it takes the
 * new rows, and the rows of passes killed more than the lease (10 s) before.
 * Then, once the last lease ran out, a pass that is not killed: every due
 * conversion counted exactly once by each platform, every outbox row `sent`.
 */
import { startFakePlatforms, type FakePlatforms } from '@pruuv/fakes';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../src/store/types.js';
import { kill, startProc, stop, type Proc } from '../test/helpers/process.js';
import { ensureBuilt } from '../test/send-build.js';
import { ENGINES, soakDatabase, type SoakDatabase } from './helpers/database.js';
import { admitDue, connectedClient, countProblems, fakeUrlEnv, PLATFORMS } from './helpers/sending.js';

const ROUNDS = 20;
/** New events (three conversions each) before each round. */
const PER_ROUND = 400;
/** The shortest lease `pruuv send` takes: a dead pass's rows come back to a later round. */
const LEASE_SECONDS = 10;

beforeAll(() => ensureBuilt(), 120_000);

let db: SoakDatabase | undefined;
let store: Store | undefined;
let fakes: FakePlatforms | undefined;
let proc: Proc | undefined;
afterEach(async () => {
  if (proc) await stop(proc);
  proc = undefined;
  await fakes?.close();
  await store?.close();
  await db?.drop();
  [db, store, fakes] = [undefined, undefined, undefined];
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const engine of ENGINES) {
  describe(`a sender on ${engine} killed mid-pass ${ROUNDS} times`, () => {
    it('has every due conversion counted exactly once by each platform', async () => {
      db = await soakDatabase(engine);
      store = await db.open();
      fakes = await startFakePlatforms({ maxRequestLog: 1000 });
      const connected = await connectedClient(store);
      const env: NodeJS.ProcessEnv = {
        PATH: process.env['PATH'],
        PRUUV_ENCRYPTION_KEY: connected.key,
        PRUUV_SEND_LEASE_SECONDS: String(LEASE_SECONDS),
        PRUUV_LOG_LEVEL: 'warn',
        ...db.env,
        ...fakeUrlEnv(fakes),
      };
      const due: string[] = [];
      let killedMidPass = 0;
      // The kill lands at a random moment within this window after the pass's first request; a pass
      // that ends inside it shrinks the window to 70 % of what that pass took (a faster machine).
      let windowMs = 250;
      for (let round = 1; round <= ROUNDS; round++) {
        due.push(...(await admitDue(store, connected, PER_ROUND, new Date(), `r${round}`)));
        const seen = fakes.requests().length;
        proc = startProc(`send-${round}`, ['send'], env);
        let exitedAt: number | undefined;
        proc.child.once('exit', () => (exitedAt = Date.now()));
        // Once the pass talks to the platforms, a random moment within the window.
        while (fakes.requests().length === seen && proc.child.exitCode === null) await sleep(2);
        const talking = Date.now();
        await sleep(Math.random() * windowMs);
        if (proc.child.exitCode === null) killedMidPass++;
        else {
          expect(proc.child.exitCode, proc.stderr()).toBe(0);
          if (exitedAt !== undefined) windowMs = Math.max(5, 0.7 * (exitedAt - talking));
        }
        await kill(proc);
        proc = undefined;
      }
      // Most rounds died with work still to do (a round may finish inside its random delay).
      expect(killedMidPass).toBeGreaterThanOrEqual(ROUNDS * 0.75);
      // Passes go platform by platform: on a slow machine the killed ones may never reach the last.
      const countedBefore = PLATFORMS.reduce((sum, p) => sum + fakes!.counted(p).size, 0);
      expect(countedBefore, 'the killed passes sent part of the work').toBeGreaterThan(0);

      // The last dead pass's rows come back once its lease runs out.
      await sleep(LEASE_SECONDS * 1000 + 200);
      proc = startProc('send-final', ['send'], env);
      await proc.exited;
      expect(proc.child.exitCode, proc.stderr()).toBe(0);
      proc = undefined;

      for (const platform of PLATFORMS) expect(countProblems(fakes, platform, due)).toEqual([]);
      // Microsoft's rows removed, unrecorded: the client has no Microsoft connection.
      const n = (count: number): number | string => (engine === 'sqlite' ? count : String(count));
      expect(await db.query("SELECT status, count(*) AS n FROM outbox GROUP BY status ORDER BY status")).toEqual([
        { status: 'sent', n: n(due.length * 3) },
      ]);
      // Received more than once: the resends of batches whose commit a kill cut off, absorbed by the dedup keys.
      const resent = PLATFORMS.map((p) => [...fakes!.counted(p).values()].filter((n) => n > 1).length);
      console.info(
        `[soak] ${engine}: ${ROUNDS} SIGKILLs (${killedMidPass} mid-pass, kill window ${Math.round(windowMs)} ms at the end), ${due.length * 3} conversions each counted once; received again after a cut commit: meta ${resent[0]}, google ${resent[1]}, tiktok ${resent[2]}`,
      );
    }, 300_000);
  });
}
