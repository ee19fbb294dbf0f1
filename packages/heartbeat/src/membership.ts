import { EventEmitter, on } from 'node:events';
import type { HeartbeatGossipMessage, HeartbeatMessage, HeartbeatMeta, HeartbeatPacket, HeartbeatSender } from '@flotilla/core';
import { Awareness } from './awareness.js';
import { systemClock, type Clock } from './clock.js';
import { resolveTimings, retransmitLimit, suspicionBounds, type HeartbeatTimings } from './config.js';
import { GossipQueue } from './gossip.js';
import { LivenessChallenges, randomNonce } from './liveness-challenge.js';
import { decodePacket, encodePacket, type DropReason } from './packet.js';
import { ReplayGuard } from './replay.js';
import { STATUS_OF, applyClaim, compareVersions, type Claim, type MemberRecord, type MemberState, type MembershipEventKind, type ServerStatus, type Transition, type Version } from './state.js';
import { Suspicion } from './suspicion.js';
import { endpointKey, type Endpoint, type Transport } from './transport.js';
import { MulticastTransport, type MulticastTransportOptions } from './udp-multicast.js';
import { UnicastTransport, type UnicastTransportOptions } from './udp-unicast.js';

export type TransportOptions = MulticastTransportOptions | UnicastTransportOptions;

export interface MemberIdentity {
  /** The server's name in the domain (or any unique name for an observer). */
  name: string;
  /** Where this member receives heartbeats; for multicast, the interface address. */
  address?: string;
  meta?: HeartbeatMeta;
  /**
   * An observer (`heartbeat watch`, a tool) probes and is probed like any member, but it is not a
   * server: no event is ever raised about it and `members()` leaves it out.
   */
  observer?: boolean;
}

export interface Logger {
  warn(message: string): void;
  info?(message: string): void;
  debug?(message: string): void;
}

export interface MembershipOptions {
  domain: string;
  self: MemberIdentity;
  /** The domain key: packets are signed and checked with it. */
  key: Buffer;
  /** A transport, or the options of a UDP one. */
  transport: Transport | TransportOptions;
  config?: Partial<HeartbeatTimings>;
  logger?: Logger;
  /** Simulated time in tests; the system clock otherwise. */
  clock?: Clock;
  /** Seeded randomness in tests, challenge nonces included; otherwise Math.random, and crypto for nonces. */
  random?: () => number;
  /** Defaults to the wall clock at start: a restarted process is always a newer epoch. */
  epoch?: number;
}

/** One member as seen from here. */
export interface Member {
  name: string;
  state: MemberState;
  /** The SPEC section 6 status for the state. */
  status: ServerStatus;
  epoch: number;
  incarnation: number;
  address: string;
  port: number;
  meta: HeartbeatMeta;
  observer: boolean;
  /** Since when the member is in its state, ISO 8601. */
  since: string;
  /** This member itself. */
  self: boolean;
}

export interface MembershipEvent {
  /** ISO 8601. */
  time: string;
  domain: string;
  server: string;
  event: MembershipEventKind;
  from: ServerStatus;
  to: ServerStatus;
  incarnation: number;
  member: Member;
}

export interface MembershipStats {
  packetsSent: number;
  packetsReceived: number;
  bytesSent: number;
  bytesReceived: number;
  sendErrors: number;
  dropped: Record<DropReason, number>;
}

type MembershipEvents = { event: [MembershipEvent] } & { [K in MembershipEventKind]: [MembershipEvent] };

interface Timer {
  handle: unknown;
  cancelled: boolean;
}

interface Probe {
  id: number;
  target: string;
  acked: boolean;
  nacks: number;
  expectedNacks: number;
  timers: Timer[];
}

/** A ping this member sends for another one (SWIM indirect probe). */
interface Relay {
  requester: string;
  requesterEndpoint: Endpoint;
  requesterId: number;
  target: string;
  timer: Timer;
}

/** The helper gives up on an indirect ping a little before the requester's period ends, so its nack arrives in time. */
const NACK_FRACTION = 0.8;

