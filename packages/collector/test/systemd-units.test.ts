/**
 * The systemd units in `examples/systemd/`: each runs the command it says with
 * the hardening options, and all pass `systemd-analyze verify` where that tool
 * is installed (the verify test is reported as skipped elsewhere, never as passed).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DIR = fileURLToPath(new URL('../../../examples/systemd/', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/pruuv.js', import.meta.url));
const UNITS = readdirSync(DIR).filter((f) => f.endsWith('.service') || f.endsWith('.timer'));
const HAS_SYSTEMD_ANALYZE = spawnSync('systemd-analyze', ['--version'], { stdio: 'ignore' }).status === 0;

/** `Key=value` lines of a unit file, by key (repeated keys keep every value). */
function directives(file: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of readFileSync(join(DIR, file), 'utf8').split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) map.set(m[1]!, [...(map.get(m[1]!) ?? []), m[2]!]);
  }
  return map;
}

const HARDENING: Record<string, string> = {
  NoNewPrivileges: 'yes',
  ProtectSystem: 'strict',
  ProtectHome: 'yes',
  PrivateTmp: 'yes',
  PrivateDevices: 'yes',
  ProtectKernelTunables: 'yes',
  ProtectKernelModules: 'yes',
  ProtectControlGroups: 'yes',
  RestrictNamespaces: 'yes',
  LockPersonality: 'yes',
  CapabilityBoundingSet: '',
  SystemCallArchitectures: 'native',
  SystemCallFilter: '@system-service',
  UMask: '0077',
};

describe('examples/systemd', () => {
  it('has the collector, the worker, the backup and its timer', () => {
    expect(UNITS.sort()).toEqual(['pruuv-backup.service', 'pruuv-backup.timer', 'pruuv-worker.service', 'pruuv.service']);
  });

  for (const { unit, exec } of [
    { unit: 'pruuv.service', exec: '/usr/bin/pruuv serve --json' },
    { unit: 'pruuv-worker.service', exec: '/usr/bin/pruuv worker --json --health-port 8788' },
  ]) {
    it(`${unit} runs \`${exec.slice(15)}\` as pruuv, restarts on failure, with every hardening option`, () => {
      const d = directives(unit);
      expect(d.get('ExecStart')).toEqual([exec]);
      expect(d.get('User')).toEqual(['pruuv']);
      expect(d.get('EnvironmentFile')).toEqual(['/etc/pruuv/pruuv.env']);
      expect(d.get('WorkingDirectory')).toEqual(['/var/lib/pruuv']);
      expect(d.get('Restart')).toEqual(['on-failure']);
      expect(d.get('KillSignal')).toEqual(['SIGTERM']);
      for (const [key, value] of Object.entries(HARDENING)) expect(d.get(key), key).toEqual([value]);
      // V8's JIT needs W+X memory: this option would crash Node at start.
      expect(d.has('MemoryDenyWriteExecute')).toBe(false);
    });
  }

  it('the backup runs pruuv db backup into a new dated file with the same hardening', () => {
    const d = directives('pruuv-backup.service');
    expect(d.get('ExecStart')?.[0]).toContain('/usr/bin/pruuv db backup "/var/backups/pruuv/pruuv-$(date -u');
    for (const key of ['NoNewPrivileges', 'ProtectSystem', 'PrivateTmp', 'ProtectHome']) expect(d.get(key), key).toEqual([HARDENING[key]]);
    expect(directives('pruuv-backup.timer').get('Persistent')).toEqual(['true']);
  });

  // Where systemd-analyze is missing, this is reported as skipped: the units were not verified there.
  it.skipIf(!HAS_SYSTEMD_ANALYZE)('every unit passes systemd-analyze verify (skipped where systemd-analyze is not installed)', () => {
    // verify checks that ExecStart's program exists: point it at this checkout's bin.
    const dir = mkdtempSync(join(tmpdir(), 'pruuv-units-'));
    try {
      for (const unit of UNITS) writeFileSync(join(dir, unit), readFileSync(join(DIR, unit), 'utf8').replaceAll('/usr/bin/pruuv', BIN));
      const result = spawnSync('systemd-analyze', ['verify', ...UNITS.map((u) => join(dir, u))], { encoding: 'utf8' });
      expect(result.stderr + result.stdout).toBe('');
      expect(result.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
