import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { run, tempHome, waitFor } from '@flotilla/test-support';
import { createTestDomain, masterStatus, startManaged, startMaster, type TestDomain } from '@flotilla/test-support/domain';
import { domainCa, fetchTrusting, testTls } from '@flotilla/test-support/management';

let fetch: ReturnType<typeof fetchTrusting>;
/** From now on `fetch` trusts the CA of `domain`, as a browser that imported its ca.crt. */
async function trust(domain: TestDomain): Promise<void> {
  fetch = fetchTrusting(await domainCa(domain));
}

/**
 * The answer to a POST that declares `declared` bytes of body and sends none of them: a refusal
 * that arrives proves the body was never waited for, let alone read.
 */
async function answerWithoutBody(domain: TestDomain, path: string, declared: number, headers: Record<string, string>): Promise<string> {
  const ca = await domainCa(domain);
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port: domain.masterPort, ca }, () => {
      const lines = [`POST ${path} HTTP/1.1`, 'host: 127.0.0.1', `content-length: ${declared}`, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
  });
}

/** The first state document on the console's event stream. */
async function firstState(url: string, cookie: string): Promise<any> {
  const controller = new AbortController();
  const response = await fetch(url, { headers: { cookie }, signal: controller.signal });
  expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
  const decoder = new TextDecoder();
  let text = '';
  try {
    for await (const chunk of response.body!) {
      text += decoder.decode(chunk, { stream: true });
      const match = /event: state\ndata: (.*)\n\n/.exec(text);
      if (match) return JSON.parse(match[1]!);
    }
  } finally {
    controller.abort();
  }
  throw new Error(`the stream ended without a state: ${text}`);
}

