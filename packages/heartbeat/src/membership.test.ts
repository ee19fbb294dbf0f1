import { describe, expect, it } from 'vitest';
import { DEFAULT_TIMINGS } from '@flotilla/core';
import type { HeartbeatTimings } from './config.js';
import { Membership, type MembershipEvent } from './membership.js';
import { decodePacket, encodePacket } from './packet.js';
import { SimNetwork } from './test-transport.js';

/**
 * The protocol on simulated time: deterministic (seeded loss, no real clock), and a minute of
 * protocol runs in a fraction of a second.
 */

const KEY = Buffer.alloc(32, 7);
const DOMAIN = 'domain1';

interface Sim {
  net: SimNetwork;
  members: Map<string, Membership>;
  /** Events seen by the observer, which every test watches the domain through. */
  events: MembershipEvent[];
  start(name: string, node?: string, keys?: { key: Buffer; rotatedFrom?: Buffer }): Promise<Membership>;
  eventsFor(server: string): string[];
  seen(server: string, kind: string): boolean;
}

async function simulate(
  names: string[],
  options: { loss?: number; shared?: boolean; seed?: number; config?: Partial<HeartbeatTimings> } = {},
): Promise<Sim> {
  const net = new SimNetwork({ seed: options.seed ?? 42, loss: options.loss ?? 0, shared: options.shared ?? true });
  const members = new Map<string, Membership>();
  const events: MembershipEvent[] = [];
  const start = async (name: string, node = name, observer = false, keys: { key: Buffer; rotatedFrom?: Buffer } = { key: KEY }) => {
    const membership = await Membership.start({
      domain: DOMAIN,
      self: { name, address: '127.0.0.1', ...(observer && { observer: true }) },
      ...keys,
      transport: net.transport(node),
      clock: net.clock(node),
      random: net.random,
      epoch: 1_000_000 + net.now,
      ...(options.config && { config: options.config }),
    });
    members.set(name, membership);
    return membership;
  };
  const observer = await start('observer', 'observer', true);
  observer.on('event', (event) => events.push(event));
  for (const name of names) await start(name);
  const sim: Sim = {
    net,
    members,
    events,
    start: (name, node, keys) => start(name, node, false, keys),
    eventsFor: (server) => events.filter((e) => e.server === server).map((e) => e.event),
    seen: (server, kind) => events.some((e) => e.server === server && e.event === kind),
  };
  net.runUntil('every member to know every other', () =>
    [...members.values()].every((m) => m.members({ observers: true }).filter((x) => x.state === 'ALIVE').length === members.size),
  );
  return sim;
}

