import { SenderError } from '@pruuv/sender';

/** Misuse of the fake platforms (bad options, a step a route cannot answer). */
export class FakePlatformsError extends SenderError {}