/**
 * Membership and failure detection for one member of a domain: SWIM (probes, indirect probes,
 * suspicion, piggybacked gossip) with the Lifeguard refinements (local health awareness, dynamic
 * suspicion timeouts, nacks), over an authenticated transport. See README.md.
 */
export class Membership extends EventEmitter<MembershipEvents> {
  readonly domain: string;
  readonly name: string;
  readonly timings: HeartbeatTimings;
  private key: Buffer;
  /** The key before the last rekey, taken until `until` (timings.rekeyGraceMs). */
  private previousKey?: { key: Buffer; until: number };
  private readonly transport: Transport;
  private readonly identity: MemberIdentity;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly logger?: Logger;
  private epoch: number;
  private incarnation = 0;
  private seq = 0;
  private nextId = 0;
  private readonly records = new Map<string, MemberRecord>();
  private readonly replay = new ReplayGuard();
  private readonly liveness: LivenessChallenges;
  private readonly gossip = new GossipQueue();
  private readonly awareness: Awareness;
  private readonly suspicions = new Map<string, Suspicion>();
  private readonly probes = new Map<number, Probe>();
  private readonly relays = new Map<number, Relay>();
  private readonly toldDead = new Map<string, number>();
  private readonly timers = new Set<Timer>();
  private readonly sleepers = new Set<() => void>();
  private probeOrder: string[] = [];
  private quietUntil = -Infinity;
  /** When a packet from another member was last believed (monotonic): see receive. */
  private lastHeard = -Infinity;
  private leaving = false;
  private stopped = false;
  private nameClashWarned = false;
  private readonly counters: MembershipStats = {
    packetsSent: 0,
    packetsReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    sendErrors: 0,
    dropped: { oversize: 0, malformed: 0, foreignDomain: 0, badSignature: 0, replay: 0 },
  };

  /** Starts a member: it listens, announces itself and begins probing. */
  static async start(options: MembershipOptions): Promise<Membership> {
    const membership = new Membership(options);
    await membership.begin();
    return membership;
  }

  private constructor(options: MembershipOptions) {
    super();
    this.domain = options.domain;
    this.name = options.self.name;
    this.identity = options.self;
    this.key = options.key;
    this.timings = resolveTimings(options.config);
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.logger = options.logger;
    this.epoch = options.epoch ?? this.clock.wall();
    this.awareness = new Awareness(this.timings.awarenessMax);
    const seeded = options.random;
    this.liveness = new LivenessChallenges({
      self: this.name,
      attempts: this.timings.challengeAttempts,
      retryMs: this.timings.probeTimeoutMs,
      timer: { set: (ms, fire) => this.schedule(ms, fire), clear: (timer) => this.cancel(timer as Timer) },
      nonce: seeded ? () => Math.floor(seeded() * 2 ** 48) : randomNonce,
      send: (to, ping) => this.send(to, [ping]),
    });
    this.transport = 'send' in options.transport ? options.transport : createTransport(options.transport);
  }

  private async begin(): Promise<void> {
    this.transport.onError = (error) => {
      this.counters.sendErrors++;
      this.logger?.debug?.(`heartbeat ${this.name}: ${error.message}`);
    };
    await this.transport.start((packet, from) => this.receive(packet, from));
    this.announce();
    // A random first delay keeps members that start together from probing in lockstep.
    this.schedule(this.random() * this.timings.probeIntervalMs, () => this.probeTick());
  }

  /** A snapshot of the servers this member knows, itself included; observers only when asked. */
  members(options: { observers?: boolean } = {}): Member[] {
    const list = [...this.records.values()].filter((r) => options.observers || !r.observer).map((r) => this.snapshot(r, false));
    if (options.observers || !this.identity.observer) list.unshift(this.snapshot(this.selfRecord(), true));
    return list;
  }

  member(name: string): Member | undefined {
    if (name === this.name) return this.snapshot(this.selfRecord(), true);
    const record = this.records.get(name);
    return record && this.snapshot(record, false);
  }

