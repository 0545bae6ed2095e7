import { afterEach, describe, expect, it, vi } from 'vitest';
import { uuid } from '../src/uuid.js';

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuid', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('makes distinct v4 UUIDs', () => {
    const ids = Array.from({ length: 500 }, uuid);
    for (const id of ids) expect(id).toMatch(V4);
    expect(new Set(ids).size).toBe(500);
  });

  it('uses crypto.getRandomValues and never crypto.randomUUID', () => {
    const getRandomValues = vi.fn((a: Uint8Array) => a.fill(255));
    const randomUUID = vi.fn();
    vi.stubGlobal('crypto', { getRandomValues, randomUUID });
    // All-ones random bits: every 0 becomes f, every 1 e; the variant digit 8 becomes b.
    expect(uuid()).toBe('efffffff-efff-4fff-bfff-efffffffffff');
    expect(getRandomValues).toHaveBeenCalled();
    expect(randomUUID).not.toHaveBeenCalled();
  });

  it('falls back to Math.random without crypto', () => {
    vi.stubGlobal('crypto', undefined);
    const ids = Array.from({ length: 50 }, uuid);
    for (const id of ids) expect(id).toMatch(V4);
    expect(new Set(ids).size).toBe(50);
  });
});