describe('the web console on the MASTER\'s port', () => {
  it('lets in the holder of a console-url link through a session cookie, and nobody else', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'c1', ['server1']);
    await trust(domain);
    const master = await startMaster(domain);
    await startManaged(home, 'c1', 'server1');
    const base = `https://127.0.0.1:${domain.masterPort}`;

    const printed = await run('master', ['console-url', 'c1', '--home', home, '--json']);
    expect(printed.exitCode).toBe(0);
    const { url, expires } = JSON.parse(printed.stdout);
    expect(url).toMatch(new RegExp(`^${base}/console/login\\?token=[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$`));
    expect(Date.parse(expires) - Date.now()).toBeGreaterThan(11.9 * 3_600_000);
    expect(url).not.toContain((await readFile(domain.keyFile, 'utf8')).trim());
    expect((await run('master', ['console-url', 'c1', '--home', home, '--hours', '0'])).exitCode).toBe(2);

    // Not logged in: a short page that says what to run, and a log line.
    const refused = await fetch(`${base}/console/`);
    expect(refused.status).toBe(401);
    expect(await refused.text()).toContain('master console-url c1');
    expect((await fetch(`${base}/console/events`)).status).toBe(401);
    expect((await fetch(`${base}/console/login?token=${url.split('token=')[1].replace(/^./, 'x')}`)).status).toBe(401);
    await waitFor('the refusals logged', () => master.stderr().includes('[MA-0041] refused a web console request (session missing)') && master.stderr().includes('[MA-0041] refused a web console request (login link'));
    // The signed API is as closed as before.
    expect((await fetch(`${base}/v2/status`)).status).toBe(401);

    const login = await fetch(url, { redirect: 'manual' });
    expect(login.status).toBe(200);
    expect(await login.text()).toContain('<meta http-equiv="refresh" content="0; url=/console/">');
    const setCookie = login.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^flotilla-console-c1=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+; Path=\/console; Max-Age=\d+; HttpOnly; Secure; SameSite=Strict$/);
    expect(setCookie).not.toContain(url.split('token=')[1]); // the session is not the login token
    expect(master.stderr()).toContain('[MA-0042] web console read-only session started');
    const cookie = setCookie.split(';')[0]!;

    const page = await fetch(`${base}/console/`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(await page.text()).toContain('<script src="/console/app.js"');
    expect((await fetch(`${base}/console/app.js`, { headers: { cookie } })).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await fetch(`${base}/console/app.js`)).status).toBe(401);
    expect((await fetch(`${base}/console/nothing.js`, { headers: { cookie } })).status).toBe(404);

    const state = await waitFor('server1 among the recent events', async () => {
      const pushed = await firstState(`${base}/console/events`, cookie);
      return pushed.events.some((event: any) => event.server === 'server1') && pushed;
    });
    expect(state.domain).toBe('c1');
    expect(state.servers.map((row: any) => row.name)).toEqual(['adminServer', 'server1']);
    expect(state.membership.find((member: any) => member.self)).toMatchObject({ name: 'adminServer', state: 'ALIVE' });
    expect(state.backup.policy).toMatchObject({ onBoot: false, keep: 10 });

    // A boot-backup record that cannot be read blanks that part only, and says why.
    await writeFile(join(domain.dir, 'servers', 'adminServer', 'last-boot-backup.json'), '{ not json');
    const damaged = await firstState(`${base}/console/events`, cookie);
    expect(damaged.backup.error).toMatch(/^the backup policy or the last boot backup cannot be read: /);
    expect(damaged.servers).toHaveLength(2);
  });

  it('presents a certificate of the operator\'s own PKI to browsers when master.consoleCertificate says so, and the domain CA\'s to Flotilla', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'c9', ['server1']);
    const operator = await testTls();
    await writeFile(join(domain.dir, 'operator.crt'), operator.credentials.cert);
    await writeFile(join(domain.dir, 'operator.key'), operator.credentials.key, { mode: 0o600 });
    const config = await readFile(domain.configFile, 'utf8');
    await writeFile(domain.configFile, config.replace(/(master: \{[^}]*)\}/, '$1, consoleCertificate: { cert: "operator.crt", key: "operator.key" } }'));
    await startMaster(domain);
    await startManaged(home, 'c9', 'server1');

    // A browser names the host: it gets the operator's certificate, which it trusts through the operator's CA.
    const byName = await fetchTrusting(operator.ca)(`https://localhost:${domain.masterPort}/console/`);
    expect(byName.status).toBe(401);
    await expect(fetchTrusting(await domainCa(domain))(`https://localhost:${domain.masterPort}/console/`)).rejects.toThrow();
    // Flotilla's own clients still verify the domain's CA, and work.
    expect((await masterStatus(domain)).servers).toHaveLength(2);
  });

  it('lets only an admin session change things, from its own origin with its change token; every refusal is 403 and logged', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'c2', ['server1']);
    await trust(domain);
    const master = await startMaster(domain);
    const base = `https://127.0.0.1:${domain.masterPort}`;
    const login = async (admin: boolean) => {
      const printed = await run('master', ['console-url', 'c2', '--home', home, '--json', ...(admin ? ['--admin'] : [])]);
      expect(printed.exitCode).toBe(0);
      const answer = await fetch(JSON.parse(printed.stdout).url, { redirect: 'manual' });
      expect(answer.status).toBe(200);
      const cookie = answer.headers.get('set-cookie')!.split(';')[0]!;
      const session = await (await fetch(`${base}/console/api/session`, { headers: { cookie } })).json();
      return { cookie, session };
    };
    const readOnly = await login(false);
    const admin = await login(true);
    expect(readOnly.session).toMatchObject({ admin: false });
    expect(readOnly.session.changeToken).toBeUndefined();
    expect(admin.session).toMatchObject({ admin: true, id: expect.stringMatching(/^[0-9a-f]{12}$/), changeToken: expect.any(String) });
    expect(master.stderr()).toContain('[MA-0042] web console admin session started');

    const keep = (cookie: string, headers: Record<string, string>) =>
      fetch(`${base}/console/api/backup-policy`, { method: 'POST', headers: { cookie, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ keep: '4' }) });
    const own = { origin: base, 'sec-fetch-site': 'same-origin' };
    const token = { 'x-flotilla-console-token': admin.session.changeToken };
    // A read-only session's cookie, by hand, even with the admin session's token.
    const refusals: [string, Response][] = [
      ['a read-only session', await keep(readOnly.cookie, { ...own, ...token })],
      ['from another origin (https://evil.example)', await keep(admin.cookie, { ...token, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' })],
      ['no Origin header', await keep(admin.cookie, token)],
      ['a same-site request', await keep(admin.cookie, { ...token, origin: base, 'sec-fetch-site': 'same-site' })],
      ['no valid change token', await keep(admin.cookie, own)],
      ['no valid change token', await keep(admin.cookie, { ...own, 'x-flotilla-console-token': readOnly.cookie })],
    ];
    for (const [why, answer] of refusals) {
      expect(answer.status, why).toBe(403);
      expect((await answer.json()).error).toContain(`refused: ${why}`);
    }
    expect((await fetch(`${base}/console/api/backup-policy`, { method: 'POST', headers: own, body: '{}' })).status).toBe(401);
    // An upload is refused on its headers: 60 MiB declared, not a byte sent, the refusal comes and the connection ends.
    const upload = '/console/api/deploy?name=big&context=/big&targets=server1';
    expect(await answerWithoutBody(domain, upload, 60 * 1024 * 1024, own)).toMatch(/^HTTP\/1\.1 401 /);
    expect(await answerWithoutBody(domain, upload, 60 * 1024 * 1024, { cookie: readOnly.cookie, ...own, ...token })).toMatch(/^HTTP\/1\.1 403 [^]*refused: a read-only session/);
    await waitFor('the refusals logged', () => master.stderr().split('[MA-0071] refused a web console change').length > refusals.length);
    expect(JSON.parse((await run('set-domain-backup', ['c2', '--json', '--home', home])).stdout).policy.keep).toBe(10);

    // The admin session from its own page: the command's checks, field by field, then the change.
    const bad = await fetch(`${base}/console/api/backup-policy`, {
      method: 'POST',
      headers: { cookie: admin.cookie, ...own, ...token },
      body: JSON.stringify({ keep: '0', nodeName: 'node9', backupDir: 'ok' }),
    });
    expect(bad.status).toBe(400);
    expect((await bad.json()).fields).toEqual({
      keep: '--keep 0: must be a whole number from 1 to 1000',
      nodeName: '-nodeName node9: node "node9" is not defined (defined: node1); use null to copy to no node',
    });
    const done = await keep(admin.cookie, { ...own, ...token });
    expect(done.status).toBe(200);
    expect((await done.json()).message).toBe('Successfully performed the MODIFY operation for Domain Backup Policy.\nCheck the results using "set-domain-backup"');
    expect(JSON.parse((await run('set-domain-backup', ['c2', '--json', '--home', home])).stdout).policy.keep).toBe(4);
    expect(master.stderr()).toContain(`[MA-0070] web console session ${admin.session.id}: backup policy {\\"keep\\":4}`);

    // A setting refused as master config set refuses it, with its message.
    const setting = await fetch(`${base}/console/api/setting`, { method: 'POST', headers: { cookie: admin.cookie, ...own, ...token }, body: JSON.stringify({ path: 'restart.attempts', value: '-3' }) });
    expect(setting.status).toBe(400);
    const cli = await run('master', ['config', 'set', 'c2', 'restart.attempts', '-3', '--home', home]);
    expect(cli.exitCode).toBe(2);
    expect(cli.stderr).toContain((await setting.json()).error);

    // The change is among the events, and they survive a MASTER restart.
    const state = await firstState(`${base}/console/events`, admin.cookie);
    expect(state.events.find((event: any) => event.code === 'MA-0070').message).toContain(admin.session.id);
    master.child.kill('SIGTERM');
    await master.child.catch(() => {});
    await startMaster(domain);
    const after = await waitFor('the events read back', async () => {
      const pushed = await firstState(`${base}/console/events`, admin.cookie);
      return pushed.events.some((event: any) => event.code === 'MA-0070') && pushed;
    });
    expect(after.events.some((event: any) => event.code === 'MA-0003')).toBe(true);

    // Browsers ask for a favicon at the root: answered, not refused.
    const favicon = await fetch(`${base}/favicon.ico`);
    expect(favicon.status).toBe(200);
    expect(favicon.headers.get('content-type')).toBe('image/svg+xml');
  });
});
