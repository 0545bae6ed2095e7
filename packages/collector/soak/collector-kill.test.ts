/**
 * The collector killed with SIGKILL under load, 20 times in a row, on each
 * engine: the built `pruuv serve` as a child process, 16 clients posting
 * webhooks and pixel beacons as fast as it answers, SIGKILL at a random moment,
 * then a restart on the same database. Every event answered 200 is stored, with
 * its outbox rows (an event and its outbox rows are one commit), and SQLite's
 * `integrity_check` is ok.
 */
import { PLATFORM_IDS } from '@pruuv/sender';
import { freePort } from '@pruuv/testkit/postgres';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { kill, startProc, stop, type Proc } from '../test/helpers/process.js';
import { ensureBuilt } from '../test/send-build.js';
import { ENGINES, soakDatabase, type SoakDatabase } from './helpers/database.js';
import { LOAD_ENV, loadRequest, seedStages } from './helpers/load.js';

const ROUNDS = 20;
const CLIENTS = 16;
/** Enough stages that 20 rounds of load stay far under each one's 1,000 events an hour. */
const STAGES = 64;

beforeAll(() => ensureBuilt(), 120_000);

let db: SoakDatabase | undefined;
let proc: Proc | undefined;
afterEach(async () => {
  if (proc) await stop(proc);
  proc = undefined;
  await db?.drop();
  db = undefined;
});

for (const engine of ENGINES) {
  describe(`a collector on ${engine} killed under load ${ROUNDS} times`, () => {
    it('has stored every event it answered 200, each with its outbox rows, and the database is intact', async () => {
      db = await soakDatabase(engine);
      const seeded = await seedStages(db, STAGES);

      const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], PRUUV_HOST: '127.0.0.1', PRUUV_LOG_LEVEL: 'info', ...LOAD_ENV, ...db.env };
      const acked: string[] = [];
      let answered = 0;
      let cutTotal = 0;
      for (let round = 1; round <= ROUNDS; round++) {
        proc = startProc(`collector-${round}`, ['serve', '--no-worker'], { ...env, PORT: String(await freePort()) });
        const url = String((await proc.waitFor((l) => l['msg'] === 'collector listening'))['url']);
        let running = true;
        let cut = 0;
        let n = 0;
        const loadClient = async (): Promise<void> => {
          while (running) {
            const i = n++;
            const answer = await loadRequest(url, seeded, i, `r${round}`);
            if (answer.status === 200 && answer.eventId !== undefined && !answer.duplicate) acked.push(answer.eventId);
            if (answer.status === 200) answered++;
            else if (answer.status === 0) {
              cut++;
              running = false;
            } else throw new Error(`round ${round}: answered ${answer.status}`);
          }
        };
        const load = Promise.all(Array.from({ length: CLIENTS }, loadClient));
        await new Promise((r) => setTimeout(r, 200 + Math.random() * 600));
        await kill(proc);
        proc = undefined;
        await load;
        // The kill hit requests in flight: it happened under load, not between requests.
        expect(cut, `round ${round}`).toBeGreaterThan(0);
        cutTotal += cut;
      }

      expect(answered).toBeGreaterThan(ROUNDS * 50);
      const stored = new Set((await db.query<{ id: string }>('SELECT id FROM events')).map((r) => r.id));
      const missing = acked.filter((id) => !stored.has(id));
      expect(missing, 'answered 200, not stored').toEqual([]);
      // An event and its outbox rows (one per platform) are one commit: no event without them, no row without its event.
      expect(await db.count('SELECT count(*) AS n FROM outbox')).toBe(stored.size * PLATFORM_IDS.length);
      expect(await db.count('SELECT count(*) AS n FROM outbox o WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = o.event_id)')).toBe(0);
      if (engine === 'sqlite') expect(await db.query('PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
      console.info(`[soak] ${engine}: ${ROUNDS} SIGKILLs, ${acked.length} events answered 200 and all stored, ${cutTotal} requests cut`);

      // And it starts again on that database and takes events.
      proc = startProc('collector-after', ['serve', '--no-worker'], { ...env, PORT: String(await freePort()) });
      const url = String((await proc.waitFor((l) => l['msg'] === 'collector listening'))['url']);
      const after = await loadRequest(url, seeded, 0, 'after-the-kills');
      expect(after.status).toBe(200);
    }, 300_000);
  });
}
