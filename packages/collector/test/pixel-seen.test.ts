/** The pixel-hit record of the dashboard's install check: at most once a minute per (client, origin), never failing a beacon. */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createPixelSeen } from '../src/domain/pixel-seen.js';
import type { Store } from '../src/store/types.js';

function fakeStore(fail: () => boolean) {
  const writes: Array<[string, string, string]> = [];
  const store = {
    pixelOrigins: {
      async seen(clientId: string, origin: string, at: Date) {
        if (fail()) throw new Error('database is locked');
        writes.push([clientId, origin, at.toISOString()]);
      },
      async list() {
        return [];
      },
    },
  } as unknown as Store;
  return { store, writes };
}

const t = (s: number): Date => new Date(Date.UTC(2026, 2, 2, 10, 0, s));

describe('pixel seen', () => {
  it('writes a (client, origin) at most once a minute, each pair on its own', async () => {
    const { store, writes } = fakeStore(() => false);
    const seen = createPixelSeen(store, pino({ level: 'silent' }));
    await seen('cli_a', 'https://a.example', t(0));
    await seen('cli_a', 'https://a.example', t(59));
    await seen('cli_a', 'https://www.a.example', t(10));
    await seen('cli_b', 'https://a.example', t(10));
    await seen('cli_a', 'https://a.example', t(60));
    expect(writes.map((w) => `${w[0]} ${w[1]} ${w[2].slice(14, 19)}`)).toEqual([
      'cli_a https://a.example 00:00',
      'cli_a https://www.a.example 00:10',
      'cli_b https://a.example 00:10',
      'cli_a https://a.example 01:00',
    ]);
  });

  it('writes again when the clock went back, and retries after a failed write without throwing', async () => {
    let failing = true;
    const { store, writes } = fakeStore(() => failing);
    const seen = createPixelSeen(store, pino({ level: 'silent' }));
    await expect(seen('cli_a', 'https://a.example', t(30))).resolves.toBeUndefined();
    failing = false;
    await seen('cli_a', 'https://a.example', t(31));
    await seen('cli_a', 'https://a.example', t(5));
    expect(writes.map((w) => w[2].slice(17, 19))).toEqual(['31', '05']);
  });
});
