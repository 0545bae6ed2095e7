import { describe, expect, it } from 'vitest';
import { sendIsolating, type IsolateState } from '../src/isolate.js';
import type { Classified } from '../src/outcomes.js';
import type { Verdict } from '../src/retry-policy.js';

const bad: Verdict = { kind: 'split', reason: 'invalid_event', error_code: '100' };

/** A platform that rejects any request containing a bad item, optionally naming its index. */
function platform(badItems: Set<number>, nameIndices = false) {
  const sizes: number[] = [];
  const send = async (items: readonly number[]): Promise<Classified> => {
    sizes.push(items.length);
    const idx = items.flatMap((it, i) => (badItems.has(it) ? [i] : []));
    if (idx.length === 0) return { verdict: { type: 'all', result: { kind: 'sent' } }, http_status: 200 };
    return { verdict: { type: 'split', verdict: bad, ...(nameIndices ? { indices: idx } : {}) }, http_status: 400 };
  };
  return { send, sizes };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const fresh = (budget = 64): IsolateState => ({ budget, requests: 0 });

describe('sendIsolating', () => {
  it('isolates one bad event in 1,000 by bisection', async () => {
    const p = platform(new Set([613]));
    const state = fresh();
    const results = await sendIsolating(range(1000), p.send, state);
    expect(results.filter((r) => r.result.kind === 'sent')).toHaveLength(999);
    expect(results[613]).toMatchObject({ result: { kind: 'fail', reason: 'invalid_event', error_code: '100' }, http_status: 400 });
    expect(state.requests).toBeLessThanOrEqual(1 + 2 * Math.ceil(Math.log2(1000)));
  });

  it('quarantines named indices and resends the rest once', async () => {
    const p = platform(new Set([3, 8]), true);
    const state = fresh();
    const results = await sendIsolating(range(10), p.send, state);
    expect(results.map((r) => r.result.kind)).toEqual(['sent', 'sent', 'sent', 'fail', 'sent', 'sent', 'sent', 'sent', 'fail', 'sent']);
    expect(p.sizes).toEqual([10, 8]);
  });

  it('retries what it could not isolate within the budget', async () => {
    const p = platform(new Set(range(16)));
    const results = await sendIsolating(range(16), p.send, fresh(4));
    expect(results.filter((r) => r.result.kind === 'retry').length).toBeGreaterThan(0);
    expect(results.find((r) => r.result.kind === 'retry')?.result).toMatchObject({ reason: 'isolation_budget_exhausted' });
    expect(p.sizes).toHaveLength(5);
  });

  it('stops sending after an answer pauses the connection', async () => {
    let calls = 0;
    const state = fresh();
    const send = async (): Promise<Classified> => {
      calls += 1;
      return { verdict: { type: 'all', result: { kind: 'pause', reason: 'auth' } } };
    };
    await sendIsolating([1, 2], send, state);
    const second = await sendIsolating([3], send, state);
    expect(calls).toBe(1);
    expect(second[0]?.result).toMatchObject({ kind: 'pause' });
  });
});
