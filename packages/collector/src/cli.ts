#!/usr/bin/env node
/**
 * The `pruuv` bin. Arguments are parsed in `cli/program.ts` (importable without side effects,
 * so commands are tested in-process); this file only wires it to the process.
 */
import { read } from 'read';
import { runCli } from './cli/program.js';
import type { PasswordSource } from './cli/users.js';

const passwords: PasswordSource = {
  async readStdin() {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
    return Buffer.concat(chunks).toString('utf8');
  },
  // Asked on the terminal only; the prompt goes to stderr so `--json` keeps stdout clean.
  ...(process.stdin.isTTY ? { ask: (prompt: string) => read({ prompt, silent: true, replace: '', input: process.stdin, output: process.stderr }) } : {}),
};

const code = await runCli(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr, passwords });
// Not `process.exit()`: `serve` keeps running, and pending stdout writes must flush.
if (code !== 0) process.exitCode = code;
