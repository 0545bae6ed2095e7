/**
 * The collector's beacon schema and the pixel's `TrackPayload` must not drift:
 * the type-level assertion below fails `tsc` (npm run typecheck) when they do.
 */
import type { TrackPayload } from '@pruuv/pixel';
import type { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { trackPayloadSchema } from '../src/domain/schemas.js';

/** `true` only when A and B are the same type (mutual assignability is not enough: this also catches optionality). */
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Compiles only for `true`. */
type Assert<T extends true> = T;

export type SchemaMatchesTrackPayload = Assert<Equals<z.output<typeof trackPayloadSchema>, TrackPayload>>;
export type InputMatchesTrackPayload = Assert<Equals<z.input<typeof trackPayloadSchema>, TrackPayload>>;

// @ts-expect-error: the helper does tell different types apart.
export type HelperRejects = Assert<Equals<{ a?: string }, { a: string | undefined }>>;

describe('trackPayloadSchema', () => {
  it('parses a payload typed as TrackPayload', () => {
    const payload: TrackPayload = {
      v: 1,
      site: 'site_x',
      stage: 'lead',
      event_id: '3b241101-e2bb-4255-8caf-4136c566a962',
      visitor_id: '1b241101-e2bb-4255-8caf-4136c566a962',
      reference: 'r',
      clicks: { gclid: { value: 'g', ts: '2026-03-01T10:00:00.000Z' } },
      utm: { utm_source: 's' },
      url: 'https://www.example.com/',
      client_time: '2026-03-01T10:00:00.000Z',
      consent: 'unspecified',
    };
    expect(trackPayloadSchema.parse(payload)).toEqual(payload);
  });
});

/** The click IDs the pixel captures and the ones the sender knows are one list. */
export type PixelClickIdsMatchSender = Assert<Equals<import('@pruuv/pixel').ClickIdName, import('@pruuv/sender').ClickIdName>>;
