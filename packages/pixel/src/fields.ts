/**
 * Hidden form fields: `<input type="hidden" data-pruuv="gclid">` is filled with the
 * captured value, so a site's own backend receives it with the form.
 */
import type { Attribution } from './types.js';

/**
 * The value of every field name: captured click IDs (from the ledger) and their
 * `<id>_timestamp`, the last touch's UTMs, `fbc`, `fbp` and `ttp`. (The attribution's
 * other keys come along, unused: copying them costs fewer bytes than naming three.)
 */
export const fieldValues = (a: Attribution): Record<string, string | undefined> => {
  const v = { ...a.last_touch?.params, ...a } as unknown as Record<string, string | undefined>;
  for (const [k, e] of Object.entries(a.clicks)) {
    v[k] = e.value;
    v[k + '_timestamp'] = e.ts;
  }
  return v;
};

/** Fills every `[data-pruuv]` element of the document that has a known value; others are left alone. */
export const fillFields = (a: Attribution): void => {
  const v = fieldValues(a);
  for (const el of document.querySelectorAll<HTMLInputElement>('[data-pruuv]')) {
    const x = v[el.dataset.pruuv as string];
    // Strings only: `clicks` and the touches are objects.
    if (x?.trim) el.value = x;
  }
};
