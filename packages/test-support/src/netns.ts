/**
 * Several "hosts" on one machine, for tests that need a real network between processes: each host is
 * a Linux network namespace with one address, joined to the others by a bridge that lives in a
 * namespace of its own (the "switch"), so nothing is added to, or changed in, the machine's own
 * network. Processes run inside a host with `ip netns exec`, which execs them: the PID that the
 * test holds is the process's own, and it ends it by that PID. Links are cut with `ip link`, loss,
 * partitions and dropped multicast are nftables rules inside the host (`tc netem` is not on every
 * machine). Everything created is named with a prefix unique to the run, `flt<4 random>-p<pid>-`,
 * and deleted by `destroy()`; what a crashed earlier run left behind (its PID is gone) is deleted by
 * `netnsSupport()` before anything new is made.
 *
 * Needs root, iproute2 and nftables (the CI script installs both). See docs/multi-host-testing.md.
 */
import { randomBytes } from 'node:crypto';
import { isAlive } from '@flotilla/core';
import { execa, type Options, type ResultPromise } from 'execa';
import { binaryPath, killPid, type Binary, type RunResult } from './index.js';

const NAME_PREFIX = 'flt';
/** `flt` + 4 random characters + `-p` + the PID of the test process that owns the namespaces. */
const OWNED = /^flt[0-9a-z]{4}-p(\d+)-/;

export interface Host {
  /** 1-based, as in the test's prose: host 1 is `hosts[0]`. */
  index: number;
  /** The namespace's name. */
  ns: string;
  /** The host's IPv4 address on the bridge. */
  address: string;
  /** The host's interface (inside its namespace). */
  iface: string;
  /** The bridge port of this host (inside the switch namespace): cutting it cuts the host off. */
  switchPort: string;
}

/** What the nftables table `inet flt` of a host drops; `{}` drops nothing (the table is removed). */
export interface HostFilters {
  /** Percentage (0..100) of UDP packets arriving from the network dropped at random. */
  lossPercent?: number;
  /** Drop every multicast packet, in and out (a network without multicast, as in most clouds). */
  dropMulticast?: boolean;
  /** Drop everything but loopback, in and out: the host is partitioned away, its link stays up. */
  isolate?: boolean;
}

export interface NetnsSupport {
  ok: boolean;
  /** Why the multi-host tests cannot run here, when `ok` is false. */
  reason?: string;
}

export interface Network {
  /** The unique prefix of everything this network created. */
  readonly prefix: string;
  readonly hosts: Host[];
  /** The namespace that holds the bridge. */
  readonly switchNs: string;
  /** The subnet, e.g. `10.231.57.0/24`. */
  readonly subnet: string;
  /** Runs a command to completion inside a host; never throws on a non-zero exit. */
  exec(host: Host, command: string[], options?: Options): Promise<RunResult>;
  /** Starts a long-running command inside a host; its `pid` is the command's own. Ended by `destroy()` at the latest. */
  spawn(host: Host, command: string[], options?: Options): ResultPromise;
  /** Starts one of the repository's binaries (`node packages/X/bin/X.js ...`) inside a host. */
  startBinary(host: Host, binary: Binary, args: string[], options?: Options): ResultPromise;
  /** Takes the host's bridge port down: the host's interface loses its carrier. */
  cutLink(host: Host): Promise<void>;
  restoreLink(host: Host): Promise<void>;
  /** Replaces the host's nftables rules with these (see HostFilters). */
  setFilters(host: Host, filters: HostFilters): Promise<void>;
  /** Packets the host's rules dropped so far (0 without rules): proof that a filter was in force. */
  dropped(host: Host): Promise<number>;
  /** Links up and no rules on every host, as after creation. */
  reset(): Promise<void>;
  /** Ends every process started in the hosts (by PID) and deletes the namespaces, with their links, bridge and rules. */
  destroy(): Promise<void>;
}

