/**
 * The test browser: Chromium's headless shell, brought by npm.
 *
 * `npm ci` installs `@sparticuz/chromium`, which ships a self-contained build
 * of Chromium's headless shell inside the package (brotli-compressed, about
 * 64 MB; it needs only libc, libexpat and libgcc on Linux x64). The global
 * setup of a test project decompresses it once per run into a temporary
 * directory of that run ({@link prepareTestBrowser}); every test file then
 * launches it with {@link launchTestBrowser}.
 *
 * Only the binary and its fonts are taken from the package, never its launch
 * arguments: those are made for serverless functions (`--single-process`,
 * `--disable-web-security`, `--allow-running-insecure-content`) and would
 * change the cookie, CORS and CSP behaviour the browser tests exist to check.
 *
 * `PRUUV_CHROMIUM=/path/to/chromium` uses another build instead (Debian's
 * `/usr/bin/chromium`, Chrome on macOS, a newer headless shell).
 */
import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createBrotliDecompress } from 'node:zlib';
import { chromium, type Browser } from 'playwright-core';
import { extract } from 'tar';

/** The variable that points the tests at another Chromium build. */
export const CHROMIUM_ENV = 'PRUUV_CHROMIUM';

/**
 * The project's own Chromium flags. Headless; no sandbox (CI runs as root);
 * no GPU; and no background traffic, which this project's closed networks
 * refuse many times a second (component updates, sync, first-run pings).
 */
export const CHROMIUM_FLAGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A Chromium ready to launch, as a global setup hands it to the test workers. */
export interface TestBrowser {
  /** Path of the executable. */
  executable: string;
  /** What `--version` printed, e.g. `Chromium 147.0.7727.0`. */
  version: string;
  /** Where it came from: the npm package, or the {@link CHROMIUM_ENV} override. */
  source: 'npm' | 'env';
  /** A fontconfig file that adds the package's fonts to the system's; absent for an override. */
  fontconfig?: string;
}

/** Thrown when no usable browser can be prepared; the message says what to set. */
export class TestBrowserError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(`${message}\nSet ${CHROMIUM_ENV}=/path/to/chromium to use another build (Debian's /usr/bin/chromium, Chrome on macOS).`, options);
    this.name = 'TestBrowserError';
  }
}

function packageBin(): string {
  const require = createRequire(import.meta.url);
  // The package exports only its entry (build/cjs/index.cjs); `bin/` is two
  // levels up from it, beside package.json.
  const bin = join(dirname(require.resolve('@sparticuz/chromium')), '..', '..', 'bin');
  if (!existsSync(join(bin, 'chromium.br'))) {
    throw new TestBrowserError(`@sparticuz/chromium has no bin/chromium.br at ${bin}: run npm ci again.`);
  }
  return bin;
}

async function decompress(file: string, to: string): Promise<void> {
  await pipeline(createReadStream(file), createBrotliDecompress(), createWriteStream(to, { mode: 0o755 }));
}

/** Decompresses the npm package's Chromium and fonts into a new directory under `parent`. */
async function unpack(parent: string): Promise<{ dir: string; executable: string; fontconfig: string }> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new TestBrowserError(
      `The test browser from @sparticuz/chromium runs on Linux x64 only; this is ${process.platform} ${process.arch}.`,
    );
  }
  const bin = packageBin();
  const fail = (err: unknown): TestBrowserError => {
    const why = err instanceof Error ? err.message : String(err);
    return new TestBrowserError(
      `Could not decompress the test browser from @sparticuz/chromium into ${parent} (${why}). ` +
        'It needs about 200 MB there: free space, or set TMPDIR to a roomier directory.',
      { cause: err },
    );
  };
  const dir = await mkdtemp(join(parent, 'pruuv-chromium-')).catch((err: unknown) => {
    throw fail(err);
  });
  try {
    const executable = join(dir, 'chromium');
    await decompress(join(bin, 'chromium.br'), executable);
    // fonts.tar holds fonts.conf (Lambda paths, not used) and fonts/Open_Sans.
    const fontsTar = join(dir, 'fonts.tar');
    await decompress(join(bin, 'fonts.tar.br'), fontsTar);
    await extract({ file: fontsTar, cwd: dir, filter: (path) => path.startsWith('fonts/') });
    await rm(fontsTar);
    await mkdir(join(dir, 'fonts-cache'));
    // The system's fonts where there are any (Debian's fonts-dejavu, macOS'
    // own), plus the package's, so pages render text on a machine without any.
    const fontconfig = join(dir, 'fonts.conf');
    await writeFile(
      fontconfig,
      [
        '<?xml version="1.0"?>',
        '<!DOCTYPE fontconfig SYSTEM "fonts.dtd">',
        '<fontconfig>',
        '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>',
        `  <dir>${join(dir, 'fonts')}</dir>`,
        `  <cachedir>${join(dir, 'fonts-cache')}</cachedir>`,
        '</fontconfig>',
        '',
      ].join('\n'),
    );
    return { dir, executable, fontconfig };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw fail(err);
  }
}

