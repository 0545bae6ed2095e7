/**
 * One request to a platform and its verdict, shared by the adapters: send,
 * classify the answer with the platform's reader, and turn a request that got
 * no answer (timeout, network) into its shared retry-table row.
 */
import { NetworkError, TimeoutError } from './errors.js';
import { sendHttp, type HttpRequest, type HttpResponse } from './http.js';
import type { Classified } from './outcomes.js';
import type { PlanBase, PlatformSender, SendContext } from './platforms/adapter.js';
import { sharedRule, verdictFrom } from './retry-rules.js';

/** The verdict for a request that got no answer. Rethrows anything but a timeout or a network failure: a bug, not the platform. */
export function transportFailure(error: unknown): Classified {
  if (error instanceof TimeoutError) {
    return { verdict: { type: 'all', result: verdictFrom(sharedRule('timeout'), { error_code: 'TIMEOUT', error_message: error.message }) } };
  }
  if (error instanceof NetworkError) {
    return { verdict: { type: 'all', result: verdictFrom(sharedRule('network'), { error_code: 'NETWORK', error_message: error.message }) } };
  }
  throw error;
}

/** Sends `req` and reads the answer with `classify`. */
export async function exchange(
  ctx: Pick<SendContext, 'fetch' | 'timeoutMs'>,
  req: HttpRequest,
  classify: (res: HttpResponse) => Classified,
): Promise<Classified> {
  try {
    return classify(await sendHttp(ctx.fetch, req, ctx.timeoutMs));
  } catch (error) {
    return transportFailure(error);
  }
}

/**
 * The sender of a platform whose requests need nothing but the connection
 * (Meta, TikTok: the token travels in the request): one exchange per request,
 * and the request itself as the build-only dry run's preview.
 */
export function directSender<P extends PlanBase>(
  ctx: Pick<SendContext, 'fetch' | 'timeoutMs'>,
  build: (plans: readonly P[]) => HttpRequest,
  classify: (res: HttpResponse, plans: readonly P[]) => Classified,
): PlatformSender<P> {
  return {
    send: (plans) => exchange(ctx, build(plans), (res) => classify(res, plans)),
    preview: build,
  };
}
