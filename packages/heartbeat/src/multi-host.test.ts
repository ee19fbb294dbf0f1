import { writeFile } from 'node:fs/promises';
import { domainLayout } from '@flotilla/core';
import type { ResultPromise } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { binaryPath, killPid, run, tempHome, waitFor } from '@flotilla/test-support';
import { createNetwork, netnsSupport, type Host, type Network } from '@flotilla/test-support/netns';

/**
 * The `heartbeat` binary across hosts: every host is a Linux network namespace (@flotilla/test-support/netns)
 * with its own address on a bridge, so heartbeats cross a real (virtual) link, multicast included,
 * and links can be cut and packets dropped with nftables. The MASTER's host (host 1) runs
 * `heartbeat watch --json`; hosts 2..4 run `heartbeat join --as s1..s3`. Every wait polls.
 *
 * Skipped only where the machine does not allow network namespaces (not root, or refused).
 */

const support = await netnsSupport();
if (!support.ok) console.warn(`multi-host heartbeat tests skipped: ${support.reason}`);

const SERVERS = ['s1', 's2', 's3'] as const;
type Server = (typeof SERVERS)[number];
/** How long 20% loss must cause no FAILED. */
const SOAK_MS = 60_000;
/** A generous deadline for anything the heartbeats should do in about a second. */
const DEADLINE_MS = 30_000;

interface Event {
  time: string;
  domain: string;
  server: string;
  event: string;
  from: string;
  to: string;
  incarnation: number;
}

/** A `heartbeat watch` or `heartbeat join` process on a host, and what it printed. */
interface Proc {
  label: string;
  host: Host;
  child: ResultPromise;
  events: () => Event[];
  stderr: () => string;
  /** It ended without the test ending it. */
  exited: () => boolean;
  /** Ends it by PID; its exit is then expected. */
  kill: (signal: NodeJS.Signals) => void;
  saw: (server: string, event: string, after?: number) => Event | undefined;
}

interface Domain {
  home: string;
  name: string;
}

