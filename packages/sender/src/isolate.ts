/**
 * Sending a batch when one bad event can sink it. Meta, TikTok and Data
 * Manager reject a whole request for one invalid event (platforms.md §1.2,
 * §4.3; google-data-manager.md §6); the good events must still go. When the
 * platform names the bad events (Data Manager `fieldViolations`), they are
 * quarantined and the rest resent; otherwise the batch is cut in halves until
 * each bad event is alone: about 2·log2(n) extra requests per bad event
 * (~20 for one bad event in 1,000).
 */
import type { Classified, EventResult } from './outcomes.js';
import type { Verdict } from './retry-policy.js';

/** One event's result with the answer it came from. */
export interface ItemResult {
  result: EventResult;
  http_status?: number;
  request_id?: string;
}

/** Shared by every request of one `sendBatch` call. */
export interface IsolateState {
  /** Extra requests still allowed for isolating bad events. */
  budget: number;
  /** Requests made so far. */
  requests: number;
  /** Set when an answer paused the connection: later requests are not made. */
  paused?: ItemResult;
}

/** Sends `items` with `send`, splitting on a `split` verdict, and returns one result per item, in order. */
export async function sendIsolating<T>(
  items: readonly T[],
  send: (items: readonly T[]) => Promise<Classified>,
  state: IsolateState,
): Promise<ItemResult[]> {
  return run(items, undefined);

  async function run(batch: readonly T[], parent: Verdict | undefined): Promise<ItemResult[]> {
    if (batch.length === 0) return [];
    if (state.paused) return batch.map(() => state.paused as ItemResult);
    if (parent) {
      if (state.budget <= 0) {
        const result: Verdict = {
          kind: 'retry',
          reason: 'isolation_budget_exhausted',
          error_message: 'Not resent: too many rejected sub-batches to isolate the bad events in one run.',
          ...(parent.error_code ? { error_code: parent.error_code } : {}),
        };
        return batch.map(() => ({ result }));
      }
      state.budget -= 1;
    }
    state.requests += 1;
    const answer = await send(batch);
    const meta: Omit<ItemResult, 'result'> = {};
    if (answer.http_status !== undefined) meta.http_status = answer.http_status;
    if (answer.request_id !== undefined) meta.request_id = answer.request_id;
    const v = answer.verdict;

    if (v.type === 'all') {
      if (v.result.kind === 'pause') state.paused = { result: v.result, ...meta };
      return batch.map(() => ({ result: v.result, ...meta }));
    }
    if (v.type === 'each') {
      return batch.map((_, i) => ({ result: v.results[i] ?? { kind: 'sent' }, ...meta }));
    }
    // split: the request was refused because of some event in it.
    const bad: Verdict = { ...v.verdict, kind: 'fail' };
    if (batch.length === 1) return [{ result: bad, ...meta }];
    const named = [...new Set(v.indices ?? [])].filter((i) => Number.isInteger(i) && i >= 0 && i < batch.length);
    if (named.length > 0) {
      const out: ItemResult[] = new Array<ItemResult>(batch.length);
      const rest: number[] = [];
      for (let i = 0; i < batch.length; i++) {
        if (named.includes(i)) out[i] = { result: bad, ...meta };
        else rest.push(i);
      }
      const restResults = await run(rest.map((i) => batch[i] as T), v.verdict);
      rest.forEach((i, k) => {
        out[i] = restResults[k] as ItemResult;
      });
      return out;
    }
    const mid = Math.ceil(batch.length / 2);
    const left = await run(batch.slice(0, mid), v.verdict);
    const right = await run(batch.slice(mid), v.verdict);
    return [...left, ...right];
  }
}
