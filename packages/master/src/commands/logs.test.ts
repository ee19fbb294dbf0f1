import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { killPid, run, start, tempHome, waitFor } from '@flotilla/test-support';
import { readKey, type TestDomain } from '@flotilla/test-support/domain';
import { domainCa, sendRaw, signedFor } from '@flotilla/test-support/management';
import { STAMPED, echo, echoLogDomain } from '@flotilla/test-support/logs';

let domain: TestDomain;
const logs = (...args: string[]) => run('master', ['logs', domain.name, ...args, '--home', domain.home]);

describe('master logs: a server\'s log and its applications\' output, through the MASTER', () => {
  beforeAll(async () => {
    const home = await tempHome('file');
    domain = await echoLogDomain(home, 'ml1');
    // Detached, so that their own logs are files; the file's cleanup ends them by their pid files.
    expect((await run('master', ['start', 'ml1', '--home', home, '--detach'])).exitCode).toBe(0);
    expect((await run('managed', ['start', 'ml1', 'server1', '--home', home, '--detach'])).exitCode).toBe(0);
    await echo(domain, '/warn/a-warning');
  }, 60_000);

  it("prints the last --lines of the server's own log, and of the MASTER's", async () => {
    const result = await logs('server1', '--lines', '3');
    expect(result.exitCode, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ server: 'server1', domain: 'ml1' });
    const all = await logs('server1', '--lines', '1000');
    expect(all.stdout).toContain('[MS-0002]');
    expect(all.stdout.trimEnd().split('\n').slice(-3)).toEqual(lines);
    const master = await logs('adminServer', '--lines', '1000', '--json');
    expect(master.exitCode, master.stderr).toBe(0);
    expect(master.stdout).toContain('[MA-0002]');
  });

  it("prints an application's stdout and stderr, apart or together in time order", async () => {
    await waitFor('the warning in the log', async () => (await logs('server1', '--app', 'echo', '--stream', 'stderr')).stdout.includes('a-warning'));
    const stdout = await logs('server1', '--app', 'echo', '--stream', 'stdout');
    expect(stdout.exitCode, stdout.stderr).toBe(0);
    expect(stdout.stdout).toMatch(new RegExp(`${STAMPED.source}started on stdout$`, 'm'));
    expect(stdout.stdout).not.toContain('stderr');
    const stderr = await logs('server1', '--app', 'echo', '--stream', 'stderr');
    expect(stderr.stdout.trimEnd().split('\n').map((line) => line.slice(25))).toEqual(['started on stderr', 'a-warning']);
    const both = await logs('server1', '--app', 'echo', '--json');
    const parsed = both.stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(parsed.map(({ stream, line }) => `${stream} ${line}`)).toEqual(
      expect.arrayContaining(['stdout started on stdout', 'stderr started on stderr', 'stderr a-warning']),
    );
    expect(parsed.at(-1)).toMatchObject({ server: 'server1', app: 'echo', stream: 'stderr', line: 'a-warning', time: expect.stringMatching(/Z$/) });
    const times = parsed.map(({ time }) => time);
    expect([...times].sort()).toEqual(times);
  });

  it('--follow prints each new line as it is written, until Ctrl-C', async () => {
    const follower = start('master', ['logs', 'ml1', 'server1', '--app', 'echo', '--follow', '--lines', '0', '--home', domain.home]);
    let said = '';
    follower.stdout?.on('data', (chunk: Buffer) => (said += chunk.toString()));
    // Lines written before the follower is ready may be among the last 0: keep saying until one arrives.
    await waitFor('a followed line', async () => {
      await echo(domain, '/say/followed-line');
      return said.includes('followed-line');
    });
    await echo(domain, '/warn/followed-warning');
    await waitFor('the followed stderr line', () => said.includes('followed-warning'));
    // logrotate's way, by hand: the file moved away, SIGHUP, and the follower reads on in the new one.
    const server = join(domain.dir, 'servers', 'server1');
    await rename(join(server, 'logs', 'app-echo.stdout.log'), join(server, 'logs', 'app-echo.stdout.log-moved'));
    killPid(Number((await readFile(join(server, 'server.pid'), 'utf8')).trim()), 'SIGHUP');
    await waitFor('a line written after the move', async () => {
      await echo(domain, '/say/after-the-move');
      return said.includes('after-the-move');
    });
    expect(said).not.toContain('started on stdout');
    for (const line of said.trimEnd().split('\n')) expect(line).toMatch(STAMPED);
    killPid(follower.pid, 'SIGINT');
    expect((await follower).exitCode).toBe(130);
  });

  it.each([
    [['server1', '--app', 'nosuch'], 'server1 runs no application named nosuch (applications: echo)'],
    [['nosuch'], 'server nosuch is not defined in domain ml1'],
    [['server1', '--app', '../../config/security/domain.key'], 'invalid application name'],
    [['server1', '--stream', 'stdout'], '--stream stdout is one of an application\'s outputs: name the application with --app'],
    [['server1', '--lines', '-1'], '--lines -1: expected a whole number from 0 to 10000'],
    [['adminServer', '--app', 'echo'], 'the MASTER adminServer runs no applications'],
  ])('refuses %j with exit 2 and why', async (args, message) => {
    const result = await logs(...args);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stdout).toBe('');
  });

  it('takes no file path from a request: hostile log requests to the MASTER and to the server are refused', async () => {
    const key = Buffer.from(await readKey(domain), 'hex');
    const ca = await domainCa(domain);
    const ask = (port: number, receiver: string, body: unknown, sender = 'cli') => {
      const text = JSON.stringify(body);
      return sendRaw(port, { method: 'POST', path: '/v2/logs', body: text, ca, headers: { 'content-type': 'application/json', ...signedFor(key, 'ml1', receiver, 'POST', '/v2/logs', text, sender) } });
    };
    for (const body of [
      { server: 'server1', app: '../../config/security/domain.key' },
      { server: 'server1', app: '..' },
      { server: '../adminServer' },
      { server: 'server1', path: '/etc/passwd' },
      { server: 'server1', lines: 1e9 },
    ]) {
      // Not a message of the protocol (parseMessage, SYS-0002): 422, as every such refusal.
      const answer = await ask(domain.masterPort, 'master', body);
      expect(answer.status, JSON.stringify(body)).toBe(422);
      expect(answer.text).not.toContain('BEGIN');
    }
    const server = domain.servers.server1!.port;
    for (const body of [{ app: '../../../config/security/domain.key' }, { file: '/etc/passwd' }]) {
      expect((await ask(server, 'server1', body, 'adminServer')).status, JSON.stringify(body)).toBe(422);
    }
    const unknown = await ask(server, 'server1', { app: 'nosuch' }, 'adminServer');
    expect([unknown.status, JSON.parse(unknown.text).error]).toEqual([400, 'server1 runs no application named nosuch (applications: echo)']);
    const unsigned = await sendRaw(server, { method: 'POST', path: '/v2/logs', body: '{}', ca, headers: { 'content-type': 'application/json' } });
    expect(unsigned.status).toBe(401);
  });

  it('says which is down: the server (exit 3 naming it), the MASTER (exit 3)', async () => {
    expect((await run('managed', ['stop', 'ml1', 'server1', '--home', domain.home])).exitCode).toBe(0);
    const serverDown = await logs('server1');
    expect(serverDown.exitCode).toBe(3);
    expect(serverDown.stderr).toMatch(/server1 at 127\.0\.0\.1:\d+ does not answer .*: is it running\?/);
    expect((await run('master', ['stop', 'ml1', '--home', domain.home])).exitCode).toBe(0);
    const masterDown = await logs('server1');
    expect(masterDown.exitCode).toBe(3);
    expect(masterDown.stderr).toContain('MASTER of ml1 at 127.0.0.1');
  });
});
