import { execFile } from 'node:child_process';
import { cp, mkdir, realpath, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binaryPath, repoRoot, run, tempHome, waitFor } from '@flotilla/test-support';
import { createNetwork, netnsSupport, type Host, type Network } from '@flotilla/test-support/netns';

/**
 * Adding a node (docs/operations.md): the tarball `npm run pack-node` makes, installed with
 * `npm install -g --prefix` into an empty directory on a namespace host, from a directory outside
 * the checkout and without the registry (--offline: the tarball bundles everything). Every binary
 * runs from there, and a server started with it joins the domain.
 */

const support = await netnsSupport();
if (!support.ok) console.warn(`install tests skipped: ${support.reason}`);

const BINARIES = ['master', 'managed', 'pack-domain', 'unpack-domain', 'set-domain-backup', 'heartbeat'];
/** Packing runs npm pack for every package and installs the bundle's dependencies: minutes on a busy machine. */
const PACK_TIMEOUT_MS = 8 * 60_000;
const DEADLINE_MS = 45_000;

describe.skipIf(!support.ok)('installing on a fresh node (network namespaces)', () => {
  let net: Network;
  beforeAll(async () => {
    net = await createNetwork(2);
  });
  afterAll(async () => {
    await net?.destroy();
  });

  it('the packed tarball installs into an empty prefix; every binary runs from there; a server started with it joins the domain', { timeout: PACK_TIMEOUT_MS + 3 * 60_000 }, async () => {
    const [masterHost, node] = net.hosts as [Host, Host];
    const out = await tempHome();
    const { stdout } = await promisify(execFile)(process.execPath, [join(repoRoot, 'scripts', 'pack-node.mjs'), out], { timeout: PACK_TIMEOUT_MS });
    const tarball = stdout.trim();
    expect(tarball.startsWith(out)).toBe(true);

    // The node: an empty prefix, the tarball copied there, nothing of the checkout on its PATH.
    const prefix = await tempHome();
    const nodeHome = await tempHome();
    const copied = join(nodeHome, 'flotilla.tgz');
    await cp(tarball, copied);
    const path = [join(prefix, 'bin'), dirname(process.execPath), '/usr/bin', '/bin'].join(':');
    const env = { PATH: path, FLOTILLA_HOME: nodeHome, npm_config_cache: join(nodeHome, '.npm') };
    const installed = await net.exec(node, ['npm', 'install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', copied], { cwd: nodeHome, env, extendEnv: false, timeout: 5 * 60_000 });
    expect(installed.exitCode, installed.stderr).toBe(0);
    for (const binary of BINARIES) {
      const version = await net.exec(node, [binary, '--version'], { cwd: nodeHome, env, extendEnv: false });
      expect(version.exitCode, `${binary}: ${version.stderr}`).toBe(0);
      expect(version.stdout.trim()).toBe('0.1.0');
      const help = await net.exec(node, [binary, '--help'], { cwd: nodeHome, env, extendEnv: false });
      expect(help.exitCode, `${binary} --help: ${help.stderr}`).toBe(0);
      expect((await realpath(join(prefix, 'bin', binary))).startsWith(repoRoot)).toBe(false);
    }

    // The domain's MASTER on host 1 (from the checkout); the node's server from the install.
    const masterHome = await tempHome();
    expect((await run('master', ['create-domain', 'inst1', '--home', masterHome])).exitCode).toBe(0);
    const dir = join(masterHome, 'domains', 'inst1');
    await mkdir(join(dir, 'apps'), { recursive: true });
    await cp(join(repoRoot, 'examples', 'hello'), join(dir, 'apps', 'hello'), { recursive: true });
    await writeFile(
      join(dir, 'config', 'domain.json5'),
      `{
  name: "inst1",
  master: { name: "adminServer", node: "node1", address: "${masterHost.address}", port: 9736 },
  nodes: { node1: { host: "${masterHost.address}" }, node2: { host: "${node.address}" } },
  servers: { server1: { node: "node2", address: "${node.address}", port: 9746, http: 8088, autoRestart: false } },
  clusters: {},
  heartbeat: { mode: "multicast", group: "239.194.${1 + Math.floor(Math.random() * 250)}.7", port: ${20_000 + Math.floor(Math.random() * 40_000)} },
  applications: { hello: { context: "/hello", targets: ["server1"] } },
}
`,
    );
    const keyCopy = join(nodeHome, 'domain.key');
    await cp(join(dir, 'config', 'security', 'domain.key'), keyCopy);
    net.startBinary(masterHost, 'master', ['start', 'inst1', '--home', masterHome]);
    const status = async () => {
      // Inside host 1: the MASTER listens on its address there.
      const result = await net.exec(masterHost, [process.execPath, binaryPath('master'), 'status', 'inst1', '--home', masterHome, '--json']);
      return result.exitCode === 0 ? JSON.parse(result.stdout) : undefined;
    };
    await waitFor('the MASTER', async () => (await status()) !== undefined, DEADLINE_MS);
    net.spawn(node, ['managed', 'start', 'inst1', 'server1', '--master', `${masterHost.address}:9736`, '--key-file', keyCopy], { cwd: nodeHome, env, extendEnv: false });
    await waitFor('server1, run from the install, RUNNING and MANAGED in the MASTER\'s table', async () => {
      const row = (await status())?.servers.find((r: any) => r.name === 'server1');
      return row?.status === 'RUNNING' && row.mode === 'MANAGED';
    }, DEADLINE_MS);
    const answer = await net.exec(masterHost, ['curl', '-s', '--max-time', '5', `http://${node.address}:8088/hello/`]);
    expect(JSON.parse(answer.stdout).server).toBe('server1');
  });
});
