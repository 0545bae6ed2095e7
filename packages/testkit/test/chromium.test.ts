import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ENV, launchTestBrowser, prepareTestBrowser, TestBrowserError } from '../src/chromium.js';

let scratch = '';
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'pruuv-testkit-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('prepareTestBrowser', () => {
  describe('with the npm package', () => {
    it('decompresses a Chromium that launches, and removes it on cleanup', async () => {
      const tmp = await mkdtemp(join(scratch, 'run-'));
      const { browser, cleanup } = await prepareTestBrowser({ override: undefined, tmp });
      expect(browser.source).toBe('npm');
      expect(browser.version).toMatch(/^Chromium \d+\./);
      expect(browser.executable.startsWith(tmp)).toBe(true);
      const b = await launchTestBrowser(browser, []);
      const page = await b.newPage();
      expect(await page.evaluate('navigator.userAgent')).toContain('HeadlessChrome');
      await b.close();
      await cleanup();
      expect(await readdir(tmp)).toEqual([]);
    }, 60_000);

    it('gives two runs at once their own directories', async () => {
      const tmp = await mkdtemp(join(scratch, 'both-'));
      const [a, b] = await Promise.all([prepareTestBrowser({ override: undefined, tmp }), prepareTestBrowser({ override: undefined, tmp })]);
      expect(a.browser.executable).not.toBe(b.browser.executable);
      await a.cleanup();
      // The other run's browser is untouched by the first run's cleanup.
      const still = await launchTestBrowser(b.browser, []);
      await still.close();
      await b.cleanup();
    }, 90_000);

    it('fails with the cause and the variable to set when it cannot decompress', async () => {
      const notADirectory = join(scratch, 'a-file');
      await writeFile(notADirectory, '');
      const err = await prepareTestBrowser({ override: undefined, tmp: notADirectory }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TestBrowserError);
      expect((err as Error).message).toContain('ENOTDIR');
      expect((err as Error).message).toContain(`${CHROMIUM_ENV}=`);
    });
  });

  describe(`with ${CHROMIUM_ENV}`, () => {
    it('fails at once when it names no file', async () => {
      const err = await prepareTestBrowser({ override: join(scratch, 'no-such-chromium') }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TestBrowserError);
      expect((err as Error).message).toMatch(/PRUUV_CHROMIUM is set to .*no-such-chromium, which is not a file/);
    });

    it('fails with the loader error of a browser that cannot start', async () => {
      const broken = join(scratch, 'broken-chromium');
      await writeFile(broken, '#!/bin/sh\necho "chromium: error while loading shared libraries: libnss3.so" >&2\nexit 127\n');
      await chmod(broken, 0o755);
      const err = await prepareTestBrowser({ override: broken }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TestBrowserError);
      expect((err as Error).message).toContain('cannot start: chromium: error while loading shared libraries: libnss3.so');
      expect((err as Error).message).toContain(`Set ${CHROMIUM_ENV}=`);
    });

    it('fails when the browser answers --version but does not launch', async () => {
      const fake = join(scratch, 'version-only');
      await writeFile(fake, '#!/bin/sh\nif [ "$1" = "--version" ]; then echo "Chromium 1.0"; exit 0; fi\nexit 1\n');
      await chmod(fake, 0o755);
      const err = await prepareTestBrowser({ override: fake }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TestBrowserError);
      expect((err as Error).message).toContain('(Chromium 1.0) did not launch');
    }, 60_000);
  });
});
