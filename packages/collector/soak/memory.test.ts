/**
 * Memory stays flat under a minute of load: the built `pruuv serve` on SQLite
 * takes webhook events and pixel beacons from 16 clients for 60 s while it
 * reports its memory every second after a full GC (soak/helpers/memory-probe.mjs).
 * The heap and the RSS at the end are compared with those after a 15 s warm-up
 * (medians of 10 samples each): the heap may grow by 4 MB at most, which a
 * leak of 150 bytes a request would pass at the 2-core VM's 800 requests a
 * second (the smallest leak the run would catch is printed).
 */
import { fileURLToPath } from 'node:url';
import { freePort } from '@pruuv/testkit/postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { startProc, stop, type Proc } from '../test/helpers/process.js';
import { ensureBuilt } from '../test/send-build.js';
import { soakDatabase, type SoakDatabase } from './helpers/database.js';
import { LOAD_ENV, loadRequest, seedStages } from './helpers/load.js';

const SECONDS = 60;
const WARM_UP_SECONDS = 15;
const CLIENTS = 16;
const STAGES = 256;
const PROBE = fileURLToPath(new URL('./helpers/memory-probe.mjs', import.meta.url));
const MB = 1024 * 1024;

interface Sample {
  at: number;
  rss: number;
  heapUsed: number;
}

let db: SoakDatabase | undefined;
let proc: Proc | undefined;
afterAll(async () => {
  if (proc) await stop(proc);
  await db?.drop();
});

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

describe(`a collector under ${SECONDS} s of load`, () => {
  it('keeps its heap and RSS flat after the warm-up', async () => {
    ensureBuilt();
    db = await soakDatabase('sqlite');
    const seeded = await seedStages(db, STAGES);
    proc = startProc(
      'collector',
      ['serve', '--no-worker'],
      { PATH: process.env['PATH'], PRUUV_HOST: '127.0.0.1', PORT: String(await freePort()), PRUUV_LOG_LEVEL: 'info', ...LOAD_ENV, ...db.env },
      { nodeArgs: ['--expose-gc', '--import', PROBE], ipc: true },
    );
    const samples: Sample[] = [];
    proc.child.on('message', (m: Sample) => samples.push(m));
    const url = String((await proc.waitFor((l) => l['msg'] === 'collector listening'))['url']);
    // The lines are kept by the helper; this run writes a line per request.
    const dropLines = setInterval(() => proc && (proc.lines.length = 0), 1000);

    const started = Date.now();
    const end = started + SECONDS * 1000;
    let n = 0;
    let ok = 0;
    const failures: string[] = [];
    const loadClient = async (): Promise<void> => {
      while (Date.now() < end) {
        const i = n++;
        const answer = await loadRequest(url, seeded, i, 'm');
        if (answer.status === 200) ok++;
        else failures.push(String(answer.status));
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, loadClient));
    clearInterval(dropLines);
    expect(failures.slice(0, 5)).toEqual([]);

    const during = samples.filter((s) => s.at >= started && s.at <= end);
    const after = (from: number, to: number) => during.filter((s) => s.at >= started + from * 1000 && s.at < started + to * 1000);
    const warm = after(WARM_UP_SECONDS, WARM_UP_SECONDS + 10);
    const last = after(SECONDS - 10, SECONDS);
    expect(warm.length).toBeGreaterThanOrEqual(8);
    expect(last.length).toBeGreaterThanOrEqual(8);
    const heap = { warm: median(warm.map((s) => s.heapUsed)), end: median(last.map((s) => s.heapUsed)) };
    const rss = { warm: median(warm.map((s) => s.rss)), end: median(last.map((s) => s.rss)) };
    const fmt = (b: number) => `${(b / MB).toFixed(1)} MB`;
    // Requests between the middle of the two sample windows.
    const between = (ok * (SECONDS - 5 - (WARM_UP_SECONDS + 5))) / SECONDS;
    console.info(
      `[soak] memory over ${SECONDS} s, ${ok} requests (${Math.round(ok / SECONDS)}/s): heap ${fmt(heap.warm)} after warm-up, ${fmt(heap.end)} at the end; RSS ${fmt(rss.warm)}, ${fmt(rss.end)}; a leak of ${Math.ceil((4 * MB) / between)} bytes a request would have failed`,
    );
    expect(ok).toBeGreaterThan(SECONDS * 200);
    // Bounds: a few MB of noise (GC timing, caches filling), far under what a leak of 100 bytes per request would add.
    expect(heap.end - heap.warm).toBeLessThan(4 * MB);
    expect(rss.end - rss.warm).toBeLessThan(24 * MB);
  }, 180_000);
});
