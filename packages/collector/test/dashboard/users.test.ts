/** The Users page (admin) and the Account page (everyone), over real HTTP on a real SQLite file. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signIn } from '../../src/dashboard/auth/sign-in.js';
import { startCollector, tempDir, type Running } from '../helpers/harness.js';
import { addUser, browser, PASSWORD } from './helpers.js';

let dir: ReturnType<typeof tempDir>;
let run: Running;
beforeEach(async () => {
  dir = tempDir();
  run = await startCollector({ dbFile: `${dir.dir}/pruuv.db` });
});
afterEach(async () => {
  await run.close();
  dir.cleanup();
});

const canSignIn = async (email: string, password: string): Promise<boolean> =>
  (await signIn(run.store, { email, password, address: `10.0.0.${Math.floor(Math.random() * 250)}` }, new Date())).ok;

describe('Users page', () => {
  it('lets an admin add a staff user and a client user who can then sign in', async () => {
    await addUser(run.store, 'ada@agency.example', 'admin');
    const client = await run.store.clients.create({ name: 'Acme' });
    const admin = browser(run.url);
    await admin.signIn('ada@agency.example');
    const page = await admin.get('/dashboard/users');
    expect(page.status).toBe(200);
    const added = await admin.post('/dashboard/users', { email: 'Sam@Agency.example', role: 'staff', client_id: '', password: 'staff passphrase 1' });
    expect(added.status).toBe(200);
    expect(await added.text()).toContain('User added: sam@agency.example (staff).');
    const viewer = await admin.post('/dashboard/users', { email: 'cleo@acme.example', role: 'client', client_id: client.id, password: 'client passphrase 1' });
    expect(await viewer.text()).toContain('User added: cleo@acme.example (client).');
    expect(await canSignIn('sam@agency.example', 'staff passphrase 1')).toBe(true);
    expect((await run.store.users.byEmail('cleo@acme.example'))?.client_id).toBe(client.id);
    const html = await (await admin.get('/dashboard/users')).text();
    expect(html).not.toContain('scrypt$');
    expect(html).not.toContain('passphrase');
  });

  it('shows why an addition is refused and keeps what was typed, never the password', async () => {
    await addUser(run.store, 'ada@agency.example', 'admin');
    const admin = browser(run.url);
    await admin.signIn('ada@agency.example');
    await admin.get('/dashboard/users');
    const short = await admin.post('/dashboard/users', { email: 'sam@agency.example', role: 'staff', client_id: '', password: 'short' });
    expect(short.status).toBe(400);
    const html = await short.text();
    expect(html).toContain('The password must have at least 12 characters.');
    expect(html).toContain('value="sam@agency.example"');
    expect(html).not.toContain('value="short"');
    const taken = await admin.post('/dashboard/users', { email: 'ada@agency.example', role: 'staff', client_id: '', password: 'a long passphrase' });
    expect(taken.status).toBe(409);
    const noClient = await admin.post('/dashboard/users', { email: 'c@x.example', role: 'client', client_id: '', password: 'a long passphrase' });
    expect(noClient.status).toBe(400);
  });

  it('sets a password (ending that user’s sessions), signs a user out everywhere, removes users but never the last admin', async () => {
    await addUser(run.store, 'ada@agency.example', 'admin');
    await addUser(run.store, 'sam@agency.example', 'staff');
    const sam = browser(run.url);
    await sam.signIn('sam@agency.example');
    const admin = browser(run.url);
    await admin.signIn('ada@agency.example');
    await admin.get('/dashboard/users');
    expect(await (await admin.post('/dashboard/users/password', { email: 'sam@agency.example', password: 'a new passphrase' })).text()).toContain('Password set for sam@agency.example');
    expect((await sam.get('/dashboard')).status).toBe(303);
    expect(await canSignIn('sam@agency.example', 'a new passphrase')).toBe(true);
    await sam.signIn('sam@agency.example', 'a new passphrase');
    expect(await (await admin.post('/dashboard/users/sign-out', { email: 'sam@agency.example' })).text()).toContain('1 session of sam@agency.example ended.');
    expect((await sam.get('/dashboard')).status).toBe(303);
    const self = await admin.post('/dashboard/users/remove', { email: 'ada@agency.example' });
    expect(self.status).toBe(409);
    expect(await (await admin.post('/dashboard/users/remove', { email: 'sam@agency.example' })).text()).toContain('User removed: sam@agency.example.');
    expect(await run.store.users.byEmail('sam@agency.example')).toBeUndefined();
  });

  it('is for admins only: staff and client users get 403 on the page and on every action', async () => {
    const client = await run.store.clients.create({ name: 'Acme' });
    await addUser(run.store, 'ada@agency.example', 'admin');
    await addUser(run.store, 'sam@agency.example', 'staff');
    await addUser(run.store, 'cleo@acme.example', 'client', client.id);
    for (const email of ['sam@agency.example', 'cleo@acme.example']) {
      const b = browser(run.url);
      await b.signIn(email);
      expect((await b.get('/dashboard/users')).status, email).toBe(403);
      await b.get('/dashboard');
      for (const [path, fields] of [
        ['/dashboard/users', { email: 'x@agency.example', role: 'admin', client_id: '', password: 'a long passphrase' }],
        ['/dashboard/users/password', { email: 'ada@agency.example', password: 'a long passphrase' }],
        ['/dashboard/users/sign-out', { email: 'ada@agency.example' }],
        ['/dashboard/users/remove', { email: 'ada@agency.example' }],
      ] as const) {
        expect((await b.post(path, { ...fields })).status, `${email} ${path}`).toBe(403);
      }
      expect(await (await b.get('/dashboard')).text()).not.toContain('href="/dashboard/users"');
    }
    expect(await run.store.users.count()).toBe(3);
    expect(await canSignIn('ada@agency.example', PASSWORD)).toBe(true);
  });
});

describe('Account page', () => {
  it('changes one’s own password with the current one, then signs out everywhere', async () => {
    await addUser(run.store, 'sam@agency.example', 'staff');
    const b = browser(run.url);
    await b.signIn('sam@agency.example');
    await b.get('/dashboard/account');
    const wrong = await b.post('/dashboard/account/password', { current: 'not it at all', password: 'a brand new passphrase' });
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toContain('The current password is wrong');
    const ok = await b.post('/dashboard/account/password', { current: PASSWORD, password: 'a brand new passphrase' });
    expect(ok.status).toBe(303);
    expect((await b.get('/dashboard')).status).toBe(303);
    expect(await canSignIn('sam@agency.example', 'a brand new passphrase')).toBe(true);
  });
});