describe.skipIf(!support.ok)('heartbeat across hosts (network namespaces)', () => {
  let net: Network;
  let procs: Proc[] = [];
  const hostOf = (server: Server) => net.hosts[1 + SERVERS.indexOf(server)]!;

  beforeAll(async () => {
    net = await createNetwork(1 + SERVERS.length);
  });

  afterEach(async () => {
    for (const proc of procs) killPid(proc.child.pid, 'SIGKILL');
    await Promise.all(procs.map((proc) => proc.child));
    procs = [];
    await net?.reset();
  });

  afterAll(async () => {
    await net?.destroy();
  });

  /** A domain made by the MASTER binary, its configuration rewritten for the namespace hosts. */
  async function createDomain(mode: 'multicast' | 'unicast'): Promise<Domain> {
    const home = await tempHome();
    const name = 'hbnet';
    const created = await run('master', ['create-domain', name, '--home', home, ...SERVERS.flatMap((s, i) => ['--server', `${s}:${18081 + i}`])]);
    expect(created.stderr).toBe('');
    expect(created.exitCode).toBe(0);
    // Namespaces are private, but the group and port are still unique to the run: a mistake in
    // the harness then cannot make two runs hear each other.
    const group = `239.192.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    const [master, ...others] = net.hosts;
    const config = `// Written by multi-host.test.ts: MASTER on host 1, one server per other host.
{
  name: "${name}",
  master: { name: "adminServer", node: "node1", address: "${master!.address}", port: 9736 },
  nodes: {
${net.hosts.map((h) => `    node${h.index}: { host: "${h.address}" },`).join('\n')}
  },
  servers: {
${SERVERS.map((s, i) => `    ${s}: { node: "node${others[i]!.index}", address: "${others[i]!.address}", port: 9746, http: ${18081 + i} },`).join('\n')}
  },
  clusters: { cluster1: { servers: [${SERVERS.map((s) => `"${s}"`).join(', ')}] } },
  heartbeat: { mode: "${mode}", group: "${group}", port: ${port} },
}
`;
    await writeFile(domainLayout(home, name).configFile, config);
    return { home, name };
  }

  function spawn(label: string, host: Host, args: string[]): Proc {
    const child = net.startBinary(host, 'heartbeat', args);
    let out = '';
    let err = '';
    let exited = false;
    let killed = false;
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    void child.finally(() => (exited = true));
    const events = () =>
      out
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Event);
    const proc: Proc = {
      label,
      host,
      child,
      events,
      stderr: () => err,
      exited: () => exited && !killed,
      kill: (signal) => {
        killed = true;
        killPid(child.pid, signal);
      },
      saw: (server, event, after = -1) => events().find((e, i) => i > after && e.server === server && e.event === event),
    };
    procs.push(proc);
    return proc;
  }

  const watch = (domain: Domain) => spawn('watcher', net.hosts[0]!, ['watch', domain.name, '--home', domain.home, '--json']);
  const join = (domain: Domain, server: Server) =>
    spawn(server, hostOf(server), ['join', domain.name, '--home', domain.home, '--as', server, '--json']);

  /** Everything the processes said, for a failure message. */
  function transcript(): string {
    return procs
      .map((p) => {
        const events = p.events().map((e) => `    ${e.time} ${e.server} ${e.event} ${e.from}->${e.to} #${e.incarnation}`);
        return [`  ${p.label} on ${p.host.ns} (${p.host.address})${p.exited() ? ' EXITED' : ''}:`, ...events, `    stderr: ${p.stderr().trim()}`].join('\n');
      })
      .join('\n');
  }

  /** waitFor, with what every process saw in the message when it times out. */
  type Maybe<T> = T | undefined | false;
  async function until<T>(what: string, check: () => Maybe<T> | Promise<Maybe<T>>, timeoutMs = DEADLINE_MS): Promise<T> {
    try {
      return (await waitFor(what, () => {
        const exited = procs.find((p) => p.exited());
        if (exited) throw new Error(`${exited.label} exited: ${exited.stderr()}`);
        return check();
      }, timeoutMs, 100)) as T;
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${transcript()}`);
    }
  }

  /** Fails with the transcript unless `ok`. */
  function expectTrue(ok: boolean, what: string): void {
    if (!ok) expect.fail(`${what}\n${transcript()}`);
  }

  const eventsAbout = (proc: Proc, server: string) => proc.events().filter((e) => e.server === server).map((e) => e.event);
  const failedAbout = (proc: Proc, servers: readonly string[]) => proc.events().filter((e) => servers.includes(e.server) && e.event === 'failed');

  /** Starts the watcher on the MASTER's host and s1..s3 on hosts 2..4, and waits until everyone sees everyone. */
  async function startAll(domain: Domain): Promise<{ watcher: Proc; members: Record<Server, Proc> }> {
    const watcher = watch(domain);
    const members = Object.fromEntries(SERVERS.map((s) => [s, join(domain, s)])) as Record<Server, Proc>;
    await until('the watcher on host 1 to see s1, s2 and s3 join', () => SERVERS.every((s) => watcher.saw(s, 'joined')));
    for (const s of SERVERS) {
      const others = SERVERS.filter((o) => o !== s);
      await until(`${s} to see ${others.join(' and ')} join`, () => others.every((o) => members[s].saw(o, 'joined')));
    }
    return { watcher, members };
  }

  it('multicast across hosts: members on three hosts and a watcher on the MASTER\'s host all see each other', async () => {
    const domain = await createDomain('multicast');
    const { watcher, members } = await startAll(domain);

    // Each member joined on its own host's interface, and was heard from there.
    for (const s of SERVERS) expect(members[s].stderr()).toContain(`on interface ${hostOf(s).address}`);
    const ping = await until('heartbeat ping on host 1 to hear the three servers', async () => {
      const result = await net.exec(net.hosts[0]!, [process.execPath, binaryPath('heartbeat'), 'ping', domain.name, '--home', domain.home, '--wait', '2500', '--json']);
      if (result.exitCode !== 0) return undefined;
      const parsed = JSON.parse(result.stdout) as { heard: Array<{ name: string; status: string; address: string }>; missing: string[] };
      return parsed.heard.length === SERVERS.length ? parsed : undefined;
    });
    expect(Object.fromEntries(ping.heard.map((m) => [m.name, [m.status, m.address]]))).toEqual(
      Object.fromEntries(SERVERS.map((s) => [s, ['RUNNING', hostOf(s).address]])),
    );
    expect(ping.missing).toEqual(['adminServer']);

    // The watcher reports servers only, each joined once, and nothing failed.
    expect(watcher.events().every((e) => (SERVERS as readonly string[]).includes(e.server))).toBe(true);
    for (const s of SERVERS) expect(eventsAbout(watcher, s)).toEqual(['joined']);
    for (const proc of [watcher, ...Object.values(members)]) expectTrue(failedAbout(proc, SERVERS).length === 0, `${proc.label} reported a failure`);
  });

  it('a host whose link is cut becomes FAILED at the watcher while the others stay up, and rejoins when the link is back', async () => {
    const domain = await createDomain('multicast');
    const { watcher, members } = await startAll(domain);
    const others = SERVERS.filter((s) => s !== 's2');

    await net.cutLink(hostOf('s2'));
    await until('s2 (link cut) to be reported FAILED by the watcher', () => watcher.saw('s2', 'failed'));
    for (const s of others) await until(`${s} to see s2 FAILED`, () => members[s].saw('s2', 'failed'));
    expect(watcher.saw('s2', 'failed')).toMatchObject({ from: 'FAILURE_SUSPECTED', to: 'FAILED' });
    // The cut-off member, for its part, loses everyone.
    await until('s2 to see s1 and s3 FAILED', () => others.every((o) => members.s2.saw(o, 'failed')));
    expectTrue(failedAbout(watcher, others).length === 0, 'the watcher reported a member on a working link FAILED');

    const failedAt = watcher.events().findIndex((e) => e.server === 's2' && e.event === 'failed');
    await net.restoreLink(hostOf('s2'));
    const rejoined = await until('s2 to rejoin at the watcher once its link is back', () => watcher.saw('s2', 'rejoined', failedAt));
    expect(rejoined).toMatchObject({ from: 'FAILED', to: 'RUNNING' });
    expect(rejoined.incarnation).toBeGreaterThan(watcher.saw('s2', 'failed')!.incarnation);
    for (const s of others) await until(`${s} to see s2 rejoin`, () => members[s].saw('s2', 'rejoined'));
    // The healed partition heals both ways: s2 hears s1 and s3 again.
    await until('s2 to see s1 and s3 rejoin', () => others.every((o) => members.s2.saw(o, 'rejoined')));

    // Nobody on the side that kept its link was ever declared FAILED, before or after the heal.
    expectTrue(failedAbout(watcher, others).length === 0, 'the watcher reported a member on a working link FAILED');
    for (const s of others) expectTrue(failedAbout(members[s], others).length === 0, `${s} reported a member on a working link FAILED`);
  });

  it('unicast with multicast dropped on every host: members still see each other, and a SIGKILLed one is FAILED', async () => {
    const domain = await createDomain('unicast');
    for (const host of net.hosts) await net.setFilters(host, { dropMulticast: true });
    const { watcher, members } = await startAll(domain);
    for (const s of SERVERS) expect(members[s].stderr()).toContain(`unicast on ${hostOf(s).address}:`);

    members.s3.kill('SIGKILL');
    const failed = await until('s3 (SIGKILL) to be reported FAILED by the watcher', () => watcher.saw('s3', 'failed'));
    expect(failed).toMatchObject({ domain: domain.name, server: 's3', from: 'FAILURE_SUSPECTED', to: 'FAILED' });
    for (const s of ['s1', 's2'] as const) await until(`${s} to see s3 FAILED`, () => members[s].saw('s3', 'failed'));
    expectTrue(failedAbout(watcher, ['s1', 's2']).length === 0, 'the watcher reported a live member FAILED');
    for (const s of ['s1', 's2'] as const) expectTrue(failedAbout(members[s], ['s1', 's2']).length === 0, `${s} reported a live member FAILED`);
  });

  it(`20% packet loss on every host for ${SOAK_MS / 1000} s: no member is ever declared FAILED`, { timeout: SOAK_MS + 90_000 }, async () => {
    const domain = await createDomain('multicast');
    for (const host of net.hosts) await net.setFilters(host, { lossPercent: 20 });
    const { watcher, members } = await startAll(domain);

    // A duration, not a synchronisation: the members must stay up all along. Exits fail at once.
    const soakEnd = Date.now() + SOAK_MS;
    await until('the soak to end', () => Date.now() >= soakEnd, SOAK_MS + 10_000);

    // The loss was real: every host's rule dropped packets.
    for (const host of net.hosts) expect(await net.dropped(host), `packets dropped on ${host.ns}`).toBeGreaterThan(0);
    // Suspicions that are refuted are what loss is expected to cause; FAILED never.
    const all = [watcher, ...Object.values(members)];
    const suspected = Object.fromEntries(all.map((p) => [p.label, p.events().filter((e) => e.event === 'suspected').length]));
    console.info(`20% loss for ${SOAK_MS / 1000} s: suspicions raised per observer (none became FAILED): ${JSON.stringify(suspected)}`);
    expectTrue(failedAbout(watcher, SERVERS).length === 0, 'the watcher declared a live member FAILED under 20% loss');
    for (const proc of Object.values(members)) expectTrue(failedAbout(proc, SERVERS).length === 0, `${proc.label} declared a live member FAILED under 20% loss`);
    for (const s of SERVERS) expect(eventsAbout(watcher, s).filter((e) => e !== 'suspected' && e !== 'refuted')).toEqual(['joined']);
  });
});
