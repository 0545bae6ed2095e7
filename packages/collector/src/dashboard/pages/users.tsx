/**
 * Users (admin): the accounts, add one, set a password, end a user's sessions,
 * remove one (never the last admin). Account (everyone): change one's own
 * password, sign out everywhere.
 */
import type { Request, Response, Router } from 'express';
import { OperationError } from '../../domain/operations.js';
import { verifyPassword } from '../../domain/passwords.js';
import { createUser, removeUser, resetPassword, USER_ROLES } from '../../domain/users.js';
import type { Client, User } from '../../store/types.js';
import { render } from '../http.js';
import { pageContext, type DashboardDeps } from '../index.js';
import { requireAdmin } from '../scope.js';
import { Csrf, Notice, Page, type PageContext } from '../views/layout.js';

interface UsersView {
  ctx: PageContext;
  users: User[];
  clients: Client[];
  notice?: { kind: 'ok' | 'bad'; text: string };
  /** What was typed in the add form, kept after an error (never the password). */
  draft?: { email?: string; role?: string; client_id?: string };
}

function UsersPage({ ctx, users, clients, notice, draft }: UsersView) {
  const names = new Map(clients.map((c) => [c.id, c.name]));
  return (
    <Page ctx={ctx} title="Users">
      {notice !== undefined && <Notice kind={notice.kind}>{notice.text}</Notice>}
      <div class="table-wrap">
        <table>
          <caption class="hint">Accounts that can sign in to this dashboard</caption>
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Client</th>
              <th scope="col">Password changed</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id}>
                <td>{u.email}</td>
                <td>{u.role}</td>
                <td>{u.client_id !== undefined ? (names.get(u.client_id) ?? u.client_id) : 'all'}</td>
                <td>
                  <time datetime={u.password_changed_at}>{u.password_changed_at.slice(0, 16).replace('T', ' ')}</time>
                </td>
                <td>
                  <form class="inline" method="post" action="/dashboard/users/password">
                    <Csrf token={ctx.csrf} />
                    <input type="hidden" name="email" value={u.email} />
                    <label class="check">
                      <span class="hint">New password for {u.email}</span>
                      <input type="password" name="password" autocomplete="new-password" minLength={12} required />
                    </label>
                    <button type="submit" class="secondary">
                      Set password
                    </button>
                  </form>{' '}
                  <form class="inline" method="post" action="/dashboard/users/sign-out" data-confirm={`End every session of ${u.email}?`}>
                    <Csrf token={ctx.csrf} />
                    <input type="hidden" name="email" value={u.email} />
                    <button type="submit" class="secondary">
                      Sign out everywhere
                    </button>
                  </form>{' '}
                  {u.id !== ctx.user.id && (
                    <form class="inline" method="post" action="/dashboard/users/remove" data-confirm={`Remove ${u.email}?`}>
                      <Csrf token={ctx.csrf} />
                      <input type="hidden" name="email" value={u.email} />
                      <button type="submit" class="danger">
                        Remove
                      </button>
                    </form>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Add a user</h2>
      <form method="post" action="/dashboard/users" class="stack">
        <Csrf token={ctx.csrf} />
        <label>
          Email
          <input type="email" name="email" required autocomplete="off" value={draft?.email ?? ''} />
        </label>
        <label>
          Role
          <select name="role" required>
            {USER_ROLES.map((role) => (
              <option key={role} value={role} selected={(draft?.role ?? 'staff') === role}>
                {role === 'admin' ? 'admin: everything, including users' : role === 'staff' ? 'staff: every client, no users' : 'client: one client, read-only'}
              </option>
            ))}
          </select>
        </label>
        <label>
          Client <span class="hint">(for a client user only)</span>
          <select name="client_id">
            <option value="">none</option>
            {clients.map((c) => (
              <option key={c.id} value={c.id} selected={draft?.client_id === c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Password <span class="hint">(12 characters or more; tell it to the user through a channel you trust)</span>
          <input type="password" name="password" autocomplete="new-password" minLength={12} required />
        </label>
        <button type="submit">Add user</button>
      </form>
    </Page>
  );
}

function AccountPage({ ctx, notice }: { ctx: PageContext; notice?: { kind: 'ok' | 'bad'; text: string } }) {
  return (
    <Page ctx={ctx} title="Your account">
      {notice !== undefined && <Notice kind={notice.kind}>{notice.text}</Notice>}
      <dl class="facts">
        <dt>Email</dt>
        <dd>{ctx.user.email}</dd>
        <dt>Role</dt>
        <dd>{ctx.user.role}</dd>
      </dl>
      <h2>Change your password</h2>
      <form method="post" action="/dashboard/account/password" class="stack">
        <Csrf token={ctx.csrf} />
        <label>
          Current password
          <input type="password" name="current" autocomplete="current-password" required />
        </label>
        <label>
          New password <span class="hint">(12 characters or more)</span>
          <input type="password" name="password" autocomplete="new-password" minLength={12} required />
        </label>
        <button type="submit">Change password</button>
      </form>
      <p class="hint">Changing your password signs you out everywhere, this browser included.</p>
      <h2>Sessions</h2>
      <form method="post" action="/dashboard/sign-out-everywhere" data-confirm="Sign out on every device?">
        <Csrf token={ctx.csrf} />
        <button type="submit" class="secondary">
          Sign out everywhere
        </button>
      </form>
    </Page>
  );
}

const field = (req: Request, name: string): string => {
  const value = (req.body as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : '';
};

export function addUsers(router: Router, deps: DashboardDeps): void {
  const { store, now } = deps;
  const show = async (res: Response, status: number, notice?: UsersView['notice'], draft?: UsersView['draft']): Promise<void> => {
    const ctx = pageContext(res);
    requireAdmin(ctx.user);
    const view: UsersView = { ctx, users: await store.users.list(), clients: await store.clients.list() };
    if (notice !== undefined) view.notice = notice;
    if (draft !== undefined) view.draft = draft;
    render(res, UsersPage(view), status);
  };
  /** Runs an admin action; an operation error is shown on the page with its status. */
  const act = (run: (req: Request, res: Response) => Promise<string>) => async (req: Request, res: Response) => {
    requireAdmin(pageContext(res).user);
    try {
      await show(res, 200, { kind: 'ok', text: await run(req, res) });
    } catch (error) {
      if (!(error instanceof OperationError)) throw error;
      const status = error.kind === 'not_found' ? 404 : error.kind === 'conflict' ? 409 : 400;
      await show(res, status, { kind: 'bad', text: error.message }, { email: field(req, 'email'), role: field(req, 'role'), client_id: field(req, 'client_id') });
    }
  };

  router.get('/users', async (_req, res) => show(res, 200));
  router.post(
    '/users',
    act(async (req, res) => {
      const clientId = field(req, 'client_id');
      const user = await createUser(store, { email: field(req, 'email'), role: field(req, 'role'), ...(clientId !== '' ? { client_id: clientId } : {}) }, field(req, 'password'), now());
      deps.logger.info({ user_id: user.id, role: user.role, by: pageContext(res).user.id }, 'dashboard: user added');
      return `User added: ${user.email} (${user.role}).`;
    }),
  );
  router.post(
    '/users/password',
    act(async (req, res) => {
      const user = await resetPassword(store, field(req, 'email'), field(req, 'password'), now());
      deps.logger.info({ user_id: user.id, by: pageContext(res).user.id }, 'dashboard: password set by an admin');
      return `Password set for ${user.email}; every session of this user has ended.`;
    }),
  );
  router.post(
    '/users/sign-out',
    act(async (req) => {
      const email = field(req, 'email');
      const user = (await store.users.list()).find((u) => u.email === email);
      if (user === undefined) throw new OperationError('not_found', `No user with the email ${email}`);
      const ended = await store.sessions.removeForUser(user.id);
      return `${ended} session${ended === 1 ? '' : 's'} of ${user.email} ended.`;
    }),
  );
  router.post(
    '/users/remove',
    act(async (req, res) => {
      if (field(req, 'email') === pageContext(res).user.email) throw new OperationError('conflict', 'You cannot remove yourself here: ask another admin.');
      const user = await removeUser(store, field(req, 'email'));
      deps.logger.info({ user_id: user.id, by: pageContext(res).user.id }, 'dashboard: user removed');
      return `User removed: ${user.email}.`;
    }),
  );

  router.get('/account', (_req, res) => render(res, AccountPage({ ctx: pageContext(res) })));
  router.post('/account/password', async (req, res) => {
    const ctx = pageContext(res);
    const record = await store.users.get(ctx.user.id);
    if (record === undefined || !(await verifyPassword(field(req, 'current'), record.password_hash))) {
      return render(res, AccountPage({ ctx, notice: { kind: 'bad', text: 'The current password is wrong; nothing was changed.' } }), 400);
    }
    try {
      await resetPassword(store, ctx.user.email, field(req, 'password'), now());
    } catch (error) {
      if (!(error instanceof OperationError)) throw error;
      return render(res, AccountPage({ ctx, notice: { kind: 'bad', text: error.message } }), 400);
    }
    res.redirect(303, '/dashboard/sign-in?signed-out=1');
  });
}
