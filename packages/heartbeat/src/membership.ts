import { EventEmitter, on } from 'node:events';
import type { HeartbeatGossipMessage, HeartbeatMessage, HeartbeatMeta, HeartbeatPacket, HeartbeatSender } from '@flotilla/core';
import { Awareness } from './awareness.js';
import { aliveMessage, claimOfMessage, claimOfSender, endpointOf, toGossip } from './claims.js';
import { systemClock, type Clock } from './clock.js';
import { groupAnnounceIntervalMs, resolveTimings, retransmitLimit, suspicionBounds, type HeartbeatTimings } from './config.js';
import { GossipQueue } from './gossip.js';
import { KeyRing } from './key-ring.js';
import { LivenessChallenges, randomNonce } from './liveness-challenge.js';
import { MAX_GOSSIP_PER_PACKET, decodePacket, encodePacket, type DropReason } from './packet.js';
import { Prober } from './probe.js';
import { PushPull, type ViewEntry } from './push-pull.js';
import { Random } from './random.js';
import { ReplayGuard } from './replay.js';
import { Scheduler, type Timer } from './scheduler.js';
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
  /**
   * The key this member held until a moment ago, when it learnt of a rotation made while it was away
   * (a key refresh at start): the others may still sign with it for a while (key-ring.ts).
   */
  rotatedFrom?: Buffer;
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
  /** The status (docs/contract.md#states) for the state. */
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

type PingMessage = Extract<HeartbeatMessage, { type: 'ping' }>;

type MembershipEvents = { event: [MembershipEvent] } & { [K in MembershipEventKind]: [MembershipEvent] };

/**
 * Membership and failure detection for one member of a domain: SWIM (probes, indirect probes,
 * suspicion, piggybacked gossip) with the Lifeguard refinements (local health awareness, dynamic
 * suspicion timeouts, nacks) and memberlist's push-pull, over an authenticated transport. Every
 * packet but the multicast announcement goes to one member, and a member sends and receives about
 * as many whatever the size of the group. See README.md and docs/protocol.md#heartbeats.
 *
 * This file ties the parts together: probe.ts probes and relays, gossip.ts queues news,
 * push-pull.ts compares views, scheduler.ts keeps time across stalls, claims.ts converts messages,
 * and state.ts alone decides what a claim does.
 */
