// @vitest-environment node
import { describe, expect, it } from 'vitest';

describe('without a DOM (server rendering)', () => {
  it('imports without touching globals', async () => {
    const before = Object.keys(globalThis).sort();
    await import('../src/index.js');
    expect(typeof document).toBe('undefined');
    expect(Object.keys(globalThis).sort()).toEqual(before);
  });

  it('makes every call a harmless no-op', async () => {
    const { init, track, getAttribution, consent } = await import('../src/index.js');
    expect(() => init({ site: 'site_1', endpoint: 'https://collect.example.com' })).not.toThrow();
    expect(() => consent(true)).not.toThrow();
    expect(getAttribution()).toEqual({ clicks: {} });
    const { event_id } = await track('lead', { email: 'jo@example.com' });
    expect(event_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('resolves track() even without init()', async () => {
    const { createPixel } = await import('../src/index.js');
    await expect(createPixel().track('lead')).resolves.toHaveProperty('event_id');
  });
});
