/**
 * Child-process tests run the built JavaScript (what ships). `npm test` builds
 * first (root `pretest`); when a test file is run alone after a source edit,
 * {@link ensureBuilt} rebuilds the sender and collector packages once.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

function stale(pkg: string): boolean {
  const src = join(ROOT, 'packages', pkg, 'src');
  const dist = join(ROOT, 'packages', pkg, 'dist');
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(join(dir, d.name)) : [join(dir, d.name)]));
  return walk(src)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .some((file) => {
      const out = join(dist, relative(src, file)).replace(/\.ts$/, '.js');
      return !existsSync(out) || statSync(out).mtimeMs < statSync(file).mtimeMs;
    });
}

/** Rebuilds `@pruuv/sender` and `@pruuv/collector` when a source file is newer than its build. */
export function ensureBuilt(): void {
  if (!stale('sender') && !stale('collector')) return;
  execFileSync('npm', ['run', 'build', '-w', '@pruuv/sender', '-w', '@pruuv/collector'], { cwd: ROOT, stdio: 'pipe' });
}