  stats(): MembershipStats {
    return { ...this.counters, dropped: { ...this.counters.dropped } };
  }

  /** Lifeguard's local health score: 0 is healthy; higher means this member stretches its timeouts. */
  get health(): number {
    return this.awareness.health;
  }

  /** This member's current incarnation: it grows each time it refutes a suspicion. */
  get currentIncarnation(): number {
    return this.incarnation;
  }

  /** Events as an async iterator, for `for await (const event of membership.events())`. */
  async *events(signal?: AbortSignal): AsyncGenerator<MembershipEvent> {
    try {
      for await (const [event] of on(this, 'event', { signal })) yield event as MembershipEvent;
    } catch (error) {
      if ((error as Error).name !== 'AbortError') throw error;
    }
  }

  /**
   * Graceful stop: tells the group this member is leaving (it goes to SHUTDOWN at once, not
   * through FAILED), then stops.
   */
  async leave(): Promise<void> {
    if (this.leaving || this.stopped) return;
    this.leaving = true;
    const message: HeartbeatGossipMessage = { type: 'leave', server: this.name, epoch: this.epoch, incarnation: this.incarnation };
    this.gossip.enqueue(message, this.retransmitLimit());
    for (let i = 0; i < this.timings.leaveRepeats && !this.stopped; i++) {
      if (i) await this.sleep(this.timings.leaveSpacingMs);
      this.send('all', [message]);
    }
    await this.stop();
  }

  /** Stops at once, without a word: to the others this looks like a crash. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const timer of this.timers) this.cancel(timer);
    for (const wake of this.sleepers) wake();
    for (const suspicion of this.suspicions.values()) suspicion.cancel();
    this.suspicions.clear();
    await this.transport.stop();
  }

  // ---- timers ---------------------------------------------------------------------------------

  /**
   * Every timer goes through here. A timer that fires late means this process was not running;
   * before acting on it, packets that queued up meanwhile are read (the timer is re-armed at 0 ms,
   * which Node runs after the sockets), so a stall is never mistaken for the peers' silence.
   */
  private schedule(
    ms: number,
    fire: () => void,
    options: { afterIo?: boolean } = {},
    timer: Timer = { handle: undefined, cancelled: false },
  ): Timer {
    const due = this.clock.monotonic() + ms;
    this.timers.add(timer);
    timer.handle = this.clock.setTimeout(() => {
      if (timer.cancelled || this.stopped) return;
      const late = this.clock.monotonic() - due;
      if (late > this.timings.stallThresholdMs) this.noteStall(late);
      // Verdicts (a probe failed, a suspicion ran out) wait one more turn of the event loop, so an
      // answer already in the socket is read first, however late the timer fired.
      if (options.afterIo || late > this.timings.stallThresholdMs) {
        this.schedule(0, fire, {}, timer);
        return;
      }
      this.timers.delete(timer);
      fire();
    }, ms);
    return timer;
  }

  /** A pause inside an operation (leave); a stop() meanwhile ends it rather than leaving it hanging. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.sleepers.delete(wake);
        resolve();
      };
      this.sleepers.add(wake);
      this.schedule(ms, wake);
    });
  }

  private cancel(timer: Timer): void {
    timer.cancelled = true;
    this.clock.clearTimeout(timer.handle);
    this.timers.delete(timer);
  }

  private noteStall(lateMs: number): void {
    const now = this.clock.monotonic();
    if (now >= this.quietUntil) {
      this.awareness.apply(1);
      this.logger?.debug?.(`heartbeat ${this.name}: this process stalled for ${Math.round(lateMs)} ms; accusing no one for ${this.timings.stallQuietMs} ms`);
    }
    this.quietUntil = Math.max(this.quietUntil, now + this.timings.stallQuietMs);
  }

  private quiet(): boolean {
    return this.clock.monotonic() < this.quietUntil;
  }

  // ---- probing ----------------------------------------------------------------------------------

  private probeTick(): void {
    const target = this.nextProbeTarget();
    if (target) this.probe(target);
    this.schedule(this.awareness.scale(this.timings.probeIntervalMs), () => this.probeTick());
  }

  /** Round robin over a shuffled list: every member is probed once per round, in random order. */
  private nextProbeTarget(): string | undefined {
    for (;;) {
      if (!this.probeOrder.length) {
        this.probeOrder = this.shuffle([...this.records.values()].filter(isReachable).map((r) => r.name));
        if (!this.probeOrder.length) return undefined;
      }
      const name = this.probeOrder.shift()!;
      const record = this.records.get(name);
      if (record && isReachable(record)) return name;
    }
  }

