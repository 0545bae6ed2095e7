/**
 * The systemd units in `examples/systemd/`: each runs the command it says with
 * the hardening options. `systemd-analyze verify` is not part of `npm test` (a
 * machine with Node alone has no systemd): `npm run verify:systemd -w
 * @pruuv/collector` runs it, and fails where the tool is missing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DIR = fileURLToPath(new URL('../../../examples/systemd/', import.meta.url));
const UNITS = readdirSync(DIR).filter((f) => f.endsWith('.service') || f.endsWith('.timer'));

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

});
