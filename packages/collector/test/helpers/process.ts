/**
 * `pruuv` commands as real child processes (the built bin), their JSON log
 * lines kept so a test can wait for one; used by the scale-out test and the
 * soak suite's crash tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/pruuv.js', import.meta.url));

/** A `pruuv` child process whose JSON log lines are kept. */
export interface Proc {
  name: string;
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  exited: Promise<void>;
  /** What it wrote to stderr so far. */
  stderr(): string;
  /** Resolves with the first log line `match` accepts. */
  waitFor(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** Options of {@link startProc}. */
export interface ProcOptions {
  /** Go to Node before the bin (`--import`, `--expose-gc`). */
  nodeArgs?: string[];
  /** Opens an IPC channel (`process.send` in the child). */
  ipc?: boolean;
  /** A command that runs Node in turn (`unshare … sh -c '…; exec "$@"' …`): Node and its arguments follow it. */
  wrap?: string[];
}

/** Starts `pruuv ARGS --json` with exactly `env` (nothing of this process's environment leaks in). */
export function startProc(name: string, args: string[], env: NodeJS.ProcessEnv, options: ProcOptions = {}): Proc {
  const [command = process.execPath, ...before] = [...(options.wrap ?? []), process.execPath];
  const child = spawn(command, [...before, ...(options.nodeArgs ?? []), BIN, ...args, '--json'], {
    env,
    stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  let buffer = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a log line
      }
      for (const w of waiters) w();
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name,
    child,
    lines,
    exited,
    stderr: () => stderr,
    waitFor(match, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const hit = lines.find(match);
          if (hit === undefined) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(hit);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${name}: no matching log line within ${timeoutMs} ms; stderr: ${stderr.slice(-500)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

/** SIGKILL, and wait until it is gone. */
export async function kill(proc: Proc): Promise<void> {
  proc.child.kill('SIGKILL');
  await proc.exited;
}

/** SIGTERM (a graceful stop), SIGKILL after 15 s. */
export async function stop(proc: Proc): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGTERM');
  await Promise.race([proc.exited, new Promise((r) => setTimeout(r, 15_000))]);
  if (proc.child.exitCode === null && proc.child.signalCode === null) await kill(proc);
}
