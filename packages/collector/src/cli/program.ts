import { readFileSync } from 'node:fs';
import { platformAdapter, type Platform } from '@pruuv/sender';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { OperationError } from '../domain/operations.js';
import { InvalidInputError, SchemaTooNewError } from '../errors.js';
import { EncryptionKeyError } from '../send/secrets.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';
import { clientsAdd, clientsList, clientsSet } from './clients.js';
import { CONNECTION_PLATFORMS, flagOf } from '../domain/connections.js';
import { connectionFlags, connectionsList, connectionsSet, secretFields, type ConnectionsSetOptions } from './connections.js';
import { CliError, EXIT_FAILURE, EXIT_USAGE, toCliError } from './errors.js';
import { eventsHeld, eventsList, eventsRelease } from './events.js';
import { keysRotate } from './keys.js';
import { streamOutput, terminalSafe, type CliOutput } from './output.js';
import { send } from './send.js';
import { sendsGoogleStatus, sendsList } from './sends.js';
import { DEFAULT_PRUNE_BATCH, DEFAULT_RETENTION_DAYS, MAX_RETENTION_DAYS, MIN_RETENTION_DAYS } from '../domain/retention.js';
import { dbBackup, dbCopy, dbPrune, dbRestore, dbStats, dbVacuum } from './db.js';
import { serve, worker } from './serve.js';
import { stagesAdd, stagesList, stagesRotateToken, stagesSetEvents } from './stages.js';
import { usersAdd, usersList, usersRemove, usersResetPassword, type PasswordSource } from './users.js';

/** What the CLI reads and writes; the bin passes the process's own. */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  /** Where passwords come from (`pruuv users`). Defaults to none: those commands fail with a message. */
  passwords?: PasswordSource;
}

