#!/usr/bin/env node
/**
 * The `pruuv` bin. Arguments are parsed in `cli/program.ts` (importable without side effects,
 * so commands are tested in-process); this file only wires it to the process.
 */
import { runCli } from './cli/program.js';

const code = await runCli(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr });
// Not `process.exit()`: `serve` keeps running, and pending stdout writes must flush.
if (code !== 0) process.exitCode = code;