  private probe(target: string): void {
    const record = this.records.get(target);
    if (!record) return;
    const probe: Probe = { id: ++this.nextId, target, acked: false, nacks: 0, expectedNacks: 0, timers: [] };
    this.probes.set(probe.id, probe);
    this.send(endpointOf(record), [{ type: 'ping', id: probe.id, target }]);
    probe.timers.push(
      this.schedule(this.awareness.scale(this.timings.probeTimeoutMs), () => this.probeIndirectly(probe)),
      this.schedule(this.awareness.scale(this.timings.probeIntervalMs), () => this.concludeProbe(probe), { afterIo: true }),
    );
  }

  private probeIndirectly(probe: Probe): void {
    if (probe.acked) return;
    const helpers = this.shuffle(
      [...this.records.values()].filter((r) => r.state === 'ALIVE' && r.name !== probe.target).map((r) => r.name),
    ).slice(0, this.timings.indirectChecks);
    probe.expectedNacks = helpers.length;
    const requests = helpers.map((helper): HeartbeatMessage => ({ type: 'ping-req', id: probe.id, helper, target: probe.target }));
    if (this.transport.shared) {
      if (requests.length) this.send('all', requests);
    } else {
      requests.forEach((request, i) => this.send(endpointOf(this.records.get(helpers[i]!)!), [request]));
    }
  }

  private concludeProbe(probe: Probe): void {
    this.probes.delete(probe.id);
    for (const timer of probe.timers) this.cancel(timer);
    if (probe.acked) {
      this.awareness.apply(-1);
      return;
    }
    // Lifeguard: helpers that did not even send a nack suggest our own links or process are at fault.
    this.awareness.apply(probe.expectedNacks ? probe.expectedNacks - probe.nacks : 1);
    const record = this.records.get(probe.target);
    if (!record || !isReachable(record) || this.quiet() || this.leaving) return;
    this.handleClaim(probe.target, { kind: 'suspect', epoch: record.epoch, incarnation: record.incarnation, from: this.name });
  }

  /** Any packet believed from a member proves it was running: it answers every probe of it. */
  private evidenceOfLife(name: string): void {
    for (const probe of this.probes.values()) if (probe.target === name) probe.acked = true;
    for (const [id, relay] of this.relays) {
      if (relay.target !== name) continue;
      this.cancel(relay.timer);
      this.relays.delete(id);
      this.send(relay.requesterEndpoint, [{ type: 'indirect-ack', id: relay.requesterId, requester: relay.requester, target: name }]);
    }
  }

  private relay(requester: string, requesterEndpoint: Endpoint, requesterId: number, target: string): void {
    const record = this.records.get(target);
    if (target === this.name || !record) return;
    const id = ++this.nextId;
    const timer = this.schedule(this.awareness.scale(this.timings.probeTimeoutMs) * NACK_FRACTION, () => {
      this.relays.delete(id);
      this.send(requesterEndpoint, [{ type: 'nack', id: requesterId, requester, target }]);
    });
    this.relays.set(id, { requester, requesterEndpoint, requesterId, target, timer });
    this.send(endpointOf(record), [{ type: 'ping', id, target }]);
  }

  // ---- receiving --------------------------------------------------------------------------------

