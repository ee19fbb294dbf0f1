import { cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binaryPath, repoRoot, run, tempHome, waitFor } from '@flotilla/test-support';
import { createNetwork, netnsSupport, type Host, type Network } from '@flotilla/test-support/netns';

/**
 * The mission across machines: the MASTER on host 1 and one managed server on each of hosts 2
 * and 3, every host a network namespace with its own address and its own Flotilla home (only the
 * filesystem is shared). The servers get the domain the way an operator gives it to a new
 * machine: `--master HOST:PORT --key-file`. Remote nodes run commands through their `exec`
 * prefix, here `ip netns exec`, as ssh would on real machines.
 */

const support = await netnsSupport();
if (!support.ok) console.warn(`multi-host end-to-end tests skipped: ${support.reason}`);

const DOMAIN = 'fleet';
const SERVERS = ['server1', 'server2'] as const;
/** Generous: a busy 2-core machine runs three servers, a MASTER and their applications here. */
const DEADLINE_MS = 45_000;

describe.skipIf(!support.ok)('the mission across hosts (network namespaces)', () => {
  let net: Network;
  const homes: Record<string, string> = {};

  beforeAll(async () => {
    net = await createNetwork(3);
  });

  afterAll(async () => {
    await net?.destroy(); // ends every process in the hosts, restarted servers included
  });

  const hostOf = (server: string): Host => net.hosts[1 + SERVERS.indexOf(server as (typeof SERVERS)[number])]!;

  async function json(host: Host, binary: 'master' | 'managed', args: string[], home: string): Promise<any> {
    const result = await net.exec(host, [process.execPath, binaryPath(binary), ...args, '--home', home, '--json']);
    if (result.exitCode !== 0) throw new Error(`${binary} ${args.join(' ')} on host ${host.index}: exit ${result.exitCode}: ${result.stderr}`);
    return JSON.parse(result.stdout);
  }

  const serverStatus = (server: string) => json(hostOf(server), 'managed', ['status', DOMAIN, server], homes[server]!);
  const masterTable = () => json(net.hosts[0]!, 'master', ['status', DOMAIN], homes.master!);

  async function get(from: Host, server: string): Promise<any> {
    const result = await net.exec(from, ['curl', '-s', '--max-time', '5', `http://${hostOf(server).address}:8088/hello/`]);
    if (result.exitCode !== 0) throw new Error(`curl from host ${from.index} to ${server}: exit ${result.exitCode}`);
    return JSON.parse(result.stdout);
  }

  it('serves across hosts, survives the MASTER\'s host being cut off, and restarts a killed server through its node\'s exec', async () => {
    for (const name of ['master', ...SERVERS]) homes[name] = await tempHome();
    const [masterHost] = net.hosts;
    const created = await run('master', ['create-domain', DOMAIN, '--home', homes.master!]);
    expect(created.exitCode, created.stderr).toBe(0);
    const dir = join(homes.master!, 'domains', DOMAIN);
    await cp(join(repoRoot, 'examples', 'hello'), join(dir, 'apps', 'hello'), { recursive: true });
    const group = `239.192.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
    const bin = join(repoRoot, 'node_modules', '.bin');
    // Each remote node runs `managed` from this install, in its own home: what ssh to a machine
    // with Flotilla on its PATH and FLOTILLA_HOME set would do.
    const exec = (server: string) => `ip netns exec ${hostOf(server).ns} env FLOTILLA_HOME=${homes[server]} PATH=${bin}:${process.env.PATH}`;
    await writeFile(
      join(dir, 'config', 'domain.json5'),
      `{
  name: "${DOMAIN}",
  master: { name: "adminServer", node: "node1", address: "${masterHost!.address}", port: 9736 },
  nodes: {
    node1: { host: "${masterHost!.address}" },
${SERVERS.map((s, i) => `    node${i + 2}: { host: "${hostOf(s).address}", exec: "${exec(s)}" },`).join('\n')}
  },
  servers: {
${SERVERS.map((s, i) => `    ${s}: { node: "node${i + 2}", address: "${hostOf(s).address}", port: 9746, http: 8088 },`).join('\n')}
  },
  clusters: { cluster1: { servers: [${SERVERS.map((s) => `"${s}"`).join(', ')}] } },
  heartbeat: { mode: "multicast", group: "${group}", port: ${20_000 + Math.floor(Math.random() * 40_000)} },
  applications: { hello: { context: "/hello", targets: ["cluster1"] } },
}
`,
    );
    const keyFile = join(dir, 'config', 'security', 'domain.key');

    net.startBinary(masterHost!, 'master', ['start', DOMAIN, '--home', homes.master!]);
    await waitFor('the MASTER', async () => (await masterTable()).servers[0].status === 'RUNNING', DEADLINE_MS);
    const pids: Record<string, number> = {};
    for (const server of SERVERS) {
      const child = net.startBinary(hostOf(server), 'managed', [
        'start', DOMAIN, server, '--home', homes[server]!, '--master', `${masterHost!.address}:9736`, '--key-file', keyFile,
      ]);
      pids[server] = child.pid!;
    }
    for (const server of SERVERS) {
      await waitFor(`${server} MANAGED`, async () => (await serverStatus(server)).mode === 'MANAGED', DEADLINE_MS);
      await waitFor(`hello on ${server}`, async () => (await get(masterHost!, server)).server === server, DEADLINE_MS);
    }
    await waitFor('both RUNNING in the MASTER\'s table', async () =>
      (await masterTable()).servers.filter((row: any) => !row.master && row.status === 'RUNNING').length === 2, DEADLINE_MS);

    // The MASTER's host falls off the network: the servers carry on, INDEPENDENT, and keep serving.
    await net.cutLink(masterHost!);
    for (const server of SERVERS) {
      await waitFor(`${server} INDEPENDENT`, async () => {
        const status = await serverStatus(server);
        return status.mode === 'INDEPENDENT' && status.reason === 'master-connection-lost';
      }, DEADLINE_MS);
    }
    expect((await get(hostOf('server2'), 'server1')).server).toBe('server1');
    await net.restoreLink(masterHost!);
    for (const server of SERVERS) {
      await waitFor(`${server} MANAGED again`, async () => (await serverStatus(server)).mode === 'MANAGED', DEADLINE_MS);
    }

    // server2's process dies: the MASTER sees it FAILED and starts it again on host 3.
    process.kill(pids.server2!, 'SIGKILL');
    await waitFor('server2 RUNNING again with a new PID', async () => {
      const row = (await masterTable()).servers.find((r: any) => r.name === 'server2');
      return row.status === 'RUNNING' && row.pid > 0 && row.pid !== pids.server2;
    }, DEADLINE_MS);
    expect((await serverStatus('server2')).mode).toBe('MANAGED');
    expect((await get(masterHost!, 'server2')).server).toBe('server2');
  });
});
