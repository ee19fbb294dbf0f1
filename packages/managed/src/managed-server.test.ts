import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { killPid, run, tempHome, waitFor } from '@flotilla/test-support';
import { runOnTerminal } from '@flotilla/test-support/terminal';
import {
  createTestDomain,
  freePorts,
  managedStatus,
  masterStatus,
  renderTestConfig,
  startManaged,
  startMaster,
} from '@flotilla/test-support/domain';

const remoteArgs = (masterPort: number, keyFile: string) => ['--master', `127.0.0.1:${masterPort}`, '--key-file', keyFile];

describe('managed servers and their MASTER', () => {
  it('survive the MASTER, start without it from their cache, and come back under it by themselves', async () => {
    const home = await tempHome();
    const remoteHome = await tempHome(); // server2 runs as on another machine: its own home
    const domain = await createTestDomain(home, 'd1', ['server1', 'server2']);
    const master = await startMaster(domain);

    // With the MASTER up: both MANAGED, caches filled.
    const server1 = await startManaged(home, 'd1', 'server1');
    let server2 = await startManaged(remoteHome, 'd1', 'server2', remoteArgs(domain.masterPort, domain.keyFile));
    for (const [h, s] of [[home, 'server1'], [remoteHome, 'server2']] as const) {
      await waitFor(`${s} MANAGED`, async () => (await managedStatus(h, 'd1', s)).mode === 'MANAGED');
    }
    const cached = await readFile(join(remoteHome, 'domains', 'd1', 'servers', 'server2', 'cache', 'current.json'), 'utf8');
    expect(JSON.parse(cached).dir).toMatch(/^gen-1-/);
    await waitFor('the MASTER to see both MANAGED', async () => {
      const table = await masterStatus(domain);
      return table.servers.filter((row: any) => !row.master && row.status === 'RUNNING' && row.mode === 'MANAGED').length === 2;
    });

    // The MASTER dies: the servers stay up and say why they are on their own.
    killPid(master.pid);
    for (const [h, s] of [[home, 'server1'], [remoteHome, 'server2']] as const) {
      await waitFor(`${s} INDEPENDENT`, async () => {
        const status = await managedStatus(h, 'd1', s);
        return status.status === 'RUNNING' && status.mode === 'INDEPENDENT' && status.reason === 'master-connection-lost' && !status.master.connected;
      });
    }

    // A change needs the MASTER.
    const refused = await run('master', ['config', 'set', 'd1', 'backup.keep', '20', '--home', home]);
    expect(refused.exitCode).toBe(3);
    expect(refused.stderr).toContain(`MASTER of d1 at 127.0.0.1:${domain.masterPort} is unreachable: configuration changes need the MASTER`);

    // server2 restarts while the MASTER is down: from its cache, with no --master or --key-file.
    killPid(server2.pid);
    await server2.child;
    server2 = await startManaged(remoteHome, 'd1', 'server2');
    expect(server2.stderr()).toContain('[MS-0052] Receiving the configuration failed. Attempting to start as INDEPENDENT.');
    const independent = await managedStatus(remoteHome, 'd1', 'server2');
    expect(independent).toMatchObject({ mode: 'INDEPENDENT', reason: 'master-unreachable-at-start', generation: 1, status: 'RUNNING' });

    // The MASTER comes back: every server MANAGED again without being touched.
    const master2 = await startMaster(domain);
    for (const [h, s] of [[home, 'server1'], [remoteHome, 'server2']] as const) {
      await waitFor(`${s} MANAGED again`, async () => {
        const status = await managedStatus(h, 'd1', s);
        return status.mode === 'MANAGED' && status.reason === undefined && status.master.connected;
      });
    }
    expect((await managedStatus(home, 'd1', 'server1')).pid).toBe(server1.pid);

    // A configuration change reaches every server.
    const changed = await run('master', ['config', 'set', 'd1', 'backup.keep', '20', '--home', home, '--json']);
    expect(changed.exitCode).toBe(0);
    const { generation } = JSON.parse(changed.stdout);
    expect(generation).toBe(2);
    for (const [h, s] of [[home, 'server1'], [remoteHome, 'server2']] as const) {
      await waitFor(`${s} at generation 2`, async () => (await managedStatus(h, 'd1', s)).generation === 2);
    }
    const remoteConfig = await readFile(join(remoteHome, 'domains', 'd1', 'servers', 'server2', 'cache', JSON.parse(await readFile(join(remoteHome, 'domains', 'd1', 'servers', 'server2', 'cache', 'current.json'), 'utf8')).dir, 'files', 'config', 'domain.json5'), 'utf8');
    expect(remoteConfig).toContain('keep: 20');

    // The MASTER moves to another port: the servers follow it, and remember.
    killPid(master2.pid);
    await master2.child;
    const [newPort] = await freePorts(1);
    domain.masterPort = newPort!;
    await writeFile(domain.configFile, (await readFile(domain.configFile, 'utf8')).replace(/port: \d+ \}/, `port: ${newPort} }`));
    await startMaster(domain);
    await waitFor('server2 to follow the MASTER to its new port', async () => {
      const status = await managedStatus(remoteHome, 'd1', 'server2');
      return status.mode === 'MANAGED' && status.master.port === newPort;
    });
    const remembered = JSON.parse(await readFile(join(remoteHome, 'domains', 'd1', 'servers', 'server2', 'cache', 'master.json'), 'utf8'));
    expect(remembered).toEqual({ address: '127.0.0.1', port: newPort });
  });

  it('refuses to start with no MASTER and no cache: exit 3 and the message', async () => {
    const home = await tempHome();
    const remoteHome = await tempHome();
    const domain = await createTestDomain(home, 'd2', ['server1']);
    const result = await run('managed', ['start', 'd2', 'server1', '--home', remoteHome, ...remoteArgs(domain.masterPort, domain.keyFile)]);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain(`cannot start server1: MASTER at 127.0.0.1:${domain.masterPort} is unreachable and there is no local cache`);
  });

  it('refuses to start with a key that is not the MASTER\'s: exit 4 at the first contact, and why', async () => {
    const home = await tempHome();
    const remoteHome = await tempHome();
    const domain = await createTestDomain(home, 'd9', ['server1']);
    await startMaster(domain);
    const wrongKey = join(remoteHome, 'wrong.key');
    await writeFile(wrongKey, `${'ab'.repeat(32)}\n`);
    const result = await run('managed', ['start', 'd9', 'server1', '--home', remoteHome, '--master', `127.0.0.1:${domain.masterPort}`, '--key-file', wrongKey]);
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain(`could not verify the MASTER of domain d9 at 127.0.0.1:${domain.masterPort} (wrong proof)`);
    expect(result.stderr).toContain("or the key file is not that domain's key");
  });

  it('starts from the MASTER\'s own files when it shares the MASTER\'s home and the MASTER is down', async () => {
    const home = await tempHome();
    await createTestDomain(home, 'd3', ['server1']);
    await startManaged(home, 'd3', 'server1');
    const status = await managedStatus(home, 'd3', 'server1');
    expect(status).toMatchObject({ mode: 'INDEPENDENT', reason: 'master-unreachable-at-start', generation: 1 });
  });

  it.each([
    [['start', 'd4', 'server1', '--master', 'nowhere'], 2, '--master nowhere: expected HOST:PORT'],
    [['start', 'd4', 'server1', '--master', '127.0.0.1:1'], 2, 'no domain key for server1: pass --key-file'],
    [['start', 'd4', 'server1', '--key-file', '/nonexistent/key'], 2, '--key-file /nonexistent/key is not a readable file'],
    [['start', 'd4', 'bad name'], 2, 'invalid server name "bad name"'],
    [['status', 'd4', 'server1'], 2, 'server server1 of d4 has never run'],
  ])('managed %j: exit %i, %s', async (args, code, message) => {
    const home = await tempHome();
    const result = await run('managed', [...args, '--home', home]);
    expect(result.stderr).toContain(message);
    expect(result.exitCode).toBe(code);
  });

  it('refuses a server the configuration does not define, and a second instance', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'd5', ['server1']);
    await startMaster(domain);
    const unknown = await run('managed', ['start', 'd5', 'ghost', '--home', home]);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('server ghost is not defined in domain d5 (servers: server1)');
    const first = await startManaged(home, 'd5', 'server1');
    const second = await run('managed', ['start', 'd5', 'server1', '--home', home]);
    expect(second.exitCode).toBe(1);
    expect(second.stderr).toContain(`server server1 of d5 is already running (pid ${first.pid})`);
  });

  it('shows the progress of a long sync at start on a terminal, and never when stderr is not one', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'pg', ['server1'], '  applications: { files: { context: "/files", targets: ["server1"] } },\n');
    await mkdir(join(domain.dir, 'apps', 'files'), { recursive: true });
    for (let i = 0; i < 6; i++) await writeFile(join(domain.dir, 'apps', 'files', `part-${i}.txt`), `part ${i}\n`.repeat(1000));
    await startMaster(domain);
    // A pause before each file makes the sync outlast the second a progress line waits for.
    const env = { FLOTILLA_TEST_FETCH_DELAY_MS: '300' };
    const args = ['start', 'pg', 'server1', ...remoteArgs(domain.masterPort, domain.keyFile)];

    const terminal = runOnTerminal('managed', [...args, '--home', await tempHome()], env);
    await terminal.waitForText('[MS-0002]');
    expect(terminal.output()).toMatch(/Synchronising server1: \d\/6 files, [\d.]+ \w+ of 41\.0 KiB \(\d+%\)/);
    terminal.kill('SIGTERM');
    await terminal.exited;

    const piped = await startManaged(await tempHome(), 'pg', 'server1', remoteArgs(domain.masterPort, domain.keyFile), env);
    expect(piped.stderr()).toContain('[MS-0010]');
    expect(piped.stderr()).not.toContain('Synchronising');
  });

  it('stops gracefully: the MASTER shows SHUTDOWN, not FAILED', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'd6', ['server1']);
    await startMaster(domain);
    const server = await startManaged(home, 'd6', 'server1');
    await waitFor('MANAGED', async () => (await managedStatus(home, 'd6', 'server1')).mode === 'MANAGED');
    const stopped = await run('managed', ['stop', 'd6', 'server1', '--home', home]);
    expect(stopped.exitCode).toBe(0);
    expect(stopped.stdout).toContain(`server server1 of d6 stopped (pid ${server.pid})`);
    await waitFor('SHUTDOWN at the MASTER', async () => (await masterStatus(domain)).servers[1].status === 'SHUTDOWN');
    expect((await server.child).exitCode).toBe(0);
  });

  it('detaches: start --detach prints the PID and returns once the server serves', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'd7', ['server1']);
    const started = await run('master', ['start', 'd7', '--home', home, '--detach', '--json']);
    expect(started.exitCode).toBe(0);
    const { pid } = JSON.parse(started.stdout);
    try {
      expect((await masterStatus(domain)).servers[0]).toMatchObject({ master: true, pid, status: 'RUNNING' });
      const log = await readFile(join(domain.dir, 'servers', 'adminServer', 'logs', 'adminServer.log'), 'utf8');
      expect(log).toContain('[MA-0002]');
      const stop = await run('master', ['stop', 'd7', '--home', home]);
      expect(stop.exitCode).toBe(0);
    } finally {
      killPid(pid);
    }
  });

  it('start --detach reports a failure with its exit code and message', async () => {
    const home = await tempHome();
    const domain = await createTestDomain(home, 'd8', ['server1']);
    await writeFile(domain.configFile, renderTestConfig(domain).replace('port: ', 'port: "x", p: '));
    const result = await run('master', ['start', 'd8', '--home', home, '--detach']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('master.port: expected a number');
  });
});