function version(executable: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(executable, ['--version'], { timeout: 15_000, env }, (err, stdout, stderr) => {
      if (err) {
        const detail = (stderr || err.message).trim().split('\n').slice(0, 3).join(' ');
        reject(new TestBrowserError(`The test browser at ${executable} cannot start: ${detail}`, { cause: err }));
        return;
      }
      resolve(stdout.trim());
    });
  });
}

function browserEnv(browser: Pick<TestBrowser, 'fontconfig'>): NodeJS.ProcessEnv {
  return browser.fontconfig ? { ...process.env, FONTCONFIG_FILE: browser.fontconfig } : { ...process.env };
}

/** Where {@link prepareTestBrowser} looks; the defaults are the environment's. */
export interface PrepareOptions {
  /** A browser to use instead of the npm package's. Defaults to `process.env.PRUUV_CHROMIUM`. */
  override?: string | undefined;
  /** The directory to decompress into. Defaults to the system's temporary directory (`TMPDIR`). */
  tmp?: string;
}

/**
 * Makes a browser ready for one test run: the {@link CHROMIUM_ENV} build when
 * set, else the npm package's, decompressed into a new directory under the
 * system's temporary directory (so two runs at once never share a half-written
 * file). Starts it once, headless, to prove it works: a browser that cannot
 * start fails the run here, with the cause and the variable to set, instead of
 * failing every test or being skipped.
 *
 * @returns the browser, and a cleanup that removes what was decompressed.
 */
export async function prepareTestBrowser(
  options: PrepareOptions = {},
): Promise<{ browser: TestBrowser; cleanup: () => Promise<void> }> {
  const override = 'override' in options ? options.override : process.env[CHROMIUM_ENV];
  let browser: TestBrowser;
  let cleanup = async (): Promise<void> => {};
  if (override) {
    if (!existsSync(override) || !statSync(override).isFile()) {
      throw new TestBrowserError(`${CHROMIUM_ENV} is set to ${override}, which is not a file.`);
    }
    browser = { executable: override, version: await version(override, process.env), source: 'env' };
  } else {
    const unpacked = await unpack(options.tmp ?? tmpdir());
    cleanup = () => rm(unpacked.dir, { recursive: true, force: true });
    try {
      const install = { executable: unpacked.executable, fontconfig: unpacked.fontconfig };
      browser = { ...install, version: await version(unpacked.executable, browserEnv(install)), source: 'npm' };
    } catch (err) {
      await cleanup();
      throw err;
    }
  }
  try {
    const probe = await launchTestBrowser(browser, []);
    await probe.close();
  } catch (err) {
    await cleanup();
    if (err instanceof TestBrowserError) throw err;
    const why = err instanceof Error ? err.message.split('\n').slice(0, 6).join('\n') : String(err);
    throw new TestBrowserError(`The test browser at ${browser.executable} (${browser.version}) did not launch: ${why}`, {
      cause: err,
    });
  }
  return { browser, cleanup };
}

/**
 * Launches the prepared browser headless with the project's flags and `args`.
 * Each launch gets a fresh temporary profile, and every `newContext()` a fresh
 * one on top of it, so no state leaks between tests.
 */
export function launchTestBrowser(browser: TestBrowser, args: readonly string[]): Promise<Browser> {
  return chromium.launch({
    executablePath: browser.executable,
    // Playwright's own defaults plus ours; never @sparticuz/chromium's `args`.
    args: [...CHROMIUM_FLAGS, ...args],
    env: browserEnv(browser),
    timeout: 30_000,
  });
}