/** Global options, accepted before or after the command. */
interface GlobalOptions {
  db?: string;
  databaseUrl?: string;
  json?: boolean;
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** A platform's name for people (`Meta`, `Google`, `TikTok`). */
function platformName(id: Platform): string {
  return platformAdapter(id).name;
}

/** Whether a database URL carries a password. */
function hasPassword(url: string): boolean {
  try {
    return new URL(url).password !== '';
  } catch {
    return false;
  }
}

/** The URL with `PGPASSWORD` as its password when it has none (node-postgres reads the URL's). */
function withPgPassword(url: string, env: NodeJS.ProcessEnv): string {
  const password = env['PGPASSWORD'];
  if (password === undefined || password === '' || hasPassword(url)) return url;
  try {
    const u = new URL(url);
    u.password = password;
    return u.toString();
  } catch {
    return url;
  }
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function parsePort(value: string): string {
  if (!/^\d{1,5}$/.test(value) || Number(value) < 1 || Number(value) > 65535) {
    throw new InvalidArgumentError('expected an integer from 1 to 65535.');
  }
  return value;
}

/** What every command definition needs: the I/O, configuration and a store opened per command. */
interface Cli {
  io: CliIo;
  /** Configuration with `--db`, `--database-url` (and `--port` for serve) applied over the environment. */
  configFor(cmd: Command, overrides?: { port?: string }): Config;
  outputFor(cmd: Command): CliOutput;
  /** Opens the store for one command and always closes it once `run` settles. */
  withStore<T>(cmd: Command, run: (store: Store, config: Config) => T | Promise<T>): Promise<T>;
  /** Set by a command that completed but must report failure (`send` with unreadable connections). */
  exitCode: number;
}

const PASSWORD_IN_ARGV = 'holds a password, which other users can read in the process list and your shell history';

function createCli(io: CliIo): Cli {
  const configFor = (cmd: Command, overrides: { port?: string } = {}): Config => {
    const globals = cmd.optsWithGlobals<GlobalOptions>();
    const env: NodeJS.ProcessEnv = { ...io.env };
    if (globals.db !== undefined) env.PRUUV_DB = globals.db;
    if (globals.databaseUrl !== undefined) {
      env.PRUUV_DATABASE_URL = globals.databaseUrl;
      if (hasPassword(globals.databaseUrl)) {
        io.stderr.write(`warning: --database-url ${PASSWORD_IN_ARGV}; set PRUUV_DATABASE_URL (or PGPASSWORD) instead\n`);
      }
    }
    if (overrides.port !== undefined) env.PORT = overrides.port;
    return loadConfig(env);
  };
  return {
    io,
    configFor,
    outputFor: (cmd) => streamOutput(cmd.optsWithGlobals<GlobalOptions>().json === true, io.stdout),
    async withStore(cmd, run) {
      const config = configFor(cmd);
      const store = await openStore(config, { poolSize: config.poolSize });
      try {
        return await run(store, config);
      } finally {
        await store.close();
      }
    },
    exitCode: 0,
  };
}

function baseUrlOf(config: Config, url: string | undefined): string {
  return url ?? config.publicUrl ?? `http://localhost:${config.port}`;
}

/**
 * Runs the `pruuv` CLI with `argv` (without `node` and the script) and returns the exit code:
 * `0` success, `1` failure (message on stderr), `2` usage error. `serve` resolves once the
 * server listens; the process then lives until SIGINT/SIGTERM.
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const cli = createCli(io);
  const program = new Command('pruuv');
  program
    .name('pruuv')
    .description('Self-hosted Pruuv collector: run the server, manage clients, stages and ad-platform connections, send conversions and read the audit log.')
    .version(version(), '-v, --version')
    .option('--db <path>', 'SQLite database file (env PRUUV_DB, default ./data/pruuv.db)')
    .option('--database-url <url>', 'PostgreSQL instead of SQLite (env PRUUV_DATABASE_URL; prefer the variable: a password on the command line is visible to other users)')
    .option('--json', 'print one JSON document on stdout and nothing else')
    .configureHelp({ showGlobalOptions: true })
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => void io.stdout.write(text),
      writeErr: (text) => void io.stderr.write(terminalSafe(text)),
    });

  defineProcessCommands(program, cli);
  defineClientCommands(program, cli);
  defineStageCommands(program, cli);
  defineEventCommands(program, cli);
  defineConnectionCommands(program, cli);
  defineSendCommands(program, cli);
  defineDatabaseCommands(program, cli);
  defineKeyCommands(program, cli);
  defineUserCommands(program, cli);

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    return exitCodeOf(error, io);
  }
  return cli.exitCode;
}

/** `serve` and `worker`: the long-running processes. */
function defineProcessCommands(program: Command, cli: Cli): void {
  program
    .command('serve')
    .description('run the collector HTTP server (and, unless --no-worker, the send schedule)')
    .addOption(new Option('--port <n>', 'TCP port (env PORT, default 8787)').argParser(parsePort))
    .option('--no-worker', 'HTTP only: leave sending to `pruuv worker` processes')
    .action(async (opts: { port?: string; worker: boolean }, cmd: Command) => {
      const overrides: { port?: string } = {};
      if (opts.port !== undefined) overrides.port = opts.port;
      const config = cli.configFor(cmd, overrides);
      await serve(config, { json: cmd.optsWithGlobals<GlobalOptions>().json === true, worker: opts.worker }, cli.outputFor(cmd));
    });

  program
    .command('worker')
    .description('run the send runtime alone (schedule, retries, Google diagnostics); HTTP only for health checks, with --health-port')
    .addOption(new Option('--health-port <n>', 'answer /healthz and /readyz on this port (default: no port)').argParser(parsePort))
    .action(async (opts: { healthPort?: string }, cmd: Command) => {
      await worker(cli.configFor(cmd), {
        json: cmd.optsWithGlobals<GlobalOptions>().json === true,
        ...(opts.healthPort !== undefined ? { healthPort: Number(opts.healthPort) } : {}),
      });
    });
}

function defineClientCommands(program: Command, cli: Cli): void {
  const clients = program.command('clients').description('manage clients (one per website)');
  clients
    .command('add')
    .description('create a client; prints its id and site key')
    .requiredOption('--name <name>', 'display name')
    .option('--origin <url>', 'page origin allowed to send pixel events (repeatable)', collect)
    .option('--default-country <code>', 'ISO country (e.g. GB) of webhook phone numbers written without + (default: none)')
    .action(async (opts: { name: string; origin?: string[]; defaultCountry?: string }, cmd: Command) => {
      await cli.withStore(cmd, (store, config) =>
        clientsAdd(
          store,
          {
            name: opts.name,
            origins: opts.origin ?? [],
            scriptUrl: `${baseUrlOf(config, undefined)}${config.scriptPath}`,
            ...(opts.defaultCountry === undefined ? {} : { defaultCountry: opts.defaultCountry }),
          },
          cli.outputFor(cmd),
        ),
      );
    });
  clients
    .command('set')
    .description("change a client's settings")
    .argument('<client-id>', 'client id')
    .option('--default-country <code>', 'ISO country (e.g. GB) of webhook phone numbers written without +')
    .option('--no-default-country', 'remove the default country')
    .action(async (clientId: string, opts: { defaultCountry?: string | false }, cmd: Command) => {
      await cli.withStore(cmd, (store) =>
        clientsSet(store, { clientId, ...(opts.defaultCountry === undefined ? {} : { defaultCountry: opts.defaultCountry }) }, cli.outputFor(cmd)),
      );
    });
  clients
    .command('list')
    .description('list clients')
    .action(async (_opts: unknown, cmd: Command) => {
      await cli.withStore(cmd, (store) => clientsList(store, {}, cli.outputFor(cmd)));
    });
}

function defineStageCommands(program: Command, cli: Cli): void {
  const stages = program.command('stages').description('manage funnel stages and their webhook tokens');
  stages
    .command('add')
    .description('add a stage to a client; prints its id, webhook URL and token (shown once)')
    .requiredOption('--client <id>', 'client id')
    .requiredOption('--key <key>', 'stage key the pixel sends (e.g. lead)')
    .requiredOption('--name <name>', 'display name')
    .option('--url <base>', 'public base URL for the printed webhook URL (env PRUUV_PUBLIC_URL, default http://localhost:PORT)')
    .action(async (opts: { client: string; key: string; name: string; url?: string }, cmd: Command) => {
      await cli.withStore(cmd, (store, config) =>
        stagesAdd(store, { client: opts.client, key: opts.key, name: opts.name, baseUrl: baseUrlOf(config, opts.url) }, cli.outputFor(cmd)),
      );
    });
  stages
    .command('rotate-token')
    .description('replace a stage webhook token; the old one stops working')
    .argument('<stage-id>', 'stage id')
    .option('--url <base>', 'public base URL for the printed webhook URL')
    .action(async (stageId: string, opts: { url?: string }, cmd: Command) => {
      await cli.withStore(cmd, (store, config) => stagesRotateToken(store, { stageId, baseUrl: baseUrlOf(config, opts.url) }, cli.outputFor(cmd)));
    });
  stages
    .command('list')
    .description('list stages (never their tokens)')
    .option('--client <id>', 'only this client')
    .action(async (opts: { client?: string }, cmd: Command) => {
      await cli.withStore(cmd, (store) => stagesList(store, opts.client !== undefined ? { client: opts.client } : {}, cli.outputFor(cmd)));
    });
  stages
    .command('set-events')
    .description('set the event names a stage is sent under (Meta, TikTok) and its Google conversion action')
    .argument('<stage-id>', 'stage id')
    .option('--meta <name>', 'Meta event_name, e.g. Lead, Purchase, or a custom name (at most 50 characters)')
    .option('--tiktok <name>', 'TikTok event, e.g. Lead, Purchase')
    .option('--google-action <id>', 'Google conversion action id (digits) for this stage instead of the connection\'s')
    .option('--clear', 'remove every override first: back to the names derived from the stage key')
    .action(async (stageId: string, opts: { meta?: string; tiktok?: string; googleAction?: string; clear?: boolean }, cmd: Command) => {
      await cli.withStore(cmd, (store) => stagesSetEvents(store, { stageId, ...opts }, cli.outputFor(cmd)));
    });
}

function defineEventCommands(program: Command, cli: Cli): void {
  const events = program.command('events').description('inspect stored events');
  events
    .command('list')
    .description('list the newest events')
    .option('--client <id>', 'only this client')
    .option('--stage <id>', 'only this stage')
    .option('--held', 'only held events (beacons without a browser\'s signals) not yet released')
    .option('--limit <n>', 'how many, 1 to 1000 (default 50)')
    .action(async (opts: { client?: string; stage?: string; held?: boolean; limit?: string }, cmd: Command) => {
      await cli.withStore(cmd, (store) => eventsList(store, opts, cli.outputFor(cmd)));
    });
  events
    .command('held')
    .description('per site: held events waiting for a release, and beacons throttled (429)')
    .option('--hours <n>', 'hours of throttle counts, 1 to 2160 (default 24)')
    .action(async (opts: { hours?: string }, cmd: Command) => {
      await cli.withStore(cmd, (store) => eventsHeld(store, opts, cli.outputFor(cmd)));
    });
  events
    .command('release')
    .description('release held events: their conversions are sent by the next send pass')
    .option('--client <id>', 'every held event of this client')
    .option('--event <id>', 'this held event (repeatable)', collect)
    .action(async (opts: { client?: string; event?: string[] }, cmd: Command) => {
      await cli.withStore(cmd, (store) => eventsRelease(store, opts, cli.outputFor(cmd)));
    });
}

function defineConnectionCommands(program: Command, cli: Cli): void {
  const connections = program.command('connections').description('manage ad-platform connections (credentials are stored encrypted)');
  const setCommand = connections
    .command('set')
    .description(`add or update a client's connection to ${CONNECTION_PLATFORMS.map(platformName).join(', ')} (only the given fields change)`)
    .requiredOption('--client <id>', 'client id')
    .addOption(new Option('--platform <name>', 'ad platform').choices([...CONNECTION_PLATFORMS]).makeOptionMandatory());
  // One flag per connection field of every platform, from the adapters' definitions.
  for (const { field, platforms } of connectionFlags()) {
    const who = platforms.length === CONNECTION_PLATFORMS.length ? 'all' : platforms.map(platformName).join(' or ');
    const flag = flagOf(field.name);
    const text = `${who}: ${field.label}${field.kind === 'secret' ? ' (stored encrypted)' : ''}`;
    const option = new Option(field.type === 'boolean' ? flag : `${flag} <value>`, text);
    if (field.choices !== undefined) option.choices([...field.choices]);
    setCommand.addOption(option);
    if (!field.required && field.default === undefined) {
      setCommand.addOption(new Option(`--no-${flag.slice(2)}`, field.type === 'boolean' ? `turn ${flag} off` : `remove ${flag}`));
    }
  }
  // Secrets: the documented ways keep them off the command line.
  for (const field of secretFields()) {
    const flag = flagOf(field.name);
    setCommand.addOption(new Option(`${flag}-stdin`, `read ${flag}'s value from stdin`));
    setCommand.addOption(new Option(`${flag}-file <path>`, `read ${flag}'s value from a file`));
  }
  setCommand.option('--ask', "ask each of the platform's secrets on the terminal, without echo");
  setCommand.action(async (opts: ConnectionsSetOptions, cmd: Command) => {
    const warn = (line: string): void => void cli.io.stderr.write(`${line}\n`);
    await cli.withStore(cmd, (store, config) => connectionsSet(store, config, opts, cli.outputFor(cmd), cli.io.passwords, warn));
  });
  connections
    .command('list')
    .description('list connections and their status (never their secrets)')
    .option('--client <id>', 'only this client')
    .action(async (opts: { client?: string }, cmd: Command) => {
      await cli.withStore(cmd, (store) => connectionsList(store, opts, cli.outputFor(cmd)));
    });
}

/** `send` and the audit log. */
function defineSendCommands(program: Command, cli: Cli): void {
  program
    .command('send')
    .description('run a send pass now: every due conversion goes to its platforms; prints a summary')
    .action(async (_opts: unknown, cmd: Command) => {
      const report = await cli.withStore(cmd, (store, config) => send(store, config, {}, cli.outputFor(cmd)));
      // Unreadable connections are a configuration problem: fail so a cron job notices.
      if (report.errors.length > 0) cli.exitCode = EXIT_FAILURE;
    });

  const sends = program.command('sends').description('inspect the conversion audit log');
  sends
    .command('list')
    .description('list send attempts, newest first')
    .addOption(new Option('--status <status>', 'only this status').choices(['sent', 'failed', 'skipped', 'retrying', 'dead']))
    .addOption(new Option('--platform <name>', 'only this platform').choices([...CONNECTION_PLATFORMS]))
    .option('--client <id>', 'only this client')
    .option('--event <id>', 'only this event')
    .option('--limit <n>', 'how many, 1 to 1000 (default 50)')
    .action(async (opts: { status?: string; platform?: string; client?: string; event?: string; limit?: string }, cmd: Command) => {
      await cli.withStore(cmd, (store) => sendsList(store, opts, cli.outputFor(cmd)));
    });
  sends
    .command('google-status')
    .description("Google Data Manager requests and what Google's diagnostics say of them, newest first")
    .addOption(
      new Option('--status <status>', 'only this status').choices(['PENDING', 'SUCCESS', 'PARTIAL_SUCCESS', 'FAILED', 'REQUEST_STATUS_UNKNOWN', 'UNAVAILABLE', 'GAVE_UP']),
    )
    .option('--client <id>', 'only this client')
    .option('--limit <n>', 'how many, 1 to 1000 (default 50)')
    .action(async (opts: { status?: string; client?: string; limit?: string }, cmd: Command) => {
      await cli.withStore(cmd, (store) => sendsGoogleStatus(store, opts, cli.outputFor(cmd)));
    });
}

function defineDatabaseCommands(program: Command, cli: Cli): void {
  const database = program.command('db').description('database operations');
  database
    .command('copy')
    .description('copy the SQLite database (--db) into an empty PostgreSQL database, then check every table\'s row count')
    .requiredOption('--to <url>', 'the PostgreSQL database (postgres://user@host:5432/db; put the password in PGPASSWORD)')
    .action(async (opts: { to: string }, cmd: Command) => {
      if (hasPassword(opts.to)) cli.io.stderr.write(`warning: --to ${PASSWORD_IN_ARGV}; put it in PGPASSWORD instead\n`);
      const config = cli.configFor(cmd);
      const progress = (line: string): void => void cli.io.stderr.write(`${line}\n`);
      await dbCopy({ from: config.dbFile, to: withPgPassword(opts.to, cli.io.env), progress }, cli.outputFor(cmd));
    });
  const target = (config: { dbFile: string; databaseUrl?: string }) => ({
    dbFile: config.dbFile,
    ...(config.databaseUrl !== undefined ? { databaseUrl: config.databaseUrl } : {}),
  });
  database
    .command('backup')
    .description('copy the SQLite database (--db) into the new FILE while the collector runs, then verify the copy')
    .argument('<file>', 'the backup file to create (never overwritten)')
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      await dbBackup(target(cli.configFor(cmd)), file, cli.outputFor(cmd));
    });
  database
    .command('restore')
    .description('replace the SQLite database (--db) with a backup FILE; refused while a process has the database open')
    .argument('<file>', 'a file made by pruuv db backup')
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      await dbRestore(target(cli.configFor(cmd)), file, cli.outputFor(cmd));
    });
  database
    .command('prune')
    .description('remove events past the retention now, with their outbox rows and audit records (what the worker does daily)')
    .option('--days <n>', `keep this many days, ${MIN_RETENTION_DAYS} to ${MAX_RETENTION_DAYS} (default PRUUV_RETENTION_DAYS, else ${DEFAULT_RETENTION_DAYS})`)
    .option('--dry-run', 'count what would be removed, remove nothing')
    .option('--batch <n>', `events per transaction, 1 to 10000 (default ${DEFAULT_PRUNE_BATCH})`)
    .action(async (opts: { days?: string; dryRun?: boolean; batch?: string }, cmd: Command) => {
      const days = opts.days === undefined ? undefined : wholeNumber('--days', opts.days, MIN_RETENTION_DAYS, MAX_RETENTION_DAYS);
      const batch = opts.batch === undefined ? undefined : wholeNumber('--batch', opts.batch, 1, 10_000);
      await cli.withStore(cmd, (store, config) =>
        dbPrune(store, { days: days ?? config.retentionDays, dryRun: opts.dryRun === true, ...(batch !== undefined ? { batch } : {}) }, cli.outputFor(cmd)),
      );
    });
  database
    .command('stats')
    .description('rows and bytes (indexes included) per table')
    .action(async (_opts: unknown, cmd: Command) => {
      await cli.withStore(cmd, (store) => dbStats(store, cli.outputFor(cmd)));
    });
  database
    .command('vacuum')
    .description('rewrite the SQLite file (--db) so retention sweeps give space back; writers wait meanwhile')
    .action(async (_opts: unknown, cmd: Command) => {
      await dbVacuum(target(cli.configFor(cmd)), cli.outputFor(cmd));
    });
}