/** Runs a command in the machine's own namespace (only `ip netns ...` / `ip -n ...` are run so). */
async function sh(command: string[], options: Options = {}): Promise<RunResult> {
  const result = await execa(command[0]!, command.slice(1), { reject: false, stdin: 'ignore', timeout: 30_000, ...options });
  if (result.failed && result.exitCode === undefined) {
    // Not started at all (missing binary) or timed out.
    const missing = (result as { code?: string }).code === 'ENOENT';
    throw new Error(
      missing
        ? `${command[0]} is not installed: the multi-host tests need iproute2 and nftables (apt-get install -y iproute2 nftables)`
        : `${command.join(' ')}: ${result.message}`,
    );
  }
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

async function must(command: string[], options: Options = {}): Promise<RunResult> {
  const result = await sh(command, options);
  if (result.exitCode !== 0) throw new Error(`${command.join(' ')} exited ${result.exitCode}: ${result.stderr.trim() || result.stdout.trim()}`);
  return result;
}

async function namespaces(): Promise<string[]> {
  const listed = await must(['ip', 'netns', 'list']);
  return listed.stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

/** Ends the processes still running inside a namespace (ours: only our tests start any there), then deletes it. */
async function deleteNamespace(ns: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const pids = (await sh(['ip', 'netns', 'pids', ns])).stdout
      .split(/\s+/)
      .filter(Boolean)
      .map(Number)
      .filter((pid) => pid > 1 && pid !== process.pid);
    if (!pids.length) break;
    for (const pid of pids) killPid(pid, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const deleted = await sh(['ip', 'netns', 'delete', ns]);
  if (deleted.exitCode !== 0 && (await namespaces()).includes(ns)) {
    throw new Error(`ip netns delete ${ns} exited ${deleted.exitCode}: ${deleted.stderr.trim()}`);
  }
}

/** Deletes what runs of these tests left behind when they crashed: namespaces whose owning PID is gone. */
export async function removeLeftovers(): Promise<string[]> {
  const stale = (await namespaces()).filter((ns) => {
    const owner = OWNED.exec(ns);
    return owner && !isAlive(Number(owner[1]));
  });
  // Hosts before switches does not matter: deleting either end of a veth deletes the pair.
  for (const ns of stale) await deleteNamespace(ns);
  return stale;
}

function uniquePrefix(): string {
  const letters = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const random = [...randomBytes(4)].map((b) => letters[b % letters.length]).join('');
  return `${NAME_PREFIX}${random}-p${process.pid}-`;
}

/**
 * Whether this machine lets us create network namespaces: false (with the reason) only when it does
 * not permit it (not root, or the kernel/container refuses). Also removes leftovers of crashed runs.
 * Any other failure (iproute2 missing, for example) is thrown: the tests must then fail, not skip.
 */
export async function netnsSupport(): Promise<NetnsSupport> {
  if (process.platform !== 'linux') return { ok: false, reason: `network namespaces are Linux only (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'creating network namespaces needs root' };
  await removeLeftovers();
  const probe = `${uniquePrefix()}probe`;
  const added = await sh(['ip', 'netns', 'add', probe]);
  if (added.exitCode !== 0) {
    if (/not permitted|permission denied|EPERM|EACCES|read-only file system/i.test(added.stderr)) {
      await sh(['ip', 'netns', 'delete', probe]);
      return { ok: false, reason: `this machine does not allow network namespaces: ip netns add: ${added.stderr.trim()}` };
    }
    throw new Error(`ip netns add ${probe} exited ${added.exitCode}: ${added.stderr.trim()}`);
  }
  await deleteNamespace(probe);
  return { ok: true };
}

export interface NetworkOptions {
  /** Third octet of the 10.231.X.0/24 subnet; random by default. It exists only inside the namespaces. */
  subnet?: number;
}

/**
 * Creates `count` hosts `10.231.X.1` .. `10.231.X.count`, each in its own namespace with loopback up,
 * one interface on the bridge and a multicast route on it, and the bridge in a switch namespace.
 * Multicast snooping is off on the bridge, so the group reaches every port like a plain hub.
 */
export async function createNetwork(count: number, options: NetworkOptions = {}): Promise<Network> {
  if (count < 1 || count > 250) throw new RangeError(`createNetwork: 1 to 250 hosts, not ${count}`);
  const prefix = uniquePrefix();
  const octet = options.subnet ?? 1 + Math.floor(Math.random() * 254);
  const subnet = `10.231.${octet}.0/24`;
  const switchNs = `${prefix}sw`;
  const created: string[] = [];
  const hosts: Host[] = Array.from({ length: count }, (_, i) => ({
    index: i + 1,
    ns: `${prefix}h${i + 1}`,
    address: `10.231.${octet}.${i + 1}`,
    iface: 'eth0',
    switchPort: `port${i + 1}`,
  }));
  const filters = new Map<string, HostFilters>();
  const children = new Set<ResultPromise>();

  const destroy = async () => {
    for (const child of children) killPid(child.pid, 'SIGKILL');
    await Promise.all([...children].map((child) => child.catch(() => undefined)));
    children.clear();
    const errors: string[] = [];
    for (const ns of created.reverse()) await deleteNamespace(ns).catch((error: Error) => errors.push(error.message));
    created.length = 0;
    if (errors.length) throw new Error(`could not delete every namespace: ${errors.join('; ')}`);
  };

  try {
    await must(['ip', 'netns', 'add', switchNs]);
    created.push(switchNs);
    await must(['ip', '-n', switchNs, 'link', 'set', 'lo', 'up']);
    await must(['ip', '-n', switchNs, 'link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0', 'stp_state', '0']);
    await must(['ip', '-n', switchNs, 'link', 'set', 'br0', 'up']);
    for (const host of hosts) {
      await must(['ip', 'netns', 'add', host.ns]);
      created.push(host.ns);
      // Both ends are made inside our namespaces: the machine's own never sees them.
      await must(['ip', '-n', switchNs, 'link', 'add', host.switchPort, 'type', 'veth', 'peer', 'name', host.iface, 'netns', host.ns]);
      await must(['ip', '-n', switchNs, 'link', 'set', host.switchPort, 'master', 'br0', 'up']);
      await must(['ip', '-n', host.ns, 'link', 'set', 'lo', 'up']);
      await must(['ip', '-n', host.ns, 'addr', 'add', `${host.address}/24`, 'dev', host.iface]);
      await must(['ip', '-n', host.ns, 'link', 'set', host.iface, 'up']);
      await must(['ip', '-n', host.ns, 'route', 'add', '224.0.0.0/4', 'dev', host.iface]);
    }
  } catch (error) {
    await destroy().catch(() => undefined);
    throw error;
  }

  const inside = (host: Host, command: string[]) => ['ip', 'netns', 'exec', host.ns, ...command];

  const network: Network = {
    prefix,
    hosts,
    switchNs,
    subnet,
    exec: (host, command, options = {}) => sh(inside(host, command), options),
    spawn(host, command, options = {}) {
      const child = execa(inside(host, command)[0]!, inside(host, command).slice(1), { reject: false, stdin: 'ignore', ...options });
      children.add(child);
      void child.finally(() => children.delete(child));
      return child;
    },
    startBinary(host, binary, args, options = {}) {
      return network.spawn(host, [process.execPath, binaryPath(binary), ...args], {
        ...options,
        env: { FLOTILLA_HOME: '', ...options.env },
      });
    },
    async cutLink(host) {
      await must(['ip', '-n', switchNs, 'link', 'set', host.switchPort, 'down']);
    },
    async restoreLink(host) {
      await must(['ip', '-n', switchNs, 'link', 'set', host.switchPort, 'up']);
    },
    async setFilters(host, wanted) {
      const rules = nftRules(wanted);
      // Declaring the table first makes the delete valid whether or not it exists; one atomic batch.
      const script = ['table inet flt', 'delete table inet flt', ...(rules ? [rules] : [])].join('\n');
      await must(inside(host, ['nft', '-f', '-']), { input: script, stdin: 'pipe' });
      filters.set(host.ns, wanted);
    },
    async dropped(host) {
      const listed = await sh(inside(host, ['nft', 'list', 'table', 'inet', 'flt']));
      if (listed.exitCode !== 0) return 0;
      return [...listed.stdout.matchAll(/counter packets (\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
    },
    async reset() {
      for (const host of hosts) {
        await network.restoreLink(host);
        if (filters.has(host.ns)) {
          await network.setFilters(host, {});
          filters.delete(host.ns);
        }
      }
    },
    destroy,
  };
  return network;
}

/** The table `inet flt` for these filters, or nothing when nothing is dropped. */
function nftRules({ lossPercent = 0, dropMulticast = false, isolate = false }: HostFilters): string | undefined {
  if (!Number.isInteger(lossPercent) || lossPercent < 0 || lossPercent > 100) throw new RangeError(`lossPercent ${lossPercent}: 0 to 100`);
  const input: string[] = [];
  const output: string[] = [];
  if (isolate) {
    input.push('iifname != "lo" counter drop');
    output.push('oifname != "lo" counter drop');
  }
  if (dropMulticast) {
    input.push('ip daddr 224.0.0.0/4 counter drop');
    output.push('ip daddr 224.0.0.0/4 counter drop');
  }
  // Loss on the way in only, from the network only: a packet between two hosts crosses one such
  // rule, so `lossPercent` is the loss of each hop.
  if (lossPercent > 0) input.push(`iifname != "lo" meta l4proto udp numgen random mod 100 < ${lossPercent} counter drop`);
  if (!input.length && !output.length) return undefined;
  const chain = (name: string, hook: string, rules: string[]) =>
    `  chain ${name} {\n    type filter hook ${hook} priority 0; policy accept;\n${rules.map((r) => `    ${r}\n`).join('')}  }`;
  return `table inet flt {\n${chain('input', 'input', input)}\n${chain('output', 'output', output)}\n}`;
}
