import { createSocket, type Socket } from 'node:dgram';
import { readFile, writeFile } from 'node:fs/promises';
import { domainLayout } from '@flotilla/core';
import type { ResultPromise } from 'execa';
import { describe, expect, it } from 'vitest';
import { killPid, onCleanup, run, start, tempHome, waitFor } from '@flotilla/test-support';

/**
 * SPEC section 13 with real processes: 24 bare members (`heartbeat join`, the built binary) on
 * 127.0.0.1, in unicast and in multicast mode (interface 127.0.0.1, TTL 1), send and receive per
 * member within 1.3x of what 8 do. The counters are the binary's own, read with SIGUSR2 twice over
 * a window of steady state, so that joining (a few packets per other member, once) is left out.
 */

const WINDOW_MS = 8_000;

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

async function createDomain(mode: 'multicast' | 'unicast', servers: string[]): Promise<{ home: string; domain: string }> {
  const home = await tempHome();
  const domain = 'scale1';
  const created = await run('master', ['create-domain', domain, '--home', home, ...servers.flatMap((s, i) => ['--server', `${s}:${19081 + i}`])]);
  expect(created.exitCode, created.stderr).toBe(0);
  // Test files run side by side: each domain gets its own group and port.
  const group = `239.193.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
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
  return { home, domain };
}

interface Running {
  child: ResultPromise;
  /** Counter lines (`NAME: sent N packets, received M; …`) printed so far. */
  counters: () => Array<{ sent: number; received: number }>;
  joinedBy: () => Set<string>;
}

function join(home: string, domain: string, name: string): Running {
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
  const members = servers.map((name) => join(home, domain, name));
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
