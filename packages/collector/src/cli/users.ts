/**
 * `pruuv users add|list|reset-password|remove`: dashboard accounts. A password
 * is never an argument (argv is visible to other users and kept in shell
 * history): it is asked on the terminal, twice, without echo, or read from
 * stdin with `--password-stdin` (scripts: `printf %s "$PW" | pruuv users add …`).
 */
import { createUser, removeUser, resetPassword } from '../domain/users.js';
import type { Store, User } from '../store/types.js';
import { CliError, EXIT_USAGE } from './errors.js';
import { emit, table, type CliOutput } from './output.js';

/** Where a command gets a password from. */
export interface PasswordSource {
  /** Reads all of stdin (`--password-stdin`). */
  readStdin(): Promise<string>;
  /** Asks on the terminal without echo; `undefined` when there is no terminal. */
  ask?: (prompt: string) => Promise<string>;
}

/** The password from stdin (one trailing newline dropped) or asked twice on the terminal. */
export async function readNewPassword(source: PasswordSource, fromStdin: boolean): Promise<string> {
  if (fromStdin) {
    const text = await source.readStdin();
    return text.replace(/\r?\n$/, '');
  }
  if (source.ask === undefined) {
    throw new CliError('No terminal to ask the password on: pipe it with --password-stdin', EXIT_USAGE);
  }
  const first = await source.ask('Password (12 characters or more): ');
  const second = await source.ask('Again: ');
  if (first !== second) throw new CliError('The two passwords differ; nothing was changed', EXIT_USAGE);
  return first;
}

/** `pruuv users add --email E --role R [--client ID]`. JSON: `{ user }`. */
export async function usersAdd(
  store: Store,
  options: { email: string; role: string; client?: string; passwordStdin?: boolean },
  passwords: PasswordSource,
  output: CliOutput,
  now: Date = new Date(),
): Promise<User> {
  const password = await readNewPassword(passwords, options.passwordStdin === true);
  const user = await createUser(store, { email: options.email, role: options.role, ...(options.client !== undefined ? { client_id: options.client } : {}) }, password, now);
  emit(output, { user }, () =>
    [`User created: ${user.email} (${user.role}${user.client_id !== undefined ? ` of ${user.client_id}` : ''})`, '  Sign in at /dashboard.'].join('\n'),
  );
  return user;
}

/** `pruuv users list`. JSON: `{ users }` (never a hash). */
export async function usersList(store: Store, output: CliOutput): Promise<User[]> {
  const users = await store.users.list();
  emit(output, { users }, () =>
    users.length === 0
      ? 'No users yet. Add one with `pruuv users add --email you@agency.example --role admin`.'
      : table(
          ['EMAIL', 'ROLE', 'CLIENT', 'PASSWORD CHANGED', 'CREATED'],
          users.map((u) => [u.email, u.role, u.client_id ?? '', u.password_changed_at, u.created_at]),
        ),
  );
  return users;
}

/** `pruuv users reset-password --email E`: a new password, every session of the user ends. JSON: `{ user }`. */
export async function usersResetPassword(
  store: Store,
  options: { email: string; passwordStdin?: boolean },
  passwords: PasswordSource,
  output: CliOutput,
  now: Date = new Date(),
): Promise<User> {
  const password = await readNewPassword(passwords, options.passwordStdin === true);
  const user = await resetPassword(store, options.email, password, now);
  emit(output, { user }, () => `Password changed for ${user.email}; every session of this user has ended.`);
  return user;
}

/** `pruuv users remove --email E`. JSON: `{ user }`. */
export async function usersRemove(store: Store, options: { email: string }, output: CliOutput): Promise<User> {
  const user = await removeUser(store, options.email);
  emit(output, { user }, () => `User removed: ${user.email}`);
  return user;
}
