/**
 * The examples/npm-app demo: built with its own rollup config (as a user runs
 * `npx rollup -c` in that folder), then used in Chromium like a visitor would.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { SHOP } from './chromium.js';
import { sha256, UUID_V4, useSuite } from './harness.js';
import { DEMO_SITE, NPM_APP } from './server.js';

const suite = useSuite();

beforeAll(async () => {
  // rollup's own CLI, resolved like `npx rollup` would from the example folder.
  const rollupBin = join(createRequire(join(NPM_APP, 'package.json')).resolve('rollup/package.json'), '../dist/bin/rollup');
  await promisify(execFile)(process.execPath, [rollupBin, '-c', '--silent'], { cwd: NPM_APP });
});

describe('examples/npm-app', () => {
  it('captures click IDs and sends the lead from the bundle', async () => {
    const { page } = await suite.open();
    await page.goto(`${suite.server.origin(SHOP)}/npm-app/?gclid=G-app&utm_source=newsletter`);
    await expect.poll(() => page.textContent('#attribution')).toContain('G-app');
    await page.fill('input[name="email"]', 'Ann@Example.com');
    await page.fill('input[name="phone"]', '07700 900123');
    await page.click('button[type="submit"]');
    const eventId = await page.waitForSelector('#result[data-event-id]').then((el) => el.getAttribute('data-event-id'));
    const [beacon] = await suite.server.waitForDelivered(1);

    expect(eventId).toMatch(UUID_V4);
    expect(beacon?.body).toMatchObject({
      site: DEMO_SITE,
      stage: 'lead',
      event_id: eventId,
      clicks: { gclid: { value: 'G-app' } },
      utm: { utm_source: 'newsletter' },
      email_sha256: sha256('ann@example.com'),
      // defaultCountryCode '44': the national 07700… becomes +447700900123.
      phone_sha256: sha256('+447700900123'),
      phone_sha256_meta: sha256('447700900123'),
    });
    expect(beacon?.body).not.toHaveProperty('email_sha256_google');
  });
});
