/**
 * The platforms unreachable for a whole pass (connections refused: the fake
 * server is stopped), then back: the next day's scheduled pass delivers every
 * conversion, each counted once, inside the 48-hour window in which Meta and
 * TikTok deduplicate a resend. On each engine, with a clock shared by the
 * store, the sender and the fakes.
 */
import { startFakePlatforms, type FakePlatforms } from '@pruuv/fakes';
import { DEFAULT_VERSIONS, parseKeyRing } from '@pruuv/sender';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_SEND_CRON } from '../src/send/send-config.js';
import { createSender } from '../src/send/sender.js';
import type { Store } from '../src/store/types.js';
import { testClock } from '../test/helpers/harness.js';
import { ENGINES, soakDatabase, type SoakDatabase } from './helpers/database.js';
import { admitDue, connectedClient, countProblems, PLATFORMS } from './helpers/sending.js';

const EVENTS = 900;
const DAY_MS = 86_400_000;
const DEDUP_WINDOW_MS = 48 * 3_600_000;

let db: SoakDatabase | undefined;
let store: Store | undefined;
let fakes: FakePlatforms | undefined;
afterEach(async () => {
  await fakes?.close();
  await store?.close();
  await db?.drop();
  [db, store, fakes] = [undefined, undefined, undefined];
});

for (const engine of ENGINES) {
  describe(`the platforms down for a whole pass on ${engine}`, () => {
    it('delivers every conversion at the next pass once they are back, each counted once, inside the dedup window', async () => {
      const clock = testClock('2026-11-20T03:00:00.000Z');
      db = await soakDatabase(engine);
      store = await db.open({ now: clock.now });
      fakes = await startFakePlatforms({ now: clock.now });
      const urls = { ...fakes.urls };
      const port = Number(new URL(urls.meta).port);
      const connected = await connectedClient(store);
      const due = await admitDue(store, connected, EVENTS, new Date(clock.now().getTime() - 3_600_000), 'down');
      const sender = await createSender({
        store,
        config: { keyRing: parseKeyRing(connected.key), cron: DEFAULT_SEND_CRON, urls, versions: { meta: DEFAULT_VERSIONS.meta, googleAds: DEFAULT_VERSIONS.googleAds } },
        now: clock.now,
        random: () => 0.5,
        timeoutMs: 2000,
      });

      // Down: nothing listens on the platforms' port for the whole pass.
      await fakes.close();
      const down = await sender.runPass();
      expect(down.counts.sent).toBe(0);
      expect(down.counts.retrying).toBe(EVENTS * 3);
      const firstAttempt = clock.now().getTime();

      // Back on the same address; the next scheduled pass is the next day's.
      fakes = await startFakePlatforms({ now: clock.now, port });
      clock.advance(DAY_MS);
      const back = await sender.runPass();
      expect(back.counts.sent).toBe(EVENTS * 3);
      for (const platform of PLATFORMS) expect(countProblems(fakes, platform, due)).toEqual([]);
      expect(clock.now().getTime() - firstAttempt).toBeLessThan(DEDUP_WINDOW_MS);

      // The audit log: one failed attempt and one sent per conversion.
      const audit = await db.query<{ status: string; n: number | string }>('SELECT status, count(*) AS n FROM send_attempts GROUP BY status ORDER BY status');
      // (Microsoft's row of each removed at the first pass, unrecorded: the client has no Microsoft connection.)
      expect(audit.map((a) => [a.status, Number(a.n)])).toEqual([
        ['retrying', EVENTS * 3],
        ['sent', EVENTS * 3],
      ]);
      expect(await db.count("SELECT count(*) AS n FROM outbox WHERE status <> 'sent'")).toBe(0);
      expect(await db.count("SELECT count(*) AS n FROM outbox WHERE platform = 'microsoft'")).toBe(0);
    });
  });
}
