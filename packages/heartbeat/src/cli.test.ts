import { createSocket, type Socket } from 'node:dgram';
import { readFile, writeFile } from 'node:fs/promises';
import { domainLayout, readDomainKey } from '@flotilla/core';
import type { ResultPromise } from 'execa';
import { describe, expect, it } from 'vitest';
import { killPid, onCleanup, run, start, tempHome, waitFor } from '@flotilla/test-support';
import { decodePacket, encodePacket } from './packet.js';

/**
 * The `heartbeat` binary with real processes and real UDP on loopback: members are `heartbeat join`
 * processes, watched by `heartbeat watch --json`. Every wait polls; nothing sleeps a fixed time.
 */

const SERVERS = ['s1', 's2', 's3'];

interface Watched {
  child: ResultPromise;
  lines: () => Array<Record<string, unknown>>;
  stderr: () => string;
  saw: (server: string, event: string) => Record<string, unknown> | undefined;
}

async function freeUdpPorts(count: number): Promise<number[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i++) {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    sockets.push(socket);
  }
  const ports = sockets.map((s) => s.address().port);
  for (const socket of sockets) socket.close();
  return ports;
}

async function createDomain(mode: 'multicast' | 'unicast', servers = SERVERS): Promise<{ home: string; domain: string; group: string; port: number }> {
  const home = await tempHome();
  const domain = 'hb1';
  const created = await run('master', ['create-domain', domain, '--home', home, ...servers.flatMap((s, i) => ['--server', `${s}:${18081 + i}`])]);
  expect(created.stderr).toBe('');
  expect(created.exitCode).toBe(0);
  // Test files run side by side: each domain gets its own group and port.
  const group = `239.192.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
  const [port] = await freeUdpPorts(1);
  const file = domainLayout(home, domain).configFile;
  const text = await readFile(file, 'utf8');
  let edited = text.replace(/heartbeat: \{[^}]*\}/, `heartbeat: { mode: "${mode}", group: "${group}", port: ${port}, interface: "127.0.0.1", ttl: 1 }`);
  if (mode === 'unicast') {
    // Unicast members on one address each need their own UDP port (the configuration checks it).
    const own = await freeUdpPorts(servers.length + 1);
    edited = edited.replace(/port: 9736 \}/, `port: 9736, heartbeatPort: ${own[0]} }`);
    servers.forEach((server, i) => {
      edited = edited.replace(new RegExp(`(${server}: \\{[^}]*http: \\d+)`), `$1, heartbeatPort: ${own[i + 1]}`);
    });
  }
  expect(edited).not.toBe(text);
  await writeFile(file, edited);
  return { home, domain, group, port: port! };
}

function watch(args: string[]): Watched {
  const child = start('heartbeat', ['watch', ...args, '--json']);
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const lines = () =>
    out
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { child, lines, stderr: () => err, saw: (server, event) => lines().find((l) => l.server === server && l.event === event) };
}

function member(args: string[]): ResultPromise {
  return start('heartbeat', ['join', ...args]);
}

function eventsOf(watched: Watched, server: string): string[] {
  return watched.lines().filter((l) => l.server === server).map((l) => String(l.event));
}

/** The whole life of a server as the watcher must report it: crash, stop and resume, graceful stop. */
async function exerciseFailures(watched: Watched, members: Record<string, ResultPromise>): Promise<void> {
  for (const server of SERVERS) await waitFor(`${server} to be seen joining`, () => watched.saw(server, 'joined'));

  killPid(members.s1!.pid, 'SIGKILL');
  const failed = await waitFor('s1 to be reported FAILED', () => watched.saw('s1', 'failed'));
  expect(Object.keys(failed)).toEqual(['time', 'domain', 'server', 'event', 'from', 'to', 'incarnation']);
  expect(failed).toMatchObject({ domain: 'hb1', server: 's1', event: 'failed', from: 'FAILURE_SUSPECTED', to: 'FAILED' });
  expect(failed.incarnation).toEqual(expect.any(Number));
  expect(Number.isNaN(Date.parse(String(failed.time)))).toBe(false);

  killPid(members.s2!.pid, 'SIGSTOP');
  onCleanup(() => killPid(members.s2!.pid, 'SIGCONT'));
  await waitFor('s2 to be reported FAILED while stopped', () => watched.saw('s2', 'failed'));
  killPid(members.s2!.pid, 'SIGCONT');
  const rejoined = await waitFor('s2 to rejoin after SIGCONT', () => watched.saw('s2', 'rejoined'));
  expect(rejoined).toMatchObject({ from: 'FAILED', to: 'RUNNING' });
  expect(rejoined.incarnation).toBeGreaterThan(0);

  killPid(members.s3!.pid, 'SIGTERM');
  await waitFor('s3 to be reported as left', () => watched.saw('s3', 'left'));
  expect((await members.s3!).exitCode).toBe(0);
  expect(eventsOf(watched, 's3')).not.toContain('failed');
  expect(watched.saw('s3', 'left')).toMatchObject({ from: 'RUNNING', to: 'SHUTDOWN' });

  // The watcher itself never shows up, and ends as docs/contract.md#commands says.
  expect(watched.lines().every((l) => SERVERS.includes(String(l.server)))).toBe(true);
  killPid(watched.child.pid, 'SIGINT');
  expect((await watched.child).exitCode).toBe(130);
}

describe('heartbeat watch and join over real UDP', () => {
  it('multicast on 127.0.0.1: crash → failed, stop/cont → rejoined, SIGTERM → left', async () => {
    const { home, domain } = await createDomain('multicast');
    const watched = watch([domain, '--home', home]);
    const members = Object.fromEntries(SERVERS.map((s) => [s, member([domain, '--home', home, '--as', s])]));
    await exerciseFailures(watched, members);
  });

  it('unicast with explicit peers: the same life, the same events', async () => {
    const { home, domain } = await createDomain('unicast');
    const ports = await freeUdpPorts(4);
    const peers = (except: number) => ports.filter((_, i) => i !== except).flatMap((p) => ['--peer', `127.0.0.1:${p}`]);
    const members = Object.fromEntries(
      SERVERS.map((s, i) => [s, member([domain, '--home', home, '--as', s, '--port', String(ports[i]), ...peers(i)])]),
    );
    const watched = watch([domain, '--home', home, '--port', String(ports[3]), ...peers(3)]);
    await exerciseFailures(watched, members);
  });

  it('ignores replayed, forged and foreign-domain packets sent from a raw socket, and counts them', async () => {
    const { home, domain, group, port } = await createDomain('multicast');
    const key = await readDomainKey(domainLayout(home, domain).keyFile);
    const raw = createSocket({ type: 'udp4', reuseAddr: true });
    onCleanup(() => {
      raw.close();
    });
    const captured: Buffer[] = [];
    await new Promise<void>((resolve) => raw.bind({ port, address: group }, resolve));
    raw.setMulticastInterface('127.0.0.1');
    raw.addMembership(group, '127.0.0.1');
    raw.on('message', (packet) => {
      const decoded = decodePacket(key, domain, packet);
      if (decoded.ok && decoded.packet.sender.name === 's1') captured.push(packet);
    });

    const watched = watch([domain, '--home', home]);
    const s1 = member([domain, '--home', home, '--as', 's1']);
    const s2 = member([domain, '--home', home, '--as', 's2']);
    await waitFor('s1 and s2 to join', () => watched.saw('s1', 'joined') && watched.saw('s2', 'joined'));
    // Packets sent before the watcher listened would be new to it, not replays.
    captured.length = 0;
    await waitFor('some packets of s1 to be captured', () => captured.length >= 5);
    killPid(s1.pid, 'SIGKILL');
    await waitFor('s1 to be reported FAILED', () => watched.saw('s1', 'failed'));

    const send = (packet: Buffer) => new Promise<void>((resolve, reject) => raw.send(packet, port, group, (e) => (e ? reject(e) : resolve())));
    // Replays of the dead member's packets must not bring it back.
    for (const packet of captured.slice(-5)) await send(packet);
    // A forgery (someone without the key) and a foreign domain's packet declare s2 gone.
    const decoded = decodePacket(key, domain, captured.at(-1)!);
    if (!decoded.ok) throw new Error('captured packet does not decode');
    const sender = { ...decoded.packet.sender, name: 'intruder', epoch: Date.now(), seq: 1 };
    const leaveOfS2 = [{ type: 'dead' as const, server: 's2', epoch: Number.MAX_SAFE_INTEGER, incarnation: 0, from: 'intruder' }];
    await send(encodePacket(Buffer.alloc(32, 1), domain, sender, leaveOfS2).packet);
    await send(encodePacket(key, 'otherDomain', { ...sender, seq: 2 }, leaveOfS2).packet);

    killPid(watched.child.pid, 'SIGTERM');
    const ended = await watched.child;
    expect(ended.exitCode).toBe(0);
    expect(watched.stderr()).toMatch(/dropped .*5 replay/);
    expect(watched.stderr()).toMatch(/1 badSignature/);
    expect(watched.stderr()).toMatch(/1 foreignDomain/);
    expect(eventsOf(watched, 's1').at(-1)).toBe('failed');
    expect(eventsOf(watched, 's2')).not.toContain('failed');
    expect(eventsOf(watched, 's2')).not.toContain('left');
    killPid(s2.pid, 'SIGTERM');
    expect((await s2).exitCode).toBe(0);
  });

  it('unicast: a dead member\'s packets, replayed to a watcher that restarted, never show it joined', async () => {
    const { home, domain } = await createDomain('unicast');
    const key = await readDomainKey(domainLayout(home, domain).keyFile);
    const [s1Port, s2Port, s3Port, watchPort] = await freeUdpPorts(4);
    const peer = (port: number) => ['--peer', `127.0.0.1:${port}`];
    // The replayer is one of s1's peers: it receives what s1 announces to every peer it knows.
    const replayer = createSocket('udp4');
    onCleanup(() => {
      replayer.close();
    });
    await new Promise<void>((resolve) => replayer.bind(0, '127.0.0.1', resolve));
    const captured: Buffer[] = [];
    replayer.on('message', (packet) => {
      const decoded = decodePacket(key, domain, packet);
      if (decoded.ok && decoded.packet.sender.name === 's1') captured.push(packet);
    });
    const watchArgs = [domain, '--home', home, '--port', String(watchPort!), ...peer(s1Port!), ...peer(s2Port!)];

    const firstWatch = watch(watchArgs);
    const s1 = member([domain, '--home', home, '--as', 's1', '--port', String(s1Port!), ...peer(s2Port!), ...peer(watchPort!), ...peer(replayer.address().port)]);
    member([domain, '--home', home, '--as', 's2', '--port', String(s2Port!), ...peer(s1Port!), ...peer(watchPort!)]);
    await waitFor('s1 and s2 to join', () => firstWatch.saw('s1', 'joined') && firstWatch.saw('s2', 'joined'));
    await waitFor('three packets of s1 to be captured', () => captured.length >= 3);
    killPid(s1.pid, 'SIGKILL');
    await waitFor('s1 to be reported FAILED', () => firstWatch.saw('s1', 'failed'));

    // The watcher restarts where it listened before, with nothing remembered.
    killPid(firstWatch.child.pid, 'SIGTERM');
    expect((await firstWatch.child).exitCode).toBe(0);
    const restarted = watch(watchArgs);
    await waitFor('the restarted watcher to see s2 join', () => restarted.saw('s2', 'joined'));
    const replays = [...captured, ...captured, ...captured];
    for (const packet of replays) {
      await new Promise<void>((resolve, reject) => replayer.send(packet, watchPort!, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
    }
    // A member that starts now still joins; its packets come after the replays, so by the time it
    // is reported, the watcher has read every replay.
    member([domain, '--home', home, '--as', 's3', '--port', String(s3Port!), ...peer(watchPort!)]);
    await waitFor('s3 to join the restarted watcher', () => restarted.saw('s3', 'joined'));

    killPid(restarted.child.pid, 'SIGTERM');
    expect((await restarted.child).exitCode).toBe(0);
    expect(eventsOf(restarted, 's1')).toEqual([]);
    // The first copy of each was new to the restarted watcher (and not believed); the others were replays.
    const droppedReplays = Number(/(\d+) replay/.exec(restarted.stderr())?.[1]);
    expect(droppedReplays).toBeGreaterThanOrEqual(replays.length - captured.length);
  });

  it('ping lists the members it hears, and exits 3 when it hears none', async () => {
    const { home, domain } = await createDomain('multicast');
    const alone = await run('heartbeat', ['ping', domain, '--home', home, '--wait', '300']);
    expect(alone.exitCode).toBe(3);
    expect(alone.stderr).toMatch(/no member of domain hb1 was heard/);

    member([domain, '--home', home, '--as', 's1']);
    member([domain, '--home', home, '--as', 'adminServer']);
    const result = await waitFor('ping to hear both members', async () => {
      const r = await run('heartbeat', ['ping', domain, '--home', home, '--wait', '1500', '--json']);
      const parsed = JSON.parse(r.stdout) as { heard: Array<{ name: string; status: string }>; missing: string[] };
      return r.exitCode === 0 && parsed.heard.length === 2 ? parsed : undefined;
    });
    expect(result.heard.map((m) => m.name).sort()).toEqual(['adminServer', 's1']);
    expect(result.heard.every((m) => m.status === 'RUNNING')).toBe(true);
    expect(result.missing.sort()).toEqual(['s2', 's3']);
  });

  it('refuses a member name that is not a valid name, with exit 2', async () => {
    const { home, domain } = await createDomain('multicast');
    const result = await run('heartbeat', ['join', domain, '--home', home, '--as', 'bad/name']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/bad\/name/);
  });
});

/**
 * The scale contract (docs/contract.md#scale) with real processes: 24 bare members (`heartbeat join`) on 127.0.0.1, in unicast
 * and in multicast mode (interface 127.0.0.1, TTL 1), send and receive per member within 1.3x of
 * what 8 do. The counters are the binary's own, read with SIGUSR2 twice over a window of steady
 * state, so that joining (a few packets per other member, once) is left out.
 */
const WINDOW_MS = 8_000;

interface Running {
  child: ResultPromise;
  /** Counter lines (`NAME: sent N packets, received M; …`) printed so far. */
  counters: () => Array<{ sent: number; received: number }>;
  joinedBy: () => Set<string>;
}

function scaleMember(home: string, domain: string, name: string): Running {
  const child = start('heartbeat', ['join', domain, '--home', home, '--as', name, '--json']);
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  onCleanup(() => killPid(child.pid));
  return {
    child,
    counters: () => [...err.matchAll(/: sent (\d+) packets, received (\d+);/g)].map((m) => ({ sent: Number(m[1]), received: Number(m[2]) })),
    joinedBy: () =>
      new Set(
        out
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as { server: string; event: string })
          .filter((e) => e.event === 'joined' || e.event === 'rejoined')
          .map((e) => e.server),
      ),
  };
}

/** Packets sent and received per member per second over WINDOW_MS, once all know all. */
async function perMember(mode: 'multicast' | 'unicast', count: number): Promise<{ sent: number; received: number }> {
  const servers = Array.from({ length: count }, (_, i) => `s${i + 1}`);
  const { home, domain } = await createDomain(mode, servers);
  const members = servers.map((name) => scaleMember(home, domain, name));
  try {
    await waitFor(`${count} ${mode} members to see each other join`, () => members.every((m) => m.joinedBy().size >= count - 1), 90_000, 200);
    const read = async (reading: number) => {
      for (const m of members) killPid(m.child.pid, 'SIGUSR2');
      await waitFor(`every member's counters (${reading})`, () => members.every((m) => m.counters().length >= reading), 20_000);
      return members.map((m) => m.counters()[reading - 1]!);
    };
    // Until the news of everyone starting has been piggybacked (a few seconds): steady state.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const before = await read(1);
    const startedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
    const after = await read(2);
    const seconds = (Date.now() - startedAt) / 1000;
    const sum = (field: 'sent' | 'received') => after.reduce((total, c, i) => total + c[field] - before[i]![field], 0);
    return { sent: sum('sent') / count / seconds, received: sum('received') / count / seconds };
  } finally {
    for (const m of members) killPid(m.child.pid);
  }
}

describe('heartbeat join processes at 8 and 24 members', () => {
  for (const mode of ['unicast', 'multicast'] as const) {
    it(`${mode}: a member's packets at 24 are within 1.3x of those at 8`, async () => {
      const small = await perMember(mode, 8);
      const large = await perMember(mode, 24);
      const report = `8: ${JSON.stringify(small)}; 24: ${JSON.stringify(large)}`;
      expect(small.sent, report).toBeGreaterThan(5);
      expect(large.sent / small.sent, report).toBeLessThan(1.3);
      expect(large.received / small.received, report).toBeLessThan(1.3);
    }, 240_000);
  }
});
