/**
 * The Pruuv pixel in a bundled app: initialise once at start-up, track the
 * conversion, read what was captured. Importing `@pruuv/pixel` runs nothing;
 * `init` captures the click IDs of the current URL.
 */
import { getAttribution, init, track } from '@pruuv/pixel';

// With the npm package the collector's URL is required (the script tag infers it).
// Here the app is served by the collector itself, which replaces DEMO_SITE_KEY.
init({ site: 'DEMO_SITE_KEY', endpoint: location.origin, defaultCountryCode: '44' });

const form = document.querySelector<HTMLFormElement>('#signup');
const result = document.querySelector<HTMLElement>('#result');
const captured = document.querySelector<HTMLElement>('#attribution');

// Click IDs with their first-seen times, first and last touch, fbc/fbp.
if (captured) captured.textContent = JSON.stringify(getAttribution(), null, 2);

form?.addEventListener('submit', (event) => {
  event.preventDefault();
  const data = new FormData(form);
  // Email and phone are hashed in the browser; only SHA-256 hashes are sent.
  track('lead', {
    email: String(data.get('email') ?? ''),
    phone: String(data.get('phone') ?? ''),
    reference: `app-${Date.now().toString(36)}`,
  }).then(({ event_id }) => {
    if (!result) return;
    result.textContent = `Lead sent. event_id: ${event_id}`;
    result.dataset.eventId = event_id;
  });
});