/** Runs simulated time until an async operation (such as leave) completes. */
async function finish<T>(net: SimNetwork, operation: Promise<T>): Promise<T> {
  let done = false;
  void operation.finally(() => (done = true));
  for (let spins = 0; !done; spins++) {
    if (spins > 10_000) throw new Error('operation did not finish in 100 simulated seconds');
    net.advance(10);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return operation;
}

/** A `heartbeat watch` that has just started on `node`: a new process that remembers nothing. */
async function freshWatcher(sim: Sim, node: string): Promise<{ watcher: Membership; events: MembershipEvent[] }> {
  const events: MembershipEvent[] = [];
  const watcher = await Membership.start({
    domain: DOMAIN,
    self: { name: node, address: '127.0.0.1', observer: true },
    key: KEY,
    transport: sim.net.transport(node),
    clock: sim.net.clock(node),
    random: sim.net.random,
    epoch: 1_000_000 + sim.net.now,
  });
  watcher.on('event', (event) => events.push(event));
  return { watcher, events };
}

function failures(sim: Sim): MembershipEvent[] {
  return sim.events.filter((e) => e.event === 'failed');
}

describe('membership on the simulated network', () => {
  for (const shared of [true, false]) {
    const mode = shared ? 'multicast' : 'unicast';

    it(`${mode}: members find each other; the observer is never reported`, async () => {
      const sim = await simulate(['adminServer', 'server1', 'server2'], { shared });
      for (const name of ['adminServer', 'server1', 'server2']) expect(sim.eventsFor(name)).toEqual(['joined']);
      const view = sim.members.get('server1')!.members();
      expect(view.map((m) => m.name).sort()).toEqual(['adminServer', 'server1', 'server2']);
      expect(view.every((m) => m.status === 'RUNNING')).toBe(true);
      const events: MembershipEvent[] = [];
      sim.members.get('server1')!.on('event', (e) => events.push(e));
      sim.members.get('observer')!.stop();
      sim.net.advance(10_000);
      expect(events).toEqual([]);
    });

    it(`${mode}: a crashed member is suspected, then FAILED`, async () => {
      const sim = await simulate(['adminServer', 'server1', 'server2'], { shared });
      sim.net.crash('server2');
      const took = sim.net.runUntil('server2 to be FAILED', () => sim.seen('server2', 'failed'));
      expect(sim.eventsFor('server2')).toEqual(['joined', 'suspected', 'failed']);
      expect(took).toBeLessThan(1500);
      const failed = sim.events.find((e) => e.event === 'failed')!;
      expect(failed).toMatchObject({ domain: DOMAIN, server: 'server2', from: 'FAILURE_SUSPECTED', to: 'FAILED', incarnation: 0 });
      for (const name of ['adminServer', 'server1']) {
        sim.net.runUntil(`${name} to agree`, () => sim.members.get(name)!.member('server2')?.state === 'FAILED');
      }
      expect(failures(sim)).toHaveLength(1);
    });

    it(`${mode}: a graceful leave is "left", never "failed"`, async () => {
      const sim = await simulate(['adminServer', 'server1', 'server2'], { shared, loss: 0.2 });
      await finish(sim.net, sim.members.get('server1')!.leave());
      sim.net.runUntil('server1 to be SHUTDOWN', () => sim.seen('server1', 'left'));
      sim.net.advance(10_000);
      // Loss alone may raise (refuted) suspicions; a leave is never a failure.
      expect(sim.eventsFor('server1')).not.toContain('failed');
      expect(sim.eventsFor('server1').at(-1)).toBe('left');
      expect(sim.members.get('adminServer')!.member('server1')).toMatchObject({ state: 'LEFT', status: 'SHUTDOWN' });
    });
  }

  it('stop() during a leave ends the leave instead of leaving it pending', async () => {
    const sim = await simulate(['adminServer']);
    const member = sim.members.get('adminServer')!;
    const leaving = member.leave();
    await member.stop();
    await leaving;
    expect(member.member('adminServer')!.state).toBe('LEFT');
  });

  it('a suspected member that is alive refutes with a higher incarnation', async () => {
    const sim = await simulate(['adminServer', 'server1', 'server2']);
    sim.net.pause('server2');
    sim.net.runUntil('server2 to be suspected', () => sim.seen('server2', 'suspected'));
    sim.net.resume('server2');
    sim.net.runUntil('server2 to refute', () => sim.seen('server2', 'refuted'));
    sim.net.advance(5_000);
    expect(sim.eventsFor('server2')).toEqual(['joined', 'suspected', 'refuted']);
    expect(sim.events.find((e) => e.event === 'refuted')!.incarnation).toBe(1);
    expect(sim.members.get('server2')!.currentIncarnation).toBe(1);
  });

  it('a member stopped past its suspicion is FAILED, and rejoins with a higher incarnation', async () => {
    const sim = await simulate(['adminServer', 'server1', 'server2'], { shared: false });
    sim.net.pause('server2');
    sim.net.runUntil('server2 to be FAILED', () => sim.seen('server2', 'failed'));
    sim.net.advance(3_000);
    sim.net.resume('server2');
    sim.net.runUntil('server2 to rejoin', () => sim.seen('server2', 'rejoined'));
    const rejoined = sim.events.find((e) => e.event === 'rejoined')!;
    expect(rejoined).toMatchObject({ from: 'FAILED', to: 'RUNNING' });
    expect(rejoined.incarnation).toBeGreaterThan(0);
    sim.net.advance(5_000);
    expect(sim.eventsFor('server2')).toEqual(['joined', 'suspected', 'failed', 'rejoined']);
    // The stalled member accused no one of its own silence.
    expect(failures(sim)).toHaveLength(1);
  });

  it('a restarted member (new epoch) rejoins even though its incarnation starts again', async () => {
    const sim = await simulate(['adminServer', 'server1']);
    sim.net.crash('server1');
    sim.net.runUntil('server1 to be FAILED', () => sim.seen('server1', 'failed'));
    await sim.start('server1', 'server1-restarted');
    sim.net.runUntil('server1 to rejoin', () => sim.seen('server1', 'rejoined'));
    expect(sim.members.get('adminServer')!.member('server1')!.status).toBe('RUNNING');
  });

  for (const [mode, shared] of [['multicast', true], ['unicast', false]] as const) {
    it(`${mode}: 20% packet loss for ten minutes brings no false FAILED`, async () => {
      const sim = await simulate(['adminServer', 'server1', 'server2', 'server3', 'server4'], { shared, loss: 0.2, seed: 7 });
      sim.net.advance(600_000);
      expect(failures(sim)).toEqual([]);
      // Loss is not silence: a real failure is still found.
      sim.net.crash('server3');
      sim.net.runUntil('server3 to be FAILED despite the loss', () => sim.seen('server3', 'failed'), 5_000);
    });
  }

  it('400 ms stalls of a member every 2 s, under 20% loss, bring no false FAILED', async () => {
    const sim = await simulate(['adminServer', 'server1', 'server2', 'server3'], { loss: 0.2, seed: 3 });
    for (let i = 0; i < 150; i++) {
      sim.net.pause('server2');
      sim.net.advance(400);
      sim.net.resume('server2');
      sim.net.advance(1_600);
    }
    expect(failures(sim)).toEqual([]);
    expect(sim.seen('server2', 'suspected')).toBe(true);
  });

  it('a helper that is itself unhealthy still nacks in time: its score does not spread to the members it helps', async () => {
    const sim = await simulate(['server1', 'server2', 'server3', 'server4', 'server5']);
    // A stall of its own raises server2's local-health score; then a member dies, and every probe
    // of it asks helpers, server2 among them, for indirect pings.
    sim.net.pause('server2');
    sim.net.advance(300);
    sim.net.resume('server2');
    sim.net.advance(1);
    expect(sim.members.get('server2')!.health).toBeGreaterThan(0);
    sim.net.crash('server5');
    let worst = 0;
    sim.net.runUntil('server5 to be FAILED', () => {
      for (const [name, m] of sim.members) if (name !== 'server2' && name !== 'server5') worst = Math.max(worst, m.health);
      return sim.seen('server5', 'failed');
    }, 5_000, 1);
    // Nacks are due within the requester's round whatever the helper's own score; a late one would
    // count as missing and raise the requester's score in turn.
    expect(worst).toBe(0);
  });

  it('detects a crash in well under a second (median) over many runs', async () => {
    const times: number[] = [];
    for (let seed = 1; seed <= 40; seed++) {
      const sim = await simulate(['adminServer', 'server1', 'server2', 'server3'], { seed });
      sim.net.advance(1000 + seed * 37);
      sim.net.crash('server1');
      times.push(sim.net.runUntil('server1 to be FAILED', () => sim.seen('server1', 'failed'), 5_000, 1));
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    expect(median).toBeLessThan(750);
    expect(times.at(-1)!).toBeLessThan(1500);
  });
});

describe('packets that must be dropped', () => {
  it('replayed, forged, foreign-domain, oversize and malformed packets are dropped and counted', async () => {
    const sim = await simulate(['adminServer', 'server1']);
    // Probes go from member to member: only a packet adminServer did receive is a replay to it.
    const captured: Buffer[] = [];
    sim.net.tap((packet, from, to) => {
      if (from === 'server1' && (to === 'adminServer' || to === 'all')) captured.push(packet);
    });
    sim.net.advance(1_000);
    const target = sim.members.get('adminServer')!;
    const before = target.stats();
    const packet = captured.at(-1)!;

    sim.net.inject('adminServer', packet); // replay
    const forged = Buffer.from(packet);
    forged[forged.length - 40]! ^= 1; // a byte of the body: the MAC no longer matches
    sim.net.inject('adminServer', forged);
    const decoded = decodePacket(KEY, DOMAIN, packet);
    if (!decoded.ok) throw new Error('captured packet does not decode');
    const { sender, messages } = decoded.packet;
    sim.net.inject('adminServer', encodePacket(KEY, 'otherDomain', { ...sender, seq: sender.seq + 1000 }, messages).packet);
    sim.net.inject('adminServer', Buffer.concat([packet, Buffer.alloc(1500)]));
    sim.net.inject('adminServer', Buffer.from('FLHB garbage, not a heartbeat at all'));
    sim.net.advance(10);

    const after = target.stats();
    expect(after.dropped.replay - before.dropped.replay).toBe(1);
    expect(after.dropped.badSignature - before.dropped.badSignature).toBe(1);
    expect(after.dropped.foreignDomain - before.dropped.foreignDomain).toBe(1);
    expect(after.dropped.oversize - before.dropped.oversize).toBe(1);
    expect(after.dropped.malformed - before.dropped.malformed).toBe(1);
  });

  it('a refutation that never arrived, replayed once its sender is FAILED, does not bring it back', async () => {
    const sim = await simulate(['adminServer', 'server1', 'server2']);
    const neverDelivered: Buffer[] = [];
    let capturing = false;
    sim.net.tap((packet, from) => {
      if (capturing && from === 'server1') neverDelivered.push(packet);
    });
    sim.net.pause('server1');
    sim.net.runUntil('server1 to be suspected', () => sim.seen('server1', 'suspected'));
    // server1 runs again and refutes, but an attacker on the path swallows (and keeps) every packet.
    sim.net.loss = 1;
    capturing = true;
    sim.net.resume('server1');
    sim.net.advance(50);
    sim.net.crash('server1');
    sim.net.loss = 0;
    expect(neverDelivered.length).toBeGreaterThan(0);
    sim.net.runUntil('server1 to be FAILED', () => sim.seen('server1', 'failed'));

    for (const packet of neverDelivered) sim.net.inject('observer', packet);
    sim.net.advance(2_000);
    expect(sim.eventsFor('server1')).toEqual(['joined', 'suspected', 'failed']);
    expect(sim.members.get('observer')!.member('server1')!.status).toBe('FAILED');
  });

  it('a replayed leave of an earlier run does not take a restarted member down', async () => {
    const sim = await simulate(['adminServer', 'server1']);
    const leavePackets: Buffer[] = [];
    sim.net.tap((packet, from) => {
      const decoded = decodePacket(KEY, DOMAIN, packet);
      if (from === 'server1' && decoded.ok && decoded.packet.messages.some((m) => m.type === 'leave')) leavePackets.push(packet);
    });
    await finish(sim.net, sim.members.get('server1')!.leave());
    sim.net.runUntil('server1 to leave', () => sim.seen('server1', 'left'));
    await sim.start('server1', 'server1-again');
    sim.net.runUntil('server1 to come back', () => sim.eventsFor('server1').length === 3);
    expect(sim.eventsFor('server1')).toEqual(['joined', 'left', 'joined']);

    for (const packet of leavePackets) sim.net.inject('observer', packet);
    sim.net.advance(2_000);
    expect(sim.members.get('observer')!.member('server1')!.status).toBe('RUNNING');
    expect(sim.members.get('observer')!.stats().dropped.replay).toBeGreaterThanOrEqual(leavePackets.length);
  });

  it('a packet signed with another key is a forgery even with the right domain name', async () => {
    const sim = await simulate(['adminServer']);
    const sender = { name: 'intruder', epoch: 1, incarnation: 0, seq: 1, address: '127.0.0.1', port: 1 };
    sim.net.inject('adminServer', encodePacket(Buffer.alloc(32, 9), DOMAIN, sender, [{ type: 'dead', server: 'observer', epoch: 1, incarnation: 99, from: 'intruder' }]).packet);
    sim.net.advance(1_000);
    expect(sim.members.get('adminServer')!.stats().dropped.badSignature).toBe(1);
    expect(sim.members.get('adminServer')!.member('intruder')).toBeUndefined();
  });

  it('a key rotation reaching the members one by one, seconds apart, drops no packet and suspects no one; after the grace the old key is a forgery', async () => {
    const sim = await simulate(['adminServer', 'server1', 'server2']);
    sim.net.advance(2_000);
    const forgeries = () => [...sim.members.values()].reduce((sum, member) => sum + member.stats().dropped.badSignature, 0);
    const before = forgeries();
    const next = Buffer.alloc(32, 8);
    // The MASTER hands the key to its servers in parallel and takes it itself: on a busy machine,
    // or across hundreds of servers, the deliveries land seconds apart.
    for (const name of ['adminServer', 'server1', 'server2', 'observer']) {
      sim.members.get(name)!.rekey(next);
      sim.net.advance(1_000);
    }
    sim.net.advance(DEFAULT_TIMINGS.rekeySwitchMs + 2_000);
    expect(forgeries()).toBe(before);
    expect(sim.events.filter((event) => event.event === 'suspected' || event.event === 'failed')).toEqual([]);
    sim.net.advance(DEFAULT_TIMINGS.rekeyGraceMs);
    const sender = { name: 'intruder', epoch: 1, incarnation: 0, seq: 1, address: '127.0.0.1', port: 1 };
    sim.net.inject('adminServer', encodePacket(KEY, DOMAIN, sender, [{ type: 'dead', server: 'server1', epoch: 1, incarnation: 99, from: 'intruder' }]).packet);
    sim.net.advance(1_000);
    expect(forgeries()).toBe(before + 1);
    expect(sim.members.get('server1')!.member('server2')?.state).toBe('ALIVE');
  });

  it('a member that missed a rotation and joins with the new key is taken at once, and takes the old key the others still sign with', async () => {
    const sim = await simulate(['adminServer', 'server1']);
    sim.net.advance(2_000);
    const next = Buffer.alloc(32, 8);
    for (const member of sim.members.values()) member.rekey(next);
    sim.net.advance(1_000);
    // server2 was stopped during the rotation; at its start it refreshed its key from the MASTER.
    const late = await sim.start('server2', undefined, { key: next, rotatedFrom: KEY });
    sim.net.runUntil('server2 to be seen alive', () => sim.members.get('observer')!.member('server2')?.state === 'ALIVE');
    sim.net.advance(DEFAULT_TIMINGS.rekeySwitchMs + 2_000);
    expect(late.stats().dropped.badSignature).toBe(0);
    expect(sim.events.filter((event) => event.event === 'suspected' || event.event === 'failed')).toEqual([]);
  });
});

describe('replay protection across a restart of the receiver', () => {
  for (const shared of [true, false]) {
    const mode = shared ? 'multicast' : 'unicast';

    it(`${mode}: a dead member's packets, replayed to a watcher that has just started, never show it alive`, async () => {
      const sim = await simulate(['adminServer', 'server1'], { shared });
      const capture = new Map<string, Buffer[]>([['server1', []], ['adminServer', []]]);
      sim.net.tap((packet, from) => capture.get(from)?.push(packet));
      sim.net.advance(6_000);
      sim.net.crash('server1');
      sim.net.runUntil('server1 to be FAILED', () => sim.seen('server1', 'failed'));
      const sentBeforeRestart = { server1: [...capture.get('server1')!], adminServer: [...capture.get('adminServer')!] };
      expect(sentBeforeRestart.server1.length).toBeGreaterThan(50);

      await sim.members.get('observer')!.stop();
      const { watcher, events } = await freshWatcher(sim, 'watcher-restarted');
      // The replayer resends everything server1 sent while it was alive, a packet every 5 ms: its
      // pings, its acks (of the old watcher's challenges too), its gossip and its announcements.
      for (const packet of sentBeforeRestart.server1) {
        sim.net.inject('watcher-restarted', packet);
        sim.net.advance(5);
      }
      sim.net.advance(2_000);
      expect(events.filter((e) => e.server === 'server1')).toEqual([]);
      expect(watcher.member('server1')).toBeUndefined();
      // Meanwhile the live member proved itself with one round trip and joined.
      expect(events.filter((e) => e.server === 'adminServer').map((e) => e.event)).toEqual(['joined']);

      // What the live member sent before it answered the new watcher's challenge is refused too.
      const before = watcher.stats().dropped.replay;
      for (const packet of sentBeforeRestart.adminServer) sim.net.inject('watcher-restarted', packet);
      sim.net.advance(10);
      expect(watcher.stats().dropped.replay - before).toBe(sentBeforeRestart.adminServer.length);
      expect(watcher.member('adminServer')!.status).toBe('RUNNING');
    });

    it(`${mode}: members join a watcher that has just started within one announcement, under 20% loss too`, async () => {
      for (const loss of [0, 0.2]) {
        for (let seed = 1; seed <= 20; seed++) {
          const sim = await simulate(['adminServer', 'server1', 'server2'], { shared, seed });
          sim.net.loss = loss;
          const { watcher } = await freshWatcher(sim, 'watcher-restarted');
          const took = sim.net.runUntil(
            'every member to join the new watcher',
            () => watcher.members().filter((m) => m.status === 'RUNNING').length === 3,
            5_000,
            1,
          );
          expect(took).toBeLessThan(loss ? 2_500 : 100);
        }
      }
    });
  }
});
