/**
 * Dashboard accounts, as operators manage them (`pruuv users …` and the
 * dashboard's Users page): validated here once, stored through the Store.
 * Passwords arrive in clear and leave this module as scrypt hashes only.
 */
import { z } from 'zod';
import { hashPassword, passwordProblem } from './passwords.js';
import type { Store, User, UserRole } from '../store/types.js';
import { OperationError, requireClient } from './operations.js';

/** Lower-cased, trimmed: the form emails are stored in. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** The roles, in the order pages list them. */
export const USER_ROLES: readonly UserRole[] = ['admin', 'staff', 'client'];

const emailSchema = z
  .string()
  .transform(normalizeEmail)
  .pipe(z.email({ message: 'Not an email address' }).max(254, { message: 'At most 254 characters' }));

const newUserSchema = z
  .object({
    email: emailSchema,
    role: z.enum(['admin', 'staff', 'client'], { message: 'The role is admin, staff or client' }),
    client_id: z.string().min(1).optional(),
  })
  .strict()
  .refine((u) => (u.role === 'client') === (u.client_id !== undefined), {
    message: 'A client user needs --client (the one client it sees); admin and staff users take none',
    path: ['client_id'],
  });

function checkPassword(password: string): void {
  const problem = passwordProblem(password);
  if (problem !== undefined) throw new OperationError('invalid', problem, { details: { password: [problem] } });
}

/** Creates a dashboard account. */
export async function createUser(store: Store, input: { email: string; role: string; client_id?: string }, password: string, now: Date): Promise<User> {
  const parsed = newUserSchema.safeParse(input);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new OperationError('invalid', first?.message ?? 'Invalid user');
  }
  checkPassword(password);
  const { email, role, client_id: clientId } = parsed.data;
  if (clientId !== undefined) await requireClient(store, clientId);
  if ((await store.users.byEmail(email)) !== undefined) throw new OperationError('conflict', `A user with the email ${email} already exists`);
  const passwordHash = await hashPassword(password);
  return store.users.create({ email, role, password_hash: passwordHash, ...(clientId !== undefined ? { client_id: clientId } : {}) }, now);
}

/** The account of an email, or a `not_found` error. */
export async function requireUser(store: Store, email: string): Promise<User> {
  const user = await store.users.byEmail(normalizeEmail(email));
  if (user === undefined) throw new OperationError('not_found', `No user with the email ${normalizeEmail(email)}`);
  const { password_hash: _hash, ...rest } = user;
  return rest;
}

/** Sets a new password; every session of the account ends. */
export async function resetPassword(store: Store, email: string, password: string, now: Date): Promise<User> {
  const user = await requireUser(store, email);
  checkPassword(password);
  await store.users.setPassword(user.id, await hashPassword(password), now);
  return user;
}

/** Removes an account and its sessions. Refuses to remove the last admin. */
export async function removeUser(store: Store, email: string): Promise<User> {
  const user = await requireUser(store, email);
  if (user.role === 'admin' && (await store.users.list()).filter((u) => u.role === 'admin').length === 1) {
    throw new OperationError('conflict', `${user.email} is the last admin: add another admin first`);
  }
  await store.users.remove(user.id);
  return user;
}
