/**
 * The sentences the sender writes word for word the same on every record of one outcome, so
 * that a store can keep each once instead of on every audit record (the collector's audit log
 * stores an empty message for them). A platform's `sentMessage` is on every record it sends
 * (Microsoft's "accepted", 370 characters); the missing connection's on every event of a client
 * without a connection for the platform.
 */
import type { OutcomeStatus } from './outcomes.js';
import { platformAdapter } from './platforms/index.js';
import { noConnectionMessage } from './platforms/preflight.js';
import type { Platform } from './types.js';

/** The message of a dry run's record: built (Google: validated by the platform), not delivered. */
export const DRY_RUN_MESSAGE = 'Dry run: built and validated, not delivered.';

/**
 * The message the sender writes on every record of this outcome, or `undefined` when the
 * outcome has no standard message (its message, if any, is the record's own).
 */
export function standardMessage(platform: Platform, status: OutcomeStatus, reason: string | null | undefined): string | undefined {
  if (status === 'skipped' && reason === 'no_connection') return noConnectionMessage(platform);
  if (status === 'skipped' && reason === 'dry_run') return DRY_RUN_MESSAGE;
  if (status === 'sent' && (reason === undefined || reason === null)) return platformAdapter(platform).sentMessage;
  return undefined;
}