export class Membership extends EventEmitter<MembershipEvents> {
  readonly domain: string;
  readonly name: string;
  readonly timings: HeartbeatTimings;
  private readonly keys: KeyRing;
  private readonly transport: Transport;
  private readonly identity: MemberIdentity;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly logger?: Logger;
  private epoch: number;
  private incarnation = 0;
  private seq = 0;
  private readonly records = new Map<string, MemberRecord>();
  /**
   * Every reachable (ALIVE or SUSPECT) member and this one, sorted by name: the probe ring
   * (nextProbeTarget) and what fan-outs draw from. Kept sorted as records change, one insertion or
   * removal each: rebuilt by a sort after every change, it cost 512 members 256 sorts of 512 names
   * each when half the group failed at once.
   */
  private readonly ring: string[] = [];
  private readonly replay = new ReplayGuard();
  private readonly liveness: LivenessChallenges;
  private readonly gossip = new GossipQueue();
  private readonly awareness: Awareness;
  private readonly scheduler: Scheduler;
  private readonly prober: Prober;
  private readonly pushPull: PushPull;
  private readonly suspicions = new Map<string, Suspicion>();
  /** Who accused this member in its current incarnation: its refutation goes to them first. */
  private readonly accusers = new Map<string, Endpoint>();
  private readonly toldDead = new Map<string, number>();
  private nextGroupAnnounce = 0;
  /** When this member last probed a suspect at once on hearing of the suspicion (confirmSoon). */
  private lastConfirmation = -Infinity;
  private flushPending?: Timer;
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
    this.timings = resolveTimings(options.config);
    this.clock = options.clock ?? systemClock;
    this.keys = new KeyRing(options.rotatedFrom ?? options.key, { switchMs: this.timings.rekeySwitchMs, graceMs: this.timings.rekeyGraceMs });
    if (options.rotatedFrom) this.keys.caughtUp(options.key, this.clock.monotonic());
    this.random = new Random(options.random ?? Math.random);
    this.logger = options.logger;
    this.epoch = options.epoch ?? this.clock.wall();
    this.awareness = new Awareness(this.timings.awarenessMax);
    this.scheduler = new Scheduler({
      clock: this.clock,
      awareness: this.awareness,
      stallThresholdMs: this.timings.stallThresholdMs,
      stallQuietMs: this.timings.stallQuietMs,
      logger: (message) => this.logger?.debug?.(`heartbeat ${this.name}: ${message}`),
    });
    const seeded = options.random;
    this.liveness = new LivenessChallenges({
      self: this.name,
      attempts: this.timings.challengeAttempts,
      retryMs: this.timings.probeTimeoutMs,
      timer: { set: (ms, fire) => this.scheduler.schedule(ms, fire), clear: (timer) => this.scheduler.cancel(timer as Timer) },
      nonce: seeded ? () => Math.floor(seeded() * 2 ** 48) : randomNonce,
      send: (to, messages) => this.send(to, messages),
    });
    this.prober = new Prober({
      scheduler: this.scheduler,
      awareness: this.awareness,
      probeTimeoutMs: this.timings.probeTimeoutMs,
      probeIntervalMs: this.timings.probeIntervalMs,
      indirectChecks: this.timings.indirectChecks,
      endpointOf: (name) => {
        const record = this.records.get(name);
        return record && endpointOf(record);
      },
      helpers: (target, count) => this.sampleReachable(count, (r) => r.state === 'ALIVE' && r.name !== target),
      send: (to, messages) => this.send(to, messages),
      accusation: (target) => {
        const record = this.records.get(target);
        if (record?.state !== 'SUSPECT') return undefined;
        return { type: 'suspect', server: target, epoch: record.epoch, incarnation: record.incarnation, from: this.name };
      },
      failed: (target) => this.probeFailed(target),
    });
    this.pushPull = new PushPull({
      view: () => this.view(),
      send: (to, messages) => this.send(to, messages),
      sendAll: (to, messages) => this.sendAll(to, messages),
    });
    this.transport = 'send' in options.transport ? options.transport : createTransport(options.transport);
    this.ring.push(this.name);
  }

  private async begin(): Promise<void> {
    this.transport.onError = (error) => {
      this.counters.sendErrors++;
      this.logger?.debug?.(`heartbeat ${this.name}: ${error.message}`);
    };
    await this.transport.start((packet, from) => this.receive(packet, from));
    // Once, to every configured seed and to the group: whoever runs learns of us at once.
    const alive = this.aliveMessage();
    this.broadcast([alive]);
    for (const seed of this.transport.seeds) this.send(seed, [alive]);
    this.nextGroupAnnounce = this.clock.monotonic() + this.groupAnnounceInterval();
    // Random first delays keep members that start together from acting in lockstep.
    const { probeIntervalMs, announceIntervalMs, pushPullIntervalMs } = this.timings;
    this.scheduler.schedule(this.random.next() * probeIntervalMs, () => this.probeTick());
    this.scheduler.schedule(this.random.next() * announceIntervalMs, () => this.announceTick());
    this.scheduler.schedule(this.random.next() * pushPullIntervalMs, () => this.pushPullTick());
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
      if (i) await this.scheduler.sleep(this.timings.leaveSpacingMs);
      // A departure is once in a run: the group may hear it all at once.
      this.broadcast([message]);
      this.fanOut([message]);
    }
    await this.stop();
  }

  /** Stops at once, without a word: to the others this looks like a crash. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.scheduler.stop();
    for (const suspicion of this.suspicions.values()) suspicion.cancel();
    this.suspicions.clear();
    await this.transport.stop();
  }

  // ---- rounds -----------------------------------------------------------------------------------

  private probeTick(): void {
    const target = this.nextProbeTarget();
    if (target) this.prober.probe(target);
    this.probeASuspect();
    this.scheduler.schedule(this.awareness.scale(this.timings.probeIntervalMs), () => this.probeTick());
  }

  /**
   * One member we hold SUSPECT, not being probed already, is probed again each period until its
   * suspicion ends: the answer of a suspect that refuted carries its new incarnation, so a
   * refutation that loss kept from us (it went to a few members only) still reaches us before the
   * verdict. One a period, so that a partition that makes half the group suspect costs no more.
   */
  private probeASuspect(): void {
    if (!this.suspicions.size || this.scheduler.quiet() || this.leaving) return;
    const waiting = [...this.suspicions.keys()].filter((name) => !this.prober.probing(name));
    const suspect = this.random.pick(waiting);
    if (suspect) this.prober.probe(suspect);
  }

  private confirmSoon(suspect: string): void {
    const now = this.clock.monotonic();
    if (this.scheduler.quiet() || this.leaving || now - this.lastConfirmation < this.timings.probeIntervalMs) return;
    this.lastConfirmation = now;
    this.prober.probe(suspect);
  }

  /**
   * The member `offset` places after this one on a ring of the reachable members by name, the
   * offset moving on by one each probe period of the wall clock (1 … n − 1): members that hold the
   * same view probe different members in the same period, so each member is probed about once a
   * period, and a dead one within two periods at most (the members' phases differ). With each
   * member's own shuffled round robin (memberlist's), the group's first probe of a dead member
   * came after a period on average but with an exponential tail: a p99 of three to five periods.
   * Each member still probes every other once per n − 1 periods; views that differ for a while,
   * or clocks that disagree, make the order no worse than a random one.
   */
  private nextProbeTarget(): string | undefined {
    const ring = this.ring;
    if (ring.length < 2) return undefined;
    const round = Math.floor(this.clock.wall() / this.timings.probeIntervalMs);
    return ring[(ringIndex(ring, this.name) + 1 + (round % (ring.length - 1))) % ring.length];
  }

  /**
   * Each announcement period: our alive to a few members that do not hold us live (seeds not heard
   * of, members we hold FAILED, which answer by telling us so: that is how a healed partition
   * starts to mend); and, in multicast mode, now and then to the group, so rarely that the group as a
   * whole multicasts gossipFanout announcements per period whatever its size.
   */
  private announceTick(): void {
    if (this.leaving) return;
    const alive = this.aliveMessage();
    for (const to of this.random.sample(this.unreachable(), this.timings.gossipFanout)) this.send(to, [alive]);
    const now = this.clock.monotonic();
    if (this.transport.broadcast && now >= this.nextGroupAnnounce) {
      this.broadcast([alive]);
      // Jittered around the mean, so members that started together drift apart.
      this.nextGroupAnnounce = now + this.groupAnnounceInterval() * (0.5 + this.random.next());
    }
    this.reapObservers();
    this.scheduler.schedule(this.timings.announceIntervalMs, () => this.announceTick());
  }

  /** A push-pull exchange with one random member, FAILED ones and unknown seeds included (they may be back). */
  private pushPullTick(): void {
    if (this.leaving) return;
    const candidates = [...this.names((r) => r.state !== 'LEFT' && !r.observer).map((name) => endpointOf(this.records.get(name)!)), ...this.unknownSeeds()];
    const to = this.random.pick(candidates);
    if (to) this.pushPull.begin(to);
    this.scheduler.schedule(this.timings.pushPullIntervalMs, () => this.pushPullTick());
  }

  private groupAnnounceInterval(): number {
    return groupAnnounceIntervalMs(this.timings, this.countReachable());
  }

  // ---- probing ----------------------------------------------------------------------------------

  private probeFailed(target: string): void {
    const record = this.records.get(target);
    if (!record || !isReachable(record) || this.scheduler.quiet() || this.leaving) return;
    this.handleClaim(target, { kind: 'suspect', epoch: record.epoch, incarnation: record.incarnation, from: this.name });
  }

  // ---- receiving --------------------------------------------------------------------------------

  /** A new domain key (master rotate-key): taken from now on, signed with once the others have it too (key-ring.ts). */
  rekey(next: Buffer): void {
    this.keys.rotate(next, this.clock.monotonic());
  }

  /** A domain key rotated while this member was away: signed with at once; the one it held is still taken for a while (key-ring.ts). */
  caughtUp(next: Buffer): void {
    this.keys.caughtUp(next, this.clock.monotonic());
  }

  private decode(data: Buffer) {
    const now = this.clock.monotonic();
    const decoded = decodePacket(this.keys.signing(now), this.domain, data);
    if (decoded.ok || decoded.reason !== 'badSignature') return decoded;
    const alternative = this.keys.alternative(now);
    return alternative ? decodePacket(alternative, this.domain, data) : decoded;
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
      const answers = messages.filter((m) => m.type === 'ping' && m.target === this.name).map((m) => this.ackOf(m as PingMessage, sender.name));
      if (!this.liveness.challenge(sender.name, endpoint, answers)) for (const answer of answers) this.send(endpoint, [answer]);
      return;
    }
    this.lastHeard = this.clock.monotonic();
    this.handleClaim(sender.name, claimOfSender(sender, endpoint));
    this.prober.evidenceOfLife(sender.name);
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
   * refute with a higher incarnation and rejoin; nobody else would tell it.
   */
  private tellIfDead(sender: HeartbeatSender, endpoint: Endpoint): void {
    const record = this.records.get(sender.name);
    if (!record || record.state !== 'FAILED' || compareVersions(sender, record) > 0) return;
    const now = this.clock.monotonic();
    // Once a period is enough: it only has to reach the member once for it to refute.
    if (now - (this.toldDead.get(sender.name) ?? -Infinity) < this.timings.probeIntervalMs) return;
    this.toldDead.set(sender.name, now);
    // A suspicion, not a death: the member refutes just the same, and a `dead` claim at its current
    // version, passed on by gossip, would make every member that holds it alive declare it FAILED
    // (after a partition heals, the healthy side would all be "failed" by the side cut off).
    this.send(endpoint, [{ type: 'suspect', server: record.name, epoch: record.epoch, incarnation: record.incarnation, from: this.name }]);
  }

  private handleMessage(packet: HeartbeatPacket, message: HeartbeatMessage, endpoint: Endpoint): void {
    const sender = packet.sender.name;
    switch (message.type) {
      case 'ping':
        if (message.target === this.name) this.send(endpoint, [this.ackOf(message, sender)]);
        return;
      case 'ack':
        return; // the packet itself was the evidence (evidenceOfLife)
      case 'ping-req':
        if (message.helper === this.name && message.target !== this.name) this.prober.relay(sender, endpoint, message.id, message.target);
        return;
      case 'indirect-ack':
        if (message.requester === this.name) this.prober.indirectAck(message.id, message.target);
        return;
      case 'nack':
        if (message.requester === this.name) this.prober.nack(message.id, message.target);
        return;
      case 'sync':
        this.pushPull.receive(message, endpoint);
        return;
      case 'alive':
        if (message.server !== this.name) this.handleClaim(message.server, claimOfMessage(message, this.liveness.isProven(message.server, message.epoch)));
        return;
      case 'suspect':
      case 'dead':
        if (message.server === this.name) return this.refute(message, sender, endpoint);
        this.handleClaim(message.server, claimOfMessage(message, false));
        return;
      case 'leave':
        if (message.server !== this.name) this.handleClaim(message.server, claimOfMessage(message, false));
        return;
    }
  }

  /** Someone suspects or declared us dead: we are evidently running, so we say so with a newer incarnation. */
  private refute(accusation: Version & { from: string }, relayedBy: string, relayedFrom: Endpoint): void {
    if (this.leaving) return;
    const accuser = accusation.from === relayedBy ? relayedFrom : this.knownEndpoint(accusation.from);
    if (compareVersions(accusation, { epoch: this.epoch, incarnation: this.incarnation }) < 0) {
      // Already refuted; this accuser had not heard it yet.
      if (accuser && !this.accusers.has(accusation.from)) {
        this.accusers.set(accusation.from, accuser);
        this.send(accuser, [this.aliveMessage()]);
      }
      return;
    }
    // Only a member's own (epoch, incarnation) may grow; one of ours that the group holds is ours to outgrow.
    this.epoch = Math.max(this.epoch, accusation.epoch);
    this.incarnation = accusation.incarnation + 1;
    this.accusers.clear();
    if (accuser) this.accusers.set(accusation.from, accuser);
    // Lifeguard: being suspected means others could not hear us in time; we may be the slow one.
    this.awareness.apply(1);
    this.logger?.debug?.(`heartbeat ${this.name}: refuting a suspicion with incarnation ${this.incarnation}`);
    const alive = this.aliveMessage();
    this.gossip.enqueue(alive, this.retransmitLimit());
    // A refutation lost is a false FAILED: it goes to the accuser at once, twice, and to a few others.
    if (accuser) {
      this.send(accuser, [alive]);
      this.send(accuser, [alive]);
    }
    this.fanOut([alive]);
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
    this.setRecord(name, current, record);
    if (record.state !== 'SUSPECT') this.endSuspicion(name);

    if (transition.renewed && claim.kind === 'suspect') {
      // We missed the refutation of the suspicion we held; this one is new and gets its full time.
      this.endSuspicion(name);
      this.startSuspicion(record, claim.from);
      this.spread(claim, name, claim.from === this.name);
      return;
    }
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
        // so a dead member gathers confirmations (and a shorter timeout) within one period. One
        // such probe a period: when a partition makes half of 512 members suspect at once, the
        // others wait for probeASuspect, instead of each member probing 256 suspects (and asking
        // 3 helpers about each) within a second.
        if (!own) this.confirmSoon(name);
        break;
      case 'failed':
        // Coming back takes a fresh answer too, so a packet of this run that we never received
        // (lost on the way, or held back by whoever captured it) cannot be replayed to revive it.
        this.liveness.forget(name);
        if (options.gossip !== false) this.spreadNow(claim, name);
        break;
      case 'left':
        if (options.gossip !== false) this.spreadNow(claim, name);
        break;
      default:
        this.spread(claim, name, false);
    }
    if (!record.observer) this.emitEvent(record, transition.event);
  }

  private setRecord(name: string, previous: MemberRecord | undefined, record: MemberRecord): void {
    const change = (isReachable(record) ? 1 : 0) - (previous && isReachable(previous) ? 1 : 0);
    if (change > 0) this.ring.splice(ringIndex(this.ring, name), 0, name);
    if (change < 0) this.ring.splice(ringIndex(this.ring, name), 1);
    this.records.set(name, record);
  }

  private startSuspicion(record: MemberRecord, accuser: string): void {
    const members = this.countReachable();
    const { minMs, maxMs } = suspicionBounds(this.timings);
    const k = Math.min(this.timings.suspicionConfirmations, members - 2);
    const timer = {
      set: (ms: number, fire: () => void) => this.scheduler.schedule(ms, fire, { afterIo: true }),
      clear: (t: unknown) => this.scheduler.cancel(t as Timer),
      now: () => this.clock.monotonic(),
    };
    this.suspicions.set(record.name, new Suspicion(timer, accuser, k, minMs, maxMs, () => this.suspicionTimedOut(record.name)));
  }

  private endSuspicion(name: string): void {
    this.suspicions.get(name)?.cancel();
    this.suspicions.delete(name);
  }

  private suspicionTimedOut(name: string): void {
    const record = this.records.get(name);
    if (!record || record.state !== 'SUSPECT' || this.leaving) return;
    if (this.scheduler.quiet()) {
      // Right after our own stall we may not have read the refutation yet: decide later.
      this.scheduler.schedule(this.scheduler.quietRemaining(), () => this.suspicionTimedOut(name), { afterIo: true });
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

  /**
   * Queues the claim as gossip. Our own accusation also goes out at once: to the suspect, so that
   * it can refute without waiting for gossip to find it, to those who accused it before us, whose
   * clocks our confirmation shortens, and to a few others.
   */
  private spread(claim: Claim, name: string, now: boolean): void {
    const message = toGossip(name, claim);
    this.gossip.enqueue(message, this.retransmitLimit());
    if (!now) return;
    const told = new Set<string>([this.name]);
    const tell = (member: string) => {
      const to = told.has(member) ? undefined : this.knownEndpoint(member);
      told.add(member);
      if (to) this.send(to, [message]);
    };
    tell(name);
    for (const accuser of this.suspicions.get(name)?.accusers() ?? []) tell(accuser);
    this.flushSoon();
  }

  /**
   * A verdict (FAILED, SHUTDOWN) is rare and everyone wants it: each member passes it on to a few
   * others as soon as it learns it, so it reaches the whole group in about log3(members) hops
   * instead of waiting for the probes it could ride on.
   */
  private spreadNow(claim: Claim, name: string): void {
    this.gossip.enqueue(toGossip(name, claim), this.retransmitLimit());
    this.flushSoon();
  }

  /** Sends the gossip queue to a few random members once the current packet is handled: news that came together leaves together. */
  private flushSoon(): void {
    if (this.flushPending || this.stopped) return;
    this.flushPending = this.scheduler.schedule(0, () => {
      this.flushPending = undefined;
      if (this.gossip.size) this.fanOut([]);
    });
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

  // ---- sending ----------------------------------------------------------------------------------

  /** One packet to one member: `required`, and as much queued gossip as fits. */
  private send(to: Endpoint, required: HeartbeatMessage[]): void {
    if (this.stopped) return;
    this.transmit(this.encode(required, true), (packet) => this.transport.send(packet, to));
  }

  /** `messages` to one member in as many packets as they take, without gossip (push-pull's state). */
  private sendAll(to: Endpoint, messages: HeartbeatMessage[]): void {
    let rest = messages;
    while (rest.length && !this.stopped) {
      const { packet, included } = encodePacket(this.keys.signing(this.clock.monotonic()), this.domain, this.sender(), [], rest);
      if (!included) return; // one message alone larger than a packet: nothing we send is
      this.transmit(packet, (p) => this.transport.send(p, to));
      rest = rest.slice(included);
    }
  }

  /** To the whole group (multicast), when the transport has one. */
  private broadcast(required: HeartbeatMessage[]): void {
    const { broadcast } = this.transport;
    if (this.stopped || !broadcast) return;
    this.transmit(this.encode(required, true), (packet) => broadcast.call(this.transport, packet));
  }

  /** To gossipFanout random live members, each its own packet with its share of gossip. */
  private fanOut(required: HeartbeatMessage[]): void {
    for (const name of this.sampleReachable(this.timings.gossipFanout)) this.send(endpointOf(this.records.get(name)!), required);
  }

  private encode(required: HeartbeatMessage[], piggyback: boolean): Buffer {
    const candidates = piggyback && this.gossip.size ? this.gossip.candidates(MAX_GOSSIP_PER_PACKET) : [];
    const { packet, included } = encodePacket(this.keys.signing(this.clock.monotonic()), this.domain, this.sender(), required, candidates);
    if (included) this.gossip.sent(candidates.slice(0, included));
    return packet;
  }

  private transmit(packet: Buffer, deliver: (packet: Buffer) => void): void {
    this.counters.packetsSent++;
    this.counters.bytesSent += packet.length;
    deliver(packet);
  }

  /** Members to announce to: those we hold FAILED and the configured seeds we have not heard of. */
  private unreachable(): Endpoint[] {
    return [...this.names((r) => r.state === 'FAILED').map((name) => endpointOf(this.records.get(name)!)), ...this.unknownSeeds()];
  }

  private unknownSeeds(): Endpoint[] {
    const seeds = this.transport.seeds;
    if (!seeds.length) return [];
    const known = new Set<string>([endpointKey(this.transport.local)]);
    for (const record of this.records.values()) known.add(endpointKey(endpointOf(record)));
    return seeds.filter((seed) => !known.has(endpointKey(seed)));
  }

  /** Where a member is reached, if we know it at all. */
  private knownEndpoint(name: string): Endpoint | undefined {
    const record = this.records.get(name);
    return record && endpointOf(record);
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

  private ackOf(ping: PingMessage, from: string): HeartbeatMessage {
    return { type: 'ack', id: ping.id, target: from };
  }

  private aliveMessage(): HeartbeatGossipMessage {
    return aliveMessage(this.selfRecord());
  }

  /** What push-pull compares: the live servers we know, ourselves included. */
  private view(): ViewEntry[] {
    const entries: ViewEntry[] = [];
    const add = (record: MemberRecord) => entries.push({ name: record.name, epoch: record.epoch, incarnation: record.incarnation, message: () => aliveMessage(record) });
    if (!this.identity.observer) add(this.selfRecord());
    for (const record of this.records.values()) if (isReachable(record) && !record.observer) add(record);
    return entries;
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private retransmitLimit(): number {
    return retransmitLimit(this.timings, this.countReachable());
  }

  /** Members that take part now, this one included. */
  private countReachable(): number {
    return this.ring.length;
  }

  /**
   * Up to `count` distinct random reachable members that `accept` takes, drawn from the probe ring
   * instead of a scan of every record: fan-outs and indirect probes happen for many packets, and at
   * 512 members the scan per packet was a tenth of the group's CPU. When draws keep being refused (a
   * small group, or most of it suspect) the scan decides.
   */
  private sampleReachable(count: number, accept: (record: MemberRecord) => boolean = () => true): string[] {
    const names = this.ring;
    const chosen = new Set<string>();
    for (let draw = 0; chosen.size < count && draw < 4 * count; draw++) {
      const name = names[Math.floor(this.random.next() * names.length)]!;
      if (name !== this.name && !chosen.has(name) && accept(this.records.get(name)!)) chosen.add(name);
    }
    if (chosen.size >= count) return [...chosen];
    return this.random.sample(this.names((r) => isReachable(r) && accept(r)), count);
  }

  private names(filter: (record: MemberRecord) => boolean): string[] {
    const names: string[] = [];
    for (const record of this.records.values()) if (filter(record)) names.push(record.name);
    return names;
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
}

export function createTransport(options: TransportOptions): Transport {
  return options.mode === 'multicast' ? new MulticastTransport(options) : new UnicastTransport(options);
}

/** Where `name` is in the sorted `ring`, or would be inserted (the order of Array.prototype.sort). */
function ringIndex(ring: readonly string[], name: string): number {
  let low = 0;
  let high = ring.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (ring[middle]! < name) low = middle + 1;
    else high = middle;
  }
  return low;
}

function isReachable(record: MemberRecord): boolean {
  return record.state === 'ALIVE' || record.state === 'SUSPECT';
}

function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '';
}
