import type { HeartbeatMessage } from '@flotilla/core';
import type { Awareness } from './awareness.js';
import type { Scheduler, Timer } from './scheduler.js';
import type { Endpoint } from './transport.js';

/** The helper gives up on an indirect ping a little before the requester's period ends, so its nack arrives in time. */
const NACK_FRACTION = 0.8;

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

/** What probing needs from the membership. */
export interface ProbeHost {
  scheduler: Scheduler;
  awareness: Awareness;
  probeTimeoutMs: number;
  probeIntervalMs: number;
  indirectChecks: number;
  /** Where a member is reached, while it is known. */
  endpointOf(name: string): Endpoint | undefined;
  /** Up to `count` random ALIVE members other than `target`, to ask for indirect pings. */
  helpers(target: string, count: number): string[];
  send(to: Endpoint, messages: HeartbeatMessage[]): void;
  /** Our suspicion of `target`, if we hold it SUSPECT: it rides on our pings (Lifeguard's buddy system). */
  accusation(target: string): HeartbeatMessage | undefined;
  /** A probe of `target` failed, direct and indirect. */
  failed(target: string): void;
}

/**
 * SWIM's probe with Lifeguard's nacks: a direct ping; no answer within the probe timeout, and
 * `indirectChecks` helpers are asked to ping the target; still nothing once the indirect round has
 * had as long again (at the latest by the end of the period), and the target is reported failed. Every packet goes to one member: the cost does not grow with the
 * group. The relay half answers other members' indirect probes.
 */
export class Prober {
  private nextId = 0;
  private readonly probes = new Map<number, Probe>();
  private readonly relays = new Map<number, Relay>();
  /** Probes in progress by target, so that evidence of life finds them without a scan. */
  private readonly byTarget = new Map<string, Set<Probe>>();

  constructor(private readonly host: ProbeHost) {}

  probe(target: string): void {
    const endpoint = this.host.endpointOf(target);
    if (!endpoint) return;
    const { scheduler, awareness } = this.host;
    const probe: Probe = { id: ++this.nextId, target, acked: false, nacks: 0, expectedNacks: 0, timers: [] };
    this.probes.set(probe.id, probe);
    let forTarget = this.byTarget.get(target);
    if (!forTarget) this.byTarget.set(target, (forTarget = new Set()));
    forTarget.add(probe);
    // A suspect we ping learns from the ping itself that it is suspected, and refutes at once,
    // whatever became of the gossip: before the ping, so that its answer carries the refutation.
    const accusation = this.host.accusation(target);
    this.host.send(endpoint, [...(accusation ? [accusation] : []), { type: 'ping', id: probe.id, target }]);
    probe.timers.push(
      scheduler.schedule(awareness.scale(this.host.probeTimeoutMs), () => this.probeIndirectly(probe)),
      scheduler.schedule(awareness.scale(this.probeLengthMs()), () => this.conclude(probe), { afterIo: true }),
    );
  }

  /**
   * The direct round, then the indirect one as long again (a helper's ping is one LAN round trip
   * like ours, and its nack comes at NACK_FRACTION of it), within the period. Waiting out a longer
   * period adds only to the detection time: the time from a kill to the suspicion is this.
   */
  private probeLengthMs(): number {
    return Math.min(2 * this.host.probeTimeoutMs, this.host.probeIntervalMs);
  }

  /** Whether a probe of `target` is in progress. */
  probing(target: string): boolean {
    return this.byTarget.has(target);
  }

  /** Any packet believed from a member proves it was running: it answers every probe of it. */
  evidenceOfLife(name: string): void {
    const probes = this.byTarget.get(name);
    if (probes) for (const probe of probes) probe.acked = true;
    if (!this.relays.size) return;
    for (const [id, relay] of this.relays) {
      if (relay.target !== name) continue;
      this.host.scheduler.cancel(relay.timer);
      this.relays.delete(id);
      this.host.send(relay.requesterEndpoint, [{ type: 'indirect-ack', id: relay.requesterId, requester: relay.requester, target: name }]);
    }
  }

  /** A ping-req addressed to us: ping `target` for `requester`, and tell it what came of it. */
  relay(requester: string, requesterEndpoint: Endpoint, requesterId: number, target: string): void {
    const endpoint = this.host.endpointOf(target);
    if (!endpoint) return;
    const id = ++this.nextId;
    // The nack is due within the requester's indirect round, which our health does not stretch
    // (memberlist's helper waits its unscaled ProbeTimeout too). Scaled by ours, a helper with any
    // local-health score sent its nack after the requester had concluded: the requester counted
    // it missing and raised its own score, which made it a late helper in turn. Real processes on
    // a loaded host spread such scores through the group that way (36% of probe periods of 24
    // members stretched, against 6% without): fewer probes, and detection 0.1-0.3 s later.
    const timer = this.host.scheduler.schedule(this.host.probeTimeoutMs * NACK_FRACTION, () => {
      this.relays.delete(id);
      this.host.send(requesterEndpoint, [{ type: 'nack', id: requesterId, requester, target }]);
    });
    this.relays.set(id, { requester, requesterEndpoint, requesterId, target, timer });
    this.host.send(endpoint, [{ type: 'ping', id, target }]);
  }

  indirectAck(id: number, target: string): void {
    const probe = this.probes.get(id);
    if (probe && probe.target === target) probe.acked = true;
  }

  nack(id: number, target: string): void {
    const probe = this.probes.get(id);
    if (probe && probe.target === target) probe.nacks++;
  }

  private probeIndirectly(probe: Probe): void {
    if (probe.acked) return;
    const helpers = this.host.helpers(probe.target, this.host.indirectChecks);
    probe.expectedNacks = helpers.length;
    for (const helper of helpers) {
      const endpoint = this.host.endpointOf(helper);
      if (endpoint) this.host.send(endpoint, [{ type: 'ping-req', id: probe.id, helper, target: probe.target }]);
    }
  }

  private conclude(probe: Probe): void {
    this.probes.delete(probe.id);
    const forTarget = this.byTarget.get(probe.target);
    forTarget?.delete(probe);
    if (forTarget && !forTarget.size) this.byTarget.delete(probe.target);
    for (const timer of probe.timers) this.host.scheduler.cancel(timer);
    if (probe.acked) {
      this.host.awareness.apply(-1);
      return;
    }
    // Lifeguard: helpers that did not even send a nack suggest our own links or process are at fault.
    this.host.awareness.apply(probe.expectedNacks ? probe.expectedNacks - probe.nacks : 1);
    this.host.failed(probe.target);
  }
}