  /** A new domain key (master rotate-key): packets are signed with it from now on; the old one is still taken for a while. */
  rekey(next: Buffer): void {
    this.previousKey = { key: this.key, until: this.clock.monotonic() + this.timings.rekeyGraceMs };
    this.key = next;
  }

  private decode(data: Buffer) {
    const decoded = decodePacket(this.key, this.domain, data);
    if (decoded.ok || decoded.reason !== 'badSignature' || !this.previousKey || this.clock.monotonic() > this.previousKey.until) return decoded;
    return decodePacket(this.previousKey.key, this.domain, data);
  }

  private receive(data: Buffer, from: Endpoint): void {
    if (this.stopped) return;
    const decoded = this.decode(data);
    // Multicast loops our own packets back to us: they are not traffic received.
    if (decoded.ok && decoded.packet.sender.name === this.name && decoded.packet.sender.epoch === this.epoch) return;
    this.counters.packetsReceived++;
    this.counters.bytesReceived += data.length;
    if (!decoded.ok) return this.drop(decoded.reason, from);
    const { sender, messages } = decoded.packet;
    if (!this.replay.accept(sender.name, sender.epoch, sender.seq)) return this.drop('replay', from);
    if (sender.name === this.name) return this.nameClash(sender, from);
    // Whatever this run sent before it answered our challenge may be a capture (liveness-challenge.ts).
    if (this.liveness.acceptAnswer(sender, messages)) this.replay.refuseBefore(sender.name, sender.epoch, sender.seq);
    const endpoint = { address: isWildcard(sender.address) ? from.address : sender.address, port: sender.port };
    if (!this.liveness.isProven(sender.name, sender.epoch)) {
      // Not believed, whatever version it claims (after a partition both sides hold each other
      // FAILED at the current one): it is challenged. Its pings are answered: one may be its own
      // challenge to us, and answering a replayed one tells a dead address nothing.
      this.liveness.challenge(sender.name, endpoint);
      for (const message of messages) if (message.type === 'ping') this.handleMessage(decoded.packet, message, endpoint);
      return;
    }
    this.lastHeard = this.clock.monotonic();
    this.handleClaim(sender.name, {
      kind: 'alive',
      epoch: sender.epoch,
      incarnation: sender.incarnation,
      address: endpoint.address,
      port: endpoint.port,
      observer: sender.observer ?? false,
      meta: sender.meta ?? {},
      provenLive: true,
    });
    this.evidenceOfLife(sender.name);
    this.tellIfDead(sender, endpoint);
    for (const message of messages) this.handleMessage(decoded.packet, message, endpoint);
  }

  private drop(reason: DropReason, from: Endpoint): void {
    this.counters.dropped[reason]++;
    this.logger?.debug?.(`heartbeat ${this.name}: dropped a packet from ${endpointKey(from)}: ${reason}`);
  }

  private nameClash(sender: HeartbeatSender, from: Endpoint): void {
    if (this.nameClashWarned) return;
    this.nameClashWarned = true;
    this.logger?.warn(
      `heartbeat: another process at ${endpointKey(from)} also calls itself ${sender.name} in domain ${this.domain}; its packets are ignored`,
    );
  }

  /**
   * A member we hold FAILED is talking: it was stalled or cut off, not dead. Telling it lets it
   * refute with a higher incarnation and rejoin; in unicast nobody would otherwise tell it.
   */
  private tellIfDead(sender: HeartbeatSender, endpoint: Endpoint): void {
    const record = this.records.get(sender.name);
    if (!record || record.state !== 'FAILED' || compareVersions(sender, record) > 0) return;
    const now = this.clock.monotonic();
    // Once a period is enough: it only has to reach the member once for it to refute.
    if (now - (this.toldDead.get(sender.name) ?? -Infinity) < this.timings.probeIntervalMs) return;
    this.toldDead.set(sender.name, now);
    // A suspicion, not a death: over multicast the whole group hears this, and a `dead` claim at the
    // member's current version would make every member that hears it alive declare it FAILED (after
    // a partition heals, the healthy side would all be "failed" by the member that was cut off). A
    // suspicion makes the member refute just the same, and the others only until it does.
    this.send(endpoint, [{ type: 'suspect', server: record.name, epoch: record.epoch, incarnation: record.incarnation, from: this.name }]);
  }

