import { describe, expect, it } from 'vitest';
import { createTokenBucket } from '../src/rate-limit.js';

describe('createTokenBucket', () => {
  it('lets 300 requests through, then spaces them 200 ms apart', () => {
    const t = new Date('2026-11-20T00:00:00Z');
    const bucket = createTokenBucket({ now: () => t });
    const waits = Array.from({ length: 302 }, () => bucket.take());
    expect(waits.slice(0, 300).every((w) => w === 0)).toBe(true);
    expect(waits.slice(300)).toEqual([200, 400]);
  });

  it('refills with time', () => {
    let t = 0;
    const bucket = createTokenBucket({ capacity: 2, intervalMs: 1000, now: () => new Date(t) });
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([0, 0, 500]);
    t = 1500;
    expect(bucket.take()).toBe(0);
  });
});
