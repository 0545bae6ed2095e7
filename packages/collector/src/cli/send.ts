import type { PassReport } from '@pruuv/sender';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { formatPassReport } from '../send/pass-summary.js';
import { createSender, type SenderOptions } from '../send/sender.js';
import type { Store } from '../store/types.js';
import { emit, type CliOutput } from './output.js';

/** Options of `pruuv send`. */
export interface SendOptions {
  /** Sender seams for tests (a `fetch`, a clock). */
  sender?: Partial<Omit<SenderOptions, 'store' | 'config'>>;
  logger?: Logger;
}

/**
 * `pruuv send`: runs one send pass now (every due conversion, whatever the schedule) and
 * prints a summary: per platform how many were sent, failed, skipped, retrying or dead, the
 * paused connections with the sends they hold back, and connections that could not be read.
 * JSON: the pass report. Refuses to run when credentials are stored and
 * `PRUUV_ENCRYPTION_KEY` cannot open them.
 */
export async function send(store: Store, config: Config, options: SendOptions, output: CliOutput): Promise<PassReport> {
  const sender = await createSender({ store, config: config.send, ...(options.logger ? { logger: options.logger } : {}), ...options.sender });
  const report = await sender.runPass();
  emit(output, report, () => formatPassReport(report));
  return report;
}