  private handleMessage(packet: HeartbeatPacket, message: HeartbeatMessage, endpoint: Endpoint): void {
    const sender = packet.sender.name;
    switch (message.type) {
      case 'ping':
        if (message.target === this.name) this.send(endpoint, [{ type: 'ack', id: message.id, target: sender }]);
        return;
      case 'ack':
        return; // the packet itself was the evidence (evidenceOfLife)
      case 'ping-req':
        if (message.helper === this.name) this.relay(sender, endpoint, message.id, message.target);
        return;
      case 'indirect-ack': {
        const probe = message.requester === this.name ? this.probes.get(message.id) : undefined;
        if (probe && probe.target === message.target) probe.acked = true;
        return;
      }
      case 'nack': {
        const probe = message.requester === this.name ? this.probes.get(message.id) : undefined;
        if (probe && probe.target === message.target) probe.nacks++;
        return;
      }
      case 'alive':
        if (message.server === this.name) return;
        this.handleClaim(message.server, {
          kind: 'alive',
          epoch: message.epoch,
          incarnation: message.incarnation,
          address: message.address,
          port: message.port,
          observer: message.observer ?? false,
          meta: message.meta ?? {},
          provenLive: this.liveness.isProven(message.server, message.epoch),
        });
        return;
      case 'suspect':
      case 'dead':
        if (message.server === this.name) return this.refute(message);
        this.handleClaim(message.server, { kind: message.type, epoch: message.epoch, incarnation: message.incarnation, from: message.from });
        return;
      case 'leave':
        if (message.server !== this.name) this.handleClaim(message.server, { kind: 'leave', epoch: message.epoch, incarnation: message.incarnation });
        return;
    }
  }

  /** Someone suspects or declared us dead: we are evidently running, so we say so with a newer incarnation. */
  private refute(accusation: Version): void {
    if (this.leaving || compareVersions(accusation, { epoch: this.epoch, incarnation: this.incarnation }) < 0) return;
    // Only a member's own (epoch, incarnation) may grow; one of ours that the group holds is ours to outgrow.
    this.epoch = Math.max(this.epoch, accusation.epoch);
    this.incarnation = accusation.incarnation + 1;
    // Lifeguard: being suspected means others could not hear us in time; we may be the slow one.
    this.awareness.apply(1);
    this.logger?.debug?.(`heartbeat ${this.name}: refuting a suspicion with incarnation ${this.incarnation}`);
    const alive = this.aliveMessage();
    this.gossip.enqueue(alive, this.retransmitLimit());
    // A refutation lost is a false FAILED: it goes out at once, twice.
    this.send('all', [alive]);
    this.send('all', [alive]);
  }

  // ---- state ------------------------------------------------------------------------------------

  /** `gossip: false` keeps a verdict of ours to ourselves (see suspicionTimedOut). */
  private handleClaim(name: string, claim: Claim, options: { gossip?: boolean } = {}): void {
    const current = this.records.get(name);
    const transition = applyClaim(name, current, claim, this.clock.wall());
    if (transition === 'unproven') {
      // Gossip about a run we have not heard answer us: the member is asked to show it runs now.
      if (claim.kind === 'alive') this.liveness.challenge(name, { address: claim.address, port: claim.port });
      return;
    }
    if (!transition) return;
    const record = transition.record;
    this.records.set(name, record);
    if (record.state !== 'SUSPECT') this.endSuspicion(name);

    if (transition.confirmation && claim.kind === 'suspect') {
      if (this.suspicions.get(name)?.confirm(claim.from)) this.spread(claim, name, claim.from === this.name);
      return;
    }
    if (!transition.event) return;
    const own = 'from' in claim && claim.from === this.name;
    switch (transition.event.kind) {
      case 'suspected':
        this.startSuspicion(record, (claim as { from: string }).from);
        this.spread(claim, name, own);
        // Lifeguard-style confirmation: check the accusation ourselves now rather than in our turn,
        // so a dead member gathers confirmations (and a shorter timeout) within one period.
        if (!own && !this.quiet() && !this.leaving) this.probe(name);
        break;
      case 'failed':
        // Coming back takes a fresh answer too, so a packet of this run that we never received
        // (lost on the way, or held back by whoever captured it) cannot be replayed to revive it.
        this.liveness.forget(name);
        if (options.gossip !== false) this.spread(claim, name, own);
        break;
      case 'left':
        if (options.gossip !== false) this.spread(claim, name, own);
        break;
      default:
        this.spread(claim, name, false);
    }
    if (!record.observer) this.emitEvent(record, transition.event);
  }