/** A whole number option from `min` to `max`, else a usage error naming it. */
function wholeNumber(name: string, raw: string, min: number, max: number): number {
  const n = /^\d{1,9}$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!(n >= min && n <= max)) throw new CliError(`${name} must be an integer from ${min} to ${max}, got '${raw}'`, EXIT_USAGE);
  return n;
}

function defineKeyCommands(program: Command, cli: Cli): void {
  const keys = program.command('keys').description('manage the encryption keys of stored credentials');
  keys
    .command('rotate')
    .description('re-encrypt every stored secret with the first key of PRUUV_ENCRYPTION_KEY')
    .action(async (_opts: unknown, cmd: Command) => {
      await cli.withStore(cmd, (store, config) => keysRotate(store, config, cli.outputFor(cmd)));
    });
}

function defineUserCommands(program: Command, cli: Cli): void {
  const noPasswords: PasswordSource = {
    readStdin: () => Promise.reject(new CliError('No stdin to read the password from', EXIT_FAILURE)),
  };
  const passwords = (): PasswordSource => cli.io.passwords ?? noPasswords;
  const users = program.command('users').description('manage dashboard accounts (passwords are asked, never arguments)');
  users
    .command('add')
    .description('create an account; the password is asked twice, or read from stdin with --password-stdin')
    .requiredOption('--email <email>', 'sign-in email')
    .addOption(new Option('--role <role>', 'admin: everything; staff: every client, no users; client: one client, read-only').choices(['admin', 'staff', 'client']).makeOptionMandatory())
    .option('--client <id>', 'the one client a client user sees (required for --role client)')
    .option('--password-stdin', 'read the password from stdin instead of asking')
    .action(async (opts: { email: string; role: string; client?: string; passwordStdin?: boolean }, cmd: Command) => {
      await cli.withStore(cmd, (store) => usersAdd(store, opts, passwords(), cli.outputFor(cmd)));
    });
  users
    .command('list')
    .description('list accounts (never their password hashes)')
    .action(async (_opts: unknown, cmd: Command) => {
      await cli.withStore(cmd, (store) => usersList(store, cli.outputFor(cmd)));
    });
  users
    .command('reset-password')
    .description("set a new password; every session of the account ends")
    .requiredOption('--email <email>', 'the account')
    .option('--password-stdin', 'read the password from stdin instead of asking')
    .action(async (opts: { email: string; passwordStdin?: boolean }, cmd: Command) => {
      await cli.withStore(cmd, (store) => usersResetPassword(store, opts, passwords(), cli.outputFor(cmd)));
    });
  users
    .command('remove')
    .description('remove an account and end its sessions (never the last admin)')
    .requiredOption('--email <email>', 'the account')
    .action(async (opts: { email: string }, cmd: Command) => {
      await cli.withStore(cmd, (store) => usersRemove(store, opts, cli.outputFor(cmd)));
    });
}

/** The exit code for an error a command threw, with its one-line message on stderr. */
function exitCodeOf(error: unknown, io: CliIo): number {
  const fail = (message: string, code: number): number => {
    io.stderr.write(`error: ${terminalSafe(message.split('\n').join(' '), true)}\n`);
    return code;
  };
  if (error instanceof CommanderError) {
    // Commander already printed its one-line message (or the help).
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
    return EXIT_USAGE;
  }
  if (error instanceof OperationError) {
    const cliError = toCliError(error);
    return fail(cliError.message, cliError.exitCode);
  }
  if (error instanceof CliError) return fail(error.message, error.exitCode);
  // The store's own validation (a backstop: operations.ts validates first).
  if (error instanceof InvalidInputError) return fail(error.message, EXIT_USAGE);
  if (error instanceof ConfigError) return fail(error.issues.join('; '), EXIT_FAILURE);
  if (error instanceof EncryptionKeyError || error instanceof SchemaTooNewError) return fail(error.message, EXIT_FAILURE);
  return fail(error instanceof Error ? error.message : String(error), EXIT_FAILURE);
}
