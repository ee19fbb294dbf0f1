import { describe, expect, it } from 'vitest';
import { Membership } from './membership.js';
import { SimNetwork } from './test-transport.js';

/**
 * The scale contract (docs/contract.md#scale) on the simulated network (real protocol code, simulated wire and time): a
 * member's packets and the failure detection time at 512 members stay within 1.3x of those at 32,
 * and a partition of half the group heals. The 512 members start together, which costs every
 * member about three packets per other member once (each pair proves itself live to each other:
 * liveness-challenge.ts); the figures are taken after that. The price is wall time: about 400 000
 * signed packets to start, then a partition that fails and mends 256 members on each side, a
 * couple of minutes of CPU on a loaded machine (of which the start is a third).
 */

const KEY = Buffer.alloc(32, 9);

interface Group {
  net: SimNetwork;
  members: Map<string, Membership>;
  /** When each member first saw each server FAILED: `${by} ${server}` to simulated ms. */
  failedAt: Map<string, number>;
  allSeeAllAlive(): boolean;
}

async function group(count: number, shared: boolean): Promise<Group> {
  const net = new SimNetwork({ seed: 7, shared });
  const members = new Map<string, Membership>();
  const failedAt = new Map<string, number>();
  for (let i = 1; i <= count; i++) {
    const name = `server${i}`;
    const membership = await Membership.start({
      domain: 'scale',
      self: { name, address: '127.0.0.1' },
      key: KEY,
      transport: net.transport(name),
      clock: net.clock(name),
      random: net.random,
      epoch: 1_000_000 + net.now,
    });
    membership.on('failed', (event) => failedAt.set(`${name} ${event.server}`, net.now));
    members.set(name, membership);
  }
  const allSeeAllAlive = () => [...members.values()].every((m) => m.members().every((x) => x.state === 'ALIVE') && m.members().length === count);
  net.runUntil(`${count} members to know each other`, allSeeAllAlive, 60_000, 50);
  return { net, members, failedAt, allSeeAllAlive };
}

/** Packets sent and received per member per second over `seconds` of steady state. */
function packetRates(g: Group, seconds: number): { sent: number; received: number } {
  const list = [...g.members.values()];
  const before = list.map((m) => m.stats());
  g.net.advance(seconds * 1000);
  const after = list.map((m) => m.stats());
  const sum = (field: 'packetsSent' | 'packetsReceived') => after.reduce((total, s, i) => total + s[field] - before[i]![field], 0);
  return { sent: sum('packetsSent') / list.length / seconds, received: sum('packetsReceived') / list.length / seconds };
}

/**
 * Crashes `trials` members one after another, each at a different phase of the probe period, and
 * measures how long until a fixed watcher member sees it FAILED.
 */
function detectionTimes(g: Group, trials: number): number[] {
  const names = [...g.members.keys()];
  const watcher = names[0]!;
  const times: number[] = [];
  for (let trial = 1; trial <= trials; trial++) {
    const victim = names[names.length - trial]!;
    g.net.advance(300 + trial * 37);
    g.net.crash(victim);
    const crashedAt = g.net.now;
    g.net.runUntil(`${victim} to be FAILED`, () => g.failedAt.has(`${watcher} ${victim}`), 10_000, 5);
    times.push(g.failedAt.get(`${watcher} ${victim}`)! - crashedAt);
    g.members.delete(victim);
  }
  return times.sort((a, b) => a - b);
}

const median = (sorted: number[]) => sorted[Math.floor(sorted.length / 2)]!;

async function measure(count: number, shared: boolean, trials: number) {
  const g = await group(count, shared);
  // Until the news of everyone starting has been piggybacked its retransmitLimit times.
  g.net.advance(5_000);
  const rates = packetRates(g, 5);
  const times = detectionTimes(g, trials);
  return { g, rates, times };
}

describe('heartbeat at 512 members (simulated)', () => {
  it('per-member packets and detection time at 512 stay within 1.3x of 32; half the group cut off and healed converges', async () => {
    const small = await measure(32, true, 15);
    for (const m of small.g.members.values()) await m.stop();
    const large = await measure(512, true, 7);

    const ratio = (a: number, b: number) => a / b;
    const report = `32: ${JSON.stringify(small.rates)} detection ${small.times.join(',')}; 512: ${JSON.stringify(large.rates)} detection ${large.times.join(',')}`;
    expect(ratio(large.rates.sent, small.rates.sent), report).toBeLessThan(1.3);
    expect(ratio(large.rates.received, small.rates.received), report).toBeLessThan(1.3);
    expect(ratio(median(large.times), median(small.times)), report).toBeLessThan(1.3);
    expect(median(small.times), report).toBeLessThan(1_000);

    // Half of what is left is cut off until each side holds the other FAILED, then the network heals.
    const { net, members, failedAt } = large.g;
    const names = [...members.keys()];
    const half = names.slice(0, names.length / 2);
    failedAt.clear();
    net.partition(half);
    net.runUntil('each side to hold the other FAILED', () => failedAt.has(`${names[0]} ${names.at(-1)}`) && failedAt.has(`${names.at(-1)} ${names[0]}`), 20_000, 50);
    net.advance(2_000);
    net.heal();
    net.runUntil('every member to see every other ALIVE again', () =>
      [...members.values()].every((m) => m.members().filter((x) => x.state === 'ALIVE' && members.has(x.name)).length === members.size),
    60_000, 500);
    for (const m of members.values()) await m.stop();
  }, 600_000);
});