  private startSuspicion(record: MemberRecord, accuser: string): void {
    const members = this.countReachable();
    const { minMs, maxMs } = suspicionBounds(this.timings, members);
    const k = Math.min(this.timings.suspicionConfirmations, members - 2);
    const timer = { set: (ms: number, fire: () => void) => this.schedule(ms, fire, { afterIo: true }), clear: (t: unknown) => this.cancel(t as Timer), now: () => this.clock.monotonic() };
    this.suspicions.set(record.name, new Suspicion(timer, accuser, k, minMs, maxMs, () => this.suspicionTimedOut(record.name)));
  }

  private endSuspicion(name: string): void {
    this.suspicions.get(name)?.cancel();
    this.suspicions.delete(name);
  }

  private suspicionTimedOut(name: string): void {
    const record = this.records.get(name);
    if (!record || record.state !== 'SUSPECT' || this.leaving) return;
    if (this.quiet()) {
      // Right after our own stall we may not have read the refutation yet: decide later.
      this.schedule(this.quietUntil - this.clock.monotonic(), () => this.suspicionTimedOut(name), { afterIo: true });
      return;
    }
    const suspicion = this.suspicions.get(name);
    this.suspicions.delete(name);
    // Not one packet from anybody since the suspicion began: everyone else fell silent at once, so
    // this member is far more likely the one cut off (its link is down) than all of them dead. The
    // verdict stands here, but it is not gossiped: held back in the queue, it would go out when
    // the link comes back and make every member that hears the suspect alive declare it FAILED.
    // If the others did die, nobody is left to tell anyway.
    const deaf = suspicion !== undefined && this.lastHeard < suspicion.started;
    if (deaf) this.logger?.debug?.(`heartbeat ${this.name}: heard nobody while suspecting ${name}; declaring it FAILED here only`);
    this.handleClaim(name, { kind: 'dead', epoch: record.epoch, incarnation: record.incarnation, from: this.name }, { gossip: !deaf });
  }

  /** Queues the claim as gossip; our own accusations also go out at once, as they start the clocks. */
  private spread(claim: Claim, name: string, now: boolean): void {
    const message = toGossip(name, claim);
    this.gossip.enqueue(message, this.retransmitLimit());
    if (now) this.send('all', [message]);
  }

  private emitEvent(record: MemberRecord, change: NonNullable<Transition['event']>): void {
    const event: MembershipEvent = {
      time: new Date(this.clock.wall()).toISOString(),
      domain: this.domain,
      server: record.name,
      event: change.kind,
      from: change.from,
      to: change.to,
      incarnation: record.incarnation,
      member: this.snapshot(record, false),
    };
    this.emit('event', event);
    this.emit(change.kind, event);
  }

  // ---- sending ----------------------------------------------------------------------------------

  private announce(): void {
    if (this.leaving) return;
    this.send('all', [this.aliveMessage()]);
    this.reapObservers();
    this.schedule(this.timings.announceIntervalMs, () => this.announce());
  }

  /** Observers come and go with every `heartbeat watch`; their records are not kept forever. */
  private reapObservers(): void {
    const limit = this.clock.wall() - this.timings.observerReapMs;
    for (const record of this.records.values()) {
      if (record.observer && !isReachable(record) && record.since < limit) {
        this.records.delete(record.name);
        this.liveness.forget(record.name);
      }
    }
  }

