/**
 * Rules of the outbox, whatever the engine: which platforms an event gets a
 * row for, and which statuses are final.
 */
import type { OutcomeStatus, Platform } from '@pruuv/sender';

/** Every stored event gets one row per platform; the sender skips platforms the event cannot go to. */
export const OUTBOX_PLATFORMS: readonly Platform[] = ['meta', 'google', 'tiktok'];

/** Outbox statuses that are final: the row is never claimed again. */
export const FINAL_STATUSES: readonly OutcomeStatus[] = ['sent', 'skipped', 'failed', 'dead'];
