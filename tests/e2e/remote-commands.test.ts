import { chmod, cp, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binaryPath, repoRoot, run, tempHome, waitFor, type Binary } from '@flotilla/test-support';
import { createNetwork, netnsSupport, type Host, type Network } from '@flotilla/test-support/netns';

/**
 * Operating the domain from a machine that has none of it (docs/operations.md, "Operating from
 * another machine"): the MASTER on host 1, a managed server on each of hosts 1 and 2, and an
 * operator on host 3 with an empty home and only a copy of the domain key. Every command there
 * names the MASTER with --master (or FLOTILLA_MASTER) and the key with --key-file.
 */

const support = await netnsSupport();
if (!support.ok) console.warn(`remote command tests skipped: ${support.reason}`);

const DOMAIN = 'remote1';
/** Generous: a busy 2-core machine runs a MASTER, two servers and their applications here. */
const DEADLINE_MS = 45_000;

describe.skipIf(!support.ok)('commands from a machine without the domain (network namespaces)', () => {
  let net: Network;

  beforeAll(async () => {
    net = await createNetwork(3);
  });

  afterAll(async () => {
    await net?.destroy();
  });

  async function on(host: Host, binary: Binary, args: string[], env: Record<string, string> = {}) {
    return net.exec(host, [process.execPath, binaryPath(binary), ...args], { env: { FLOTILLA_HOME: '', ...env } });
  }

  it('status, config set, deploy (an upload that then answers on every target) and pack-domain into a local file', { timeout: 4 * 60_000 }, async () => {
    const [masterHost, serverHost, operator] = net.hosts as [Host, Host, Host];
    const masterHome = await tempHome();
    const serverHome = await tempHome();
    const operatorHome = await tempHome();
    expect((await run('master', ['create-domain', DOMAIN, '--home', masterHome])).exitCode).toBe(0);
    const dir = join(masterHome, 'domains', DOMAIN);
    const group = `239.192.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
    await writeFile(
      join(dir, 'config', 'domain.json5'),
      `{
  name: "${DOMAIN}",
  master: { name: "adminServer", node: "node1", address: "${masterHost.address}", port: 9736 },
  nodes: { node1: { host: "${masterHost.address}" }, node2: { host: "${serverHost.address}" } },
  servers: {
    server1: { node: "node1", address: "${masterHost.address}", port: 9746, http: 8088, autoRestart: false },
    server2: { node: "node2", address: "${serverHost.address}", port: 9746, http: 8088, autoRestart: false },
  },
  clusters: { cluster1: { servers: ["server1", "server2"] } },
  heartbeat: { mode: "multicast", group: "${group}", port: ${20_000 + Math.floor(Math.random() * 40_000)} },
}
`,
    );
    // The operator's copy of the key, outside every Flotilla home.
    const keyFile = join(operatorHome, 'domain.key');
    await cp(join(dir, 'config', 'security', 'domain.key'), keyFile);
    const master = `${masterHost.address}:9736`;
    const remote = ['--home', operatorHome, '--master', master, '--key-file', keyFile];

    net.startBinary(masterHost, 'master', ['start', DOMAIN, '--home', masterHome]);
    await waitFor('the MASTER answers the operator', async () => (await on(operator, 'master', ['status', DOMAIN, ...remote, '--json'])).exitCode === 0, DEADLINE_MS);
    net.startBinary(masterHost, 'managed', ['start', DOMAIN, 'server1', '--home', masterHome]);
    net.startBinary(serverHost, 'managed', ['start', DOMAIN, 'server2', '--home', serverHome, '--master', master, '--key-file', join(dir, 'config', 'security', 'domain.key')]);

    // status: the MASTER's table, read from host 3.
    await waitFor('both servers RUNNING in the table host 3 reads', async () => {
      const status = await on(operator, 'master', ['status', DOMAIN, ...remote, '--json']);
      return status.exitCode === 0 && JSON.parse(status.stdout).servers.filter((row: any) => !row.master && row.status === 'RUNNING').length === 2;
    }, DEADLINE_MS);
    expect(await stat(join(operatorHome, 'domains')).catch(() => undefined), 'the operator has no domain').toBeUndefined();

    // config set, with the MASTER and the key from the environment this time.
    const env = { FLOTILLA_MASTER: master, FLOTILLA_KEY_FILE: keyFile };
    const set = await on(operator, 'master', ['config', 'set', DOMAIN, 'backup.keep', '7', '--home', operatorHome, '--json'], env);
    expect(set.exitCode, set.stderr).toBe(0);
    const kept = await on(operator, 'master', ['config', 'get', DOMAIN, 'backup.keep', '--home', operatorHome], env);
    expect(kept.stdout.trim()).toBe('7');

    // deploy: the application exists only on host 3's side; it is uploaded and served on both targets.
    const app = join(operatorHome, 'hello');
    await cp(join(repoRoot, 'examples', 'hello'), app, { recursive: true });
    const deployed = await on(operator, 'master', ['deploy', DOMAIN, app, '--name', 'hello', '--context', '/hello', '--target', 'cluster1', ...remote, '--json']);
    expect(deployed.exitCode, deployed.stderr).toBe(0);
    for (const [server, host] of [['server1', masterHost], ['server2', serverHost]] as const) {
      await waitFor(`hello on ${server}`, async () => {
        const answer = await net.exec(operator, ['curl', '-s', '--max-time', '5', `http://${host.address}:8088/hello/`]);
        return answer.exitCode === 0 && JSON.parse(answer.stdout).server === server;
      }, DEADLINE_MS);
    }

    // pack-domain: one backup, received into a file on host 3, which unpack-domain restores there.
    const backup = join(operatorHome, 'saved', 'remote1.zip');
    await mkdir(join(operatorHome, 'saved'));
    const packed = await on(operator, 'pack-domain', [DOMAIN, '-f', backup, ...remote, '--json']);
    expect(packed.exitCode, packed.stderr).toBe(0);
    expect(JSON.parse(packed.stdout)).toMatchObject({ domain: DOMAIN, path: backup });
    const restoreHome = await tempHome();
    const restored = await on(operator, 'unpack-domain', ['-f', backup, '--home', restoreHome, '--yes']);
    expect(restored.exitCode, restored.stderr).toBe(0);
    const config = await on(operator, 'master', ['config', 'get', DOMAIN, 'applications.hello.context', '--home', restoreHome]);
    expect(config.stdout.trim()).toBe('/hello');
  });

  // Three starts and two stops through ssh, each waiting for the server: minutes on a busy machine.
  it('start-server, stop-server and restart-server on a node reached through a real ssh (key-only, BatchMode=yes)', { timeout: 4 * 60_000 }, async () => {
    const [masterHost, nodeHost, operator] = net.hosts as [Host, Host, Host];
    const masterHome = await tempHome();
    const nodeHome = await tempHome();
    const sshDir = await tempHome();
    const domain = 'sshdomain';
    // sshd inside host 2, as on a real node: its own host key, one authorized client key, no passwords.
    for (const name of ['host', 'client']) {
      const made = await net.exec(operator, ['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', join(sshDir, name)]);
      expect(made.exitCode, made.stderr).toBe(0);
    }
    await cp(join(sshDir, 'client.pub'), join(sshDir, 'authorized_keys'));
    await chmod(join(sshDir, 'authorized_keys'), 0o600);
    const path = [join(repoRoot, 'node_modules', '.bin'), dirname(process.execPath), '/usr/bin', '/bin'].join(':');
    await writeFile(
      join(sshDir, 'sshd_config'),
      [
        'Port 2222',
        `ListenAddress ${nodeHost.address}`,
        `HostKey ${join(sshDir, 'host')}`,
        `AuthorizedKeysFile ${join(sshDir, 'authorized_keys')}`,
        `PidFile ${join(sshDir, 'sshd.pid')}`,
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'UsePAM no',
        'StrictModes no',
        // The node's Flotilla install and home, as a login shell's profile would give them.
        `SetEnv FLOTILLA_HOME=${nodeHome} PATH=${path}`,
        '',
      ].join('\n'),
    );
    await mkdir('/run/sshd', { recursive: true }); // sshd's privilege separation directory
    // In the foreground (-D), so that the network's destroy() ends it by its PID.
    net.spawn(nodeHost, ['/usr/sbin/sshd', '-D', '-e', '-f', join(sshDir, 'sshd_config')]);
    await writeFile(join(sshDir, 'known_hosts'), `[${nodeHost.address}]:2222 ${(await readFile(join(sshDir, 'host.pub'), 'utf8')).trim()}\n`);
    const ssh = `ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${join(sshDir, 'known_hosts')} -i ${join(sshDir, 'client')} -p 2222 {host}`;
    await waitFor('sshd in host 2 takes the key', async () => (await net.exec(masterHost, ['sh', '-c', `${ssh.replace('{host}', nodeHost.address)} true`])).exitCode === 0, DEADLINE_MS);

    expect((await run('master', ['create-domain', domain, '--home', masterHome])).exitCode).toBe(0);
    const dir = join(masterHome, 'domains', domain);
    await cp(join(repoRoot, 'examples', 'hello'), join(dir, 'apps', 'hello'), { recursive: true });
    const group = `239.193.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
    await writeFile(
      join(dir, 'config', 'domain.json5'),
      `{
  name: "${domain}",
  master: { name: "adminServer", node: "node1", address: "${masterHost.address}", port: 9836 },
  nodes: { node1: { host: "${masterHost.address}" }, node2: { host: "${nodeHost.address}", exec: "${ssh}" } },
  servers: { server2: { node: "node2", address: "${nodeHost.address}", port: 9846, http: 8188 } },
  clusters: {},
  heartbeat: { mode: "multicast", group: "${group}", port: ${20_000 + Math.floor(Math.random() * 40_000)} },
  applications: { hello: { context: "/hello", targets: ["server2"] } },
}
`,
    );
    const keyFile = join(dir, 'config', 'security', 'domain.key');
    net.startBinary(masterHost, 'master', ['start', domain, '--home', masterHome]);
    const remote = ['--home', await tempHome(), '--master', `${masterHost.address}:9836`, '--key-file', keyFile];
    await waitFor('the MASTER', async () => (await on(operator, 'master', ['status', domain, ...remote])).exitCode === 0, DEADLINE_MS);
    // The node's first start is the operator's (docs/operations.md): it gives the node its cache.
    const first = await on(nodeHost, 'managed', ['start', domain, 'server2', '--home', nodeHome, '--master', `${masterHost.address}:9836`, '--key-file', keyFile, '--detach']);
    expect(first.exitCode, first.stderr).toBe(0);
    const row = async () => JSON.parse((await on(operator, 'master', ['status', domain, ...remote, '--json'])).stdout).servers.find((r: any) => r.name === 'server2');
    await waitFor('server2 RUNNING', async () => (await row()).status === 'RUNNING', DEADLINE_MS);

    const hello = async () => {
      const answer = await net.exec(operator, ['curl', '-s', '--max-time', '5', `http://${nodeHost.address}:8188/hello/`]);
      return answer.exitCode === 0 && JSON.parse(answer.stdout).server === 'server2';
    };
    const stopped = await on(operator, 'master', ['stop-server', domain, 'server2', ...remote, '--json']);
    expect(stopped.exitCode, stopped.stderr).toBe(0);
    expect(JSON.parse(stopped.stdout).results[0]).toMatchObject({ server: 'server2', ok: true, status: 'SHUTDOWN' });
    expect(await hello()).toBe(false);

    const started = await on(operator, 'master', ['start-server', domain, 'server2', ...remote, '--json']);
    expect(started.exitCode, started.stderr).toBe(0);
    expect(JSON.parse(started.stdout).results[0]).toMatchObject({ server: 'server2', ok: true, status: 'RUNNING' });
    expect(await hello()).toBe(true);
    const before = (await row()).pid;

    const restarted = await on(operator, 'master', ['restart-server', domain, 'server2', ...remote, '--json']);
    expect(restarted.exitCode, restarted.stderr).toBe(0);
    expect(JSON.parse(restarted.stdout).results[0]).toMatchObject({ server: 'server2', ok: true, status: 'RUNNING' });
    expect((await row()).pid).not.toBe(before);
    expect(await hello()).toBe(true);
    // The detached server is no child of the test: tempHome's cleanup ends it by its pid file if this fails first.
    expect((await on(operator, 'master', ['stop-server', domain, 'server2', ...remote])).exitCode).toBe(0);
  });
});