  private send(to: Endpoint | 'all', required: HeartbeatMessage[]): void {
    if (this.stopped) return;
    const candidates = this.gossip.candidates();
    const { packet, included } = encodePacket(this.key, this.domain, this.sender(), required, candidates);
    this.gossip.sent(candidates.slice(0, included));
    const destinations = to !== 'all' ? [to] : this.transport.shared ? [this.transport.local] : this.everyone();
    for (const destination of destinations) {
      this.counters.packetsSent++;
      this.counters.bytesSent += packet.length;
      this.transport.send(packet, destination);
    }
  }

  /** Unicast: every configured seed and every member heard of (but those that left), once each. */
  private everyone(): Endpoint[] {
    const all = new Map<string, Endpoint>();
    for (const seed of this.transport.seeds) all.set(endpointKey(seed), seed);
    for (const record of this.records.values()) if (record.state !== 'LEFT') all.set(endpointKey(endpointOf(record)), endpointOf(record));
    all.delete(endpointKey(this.transport.local));
    return [...all.values()];
  }

  private sender(): HeartbeatSender {
    return {
      name: this.name,
      epoch: this.epoch,
      incarnation: this.incarnation,
      seq: ++this.seq,
      address: this.transport.local.address,
      port: this.transport.local.port,
      ...(this.identity.observer ? { observer: true } : {}),
      ...(this.identity.meta ? { meta: this.identity.meta } : {}),
    };
  }

  private aliveMessage(): HeartbeatGossipMessage {
    const { name, epoch, incarnation, address, port, observer, meta } = this.sender();
    return { type: 'alive', server: name, epoch, incarnation, address, port, ...(observer ? { observer } : {}), ...(meta ? { meta } : {}) };
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private retransmitLimit(): number {
    return retransmitLimit(this.timings, this.countReachable());
  }

  /** Members that take part now, this one included. */
  private countReachable(): number {
    let count = 1;
    for (const record of this.records.values()) if (isReachable(record)) count++;
    return count;
  }

  private selfRecord(): MemberRecord {
    return {
      name: this.name,
      state: this.leaving ? 'LEFT' : 'ALIVE',
      epoch: this.epoch,
      incarnation: this.incarnation,
      address: this.transport.local.address,
      port: this.transport.local.port,
      observer: this.identity.observer ?? false,
      meta: this.identity.meta ?? {},
      since: this.epoch,
    };
  }

  private snapshot(record: MemberRecord, self: boolean): Member {
    return {
      name: record.name,
      state: record.state,
      status: STATUS_OF[record.state],
      epoch: record.epoch,
      incarnation: record.incarnation,
      address: record.address,
      port: record.port,
      meta: { ...record.meta },
      observer: record.observer,
      since: new Date(record.since).toISOString(),
      self,
    };
  }

  private shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}

export function createTransport(options: TransportOptions): Transport {
  return options.mode === 'multicast' ? new MulticastTransport(options) : new UnicastTransport(options);
}

function isReachable(record: MemberRecord): boolean {
  return record.state === 'ALIVE' || record.state === 'SUSPECT';
}

function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '';
}

function endpointOf(record: MemberRecord): Endpoint {
  return { address: record.address, port: record.port };
}

function toGossip(server: string, claim: Claim): HeartbeatGossipMessage {
  switch (claim.kind) {
    case 'alive': {
      const { address, port, observer, meta, epoch, incarnation } = claim;
      return { type: 'alive', server, epoch, incarnation, address, port, ...(observer ? { observer } : {}), ...(Object.keys(meta).length ? { meta } : {}) };
    }
    case 'suspect':
    case 'dead':
      return { type: claim.kind, server, epoch: claim.epoch, incarnation: claim.incarnation, from: claim.from };
    case 'leave':
      return { type: 'leave', server, epoch: claim.epoch, incarnation: claim.incarnation };
  }
}
