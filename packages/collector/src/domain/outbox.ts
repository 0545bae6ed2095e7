/**
 * Rules of the outbox, whatever the engine: which platforms an event gets a
 * row for, and which statuses are final.
 */
import { PLATFORM_IDS, type OutcomeStatus, type Platform } from '@pruuv/sender';

/** Every stored event gets one row per platform of the sender's registry; the sender skips platforms the event cannot go to. */
export const OUTBOX_PLATFORMS: readonly Platform[] = PLATFORM_IDS;

/** Outbox statuses that are final: the row is never claimed again. */
export const FINAL_STATUSES: readonly OutcomeStatus[] = ['sent', 'skipped', 'failed', 'dead'];
