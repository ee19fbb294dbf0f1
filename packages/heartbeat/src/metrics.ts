import { Counter, Gauge, type Registry } from 'prom-client';
import type { Membership } from './membership.js';
import type { DropReason } from './packet.js';
import type { MemberState } from './state.js';

const DROP_REASONS: DropReason[] = ['oversize', 'malformed', 'foreignDomain', 'badSignature', 'replay'];
const MEMBER_STATES: MemberState[] = ['ALIVE', 'SUSPECT', 'FAILED', 'LEFT'];

/**
 * The heartbeat layer as Prometheus sees it, for the MASTER and for every managed server: packet
 * counters mirrored from Membership.stats() at each scrape (the membership keeps the totals),
 * the events this member raised, and how many members it sees in each state. A process whose
 * membership never started reports zeros.
 */
export class HeartbeatMetrics {
  private membership?: Membership;
  private readonly events: Counter<'event' | 'member'>;

  constructor(registry: Registry) {
    const stats = () => this.membership?.stats();
    new Counter({
      name: 'flotilla_heartbeat_packets_sent_total',
      help: 'Heartbeat packets this member sent.',
      registers: [registry],
      collect() {
        const now = stats();
        if (now) mirror(this, now.packetsSent);
      },
    });
    new Counter({
      name: 'flotilla_heartbeat_packets_received_total',
      help: 'Heartbeat packets this member received from others, dropped ones included.',
      registers: [registry],
      collect() {
        const now = stats();
        if (now) mirror(this, now.packetsReceived);
      },
    });
    new Counter({
      name: 'flotilla_heartbeat_packets_dropped_total',
      help: 'Heartbeat packets dropped, by reason: oversize, malformed, foreignDomain, badSignature, replay.',
      labelNames: ['reason'],
      registers: [registry],
      collect() {
        const now = stats();
        this.reset();
        for (const reason of DROP_REASONS) this.inc({ reason }, now?.dropped[reason] ?? 0);
      },
    });
    new Counter({
      name: 'flotilla_heartbeat_send_errors_total',
      help: 'Heartbeat packets the transport could not send.',
      registers: [registry],
      collect() {
        const now = stats();
        if (now) mirror(this, now.sendErrors);
      },
    });
    const members = () => this.membership?.members() ?? [];
    new Gauge({
      name: 'flotilla_heartbeat_members',
      help: 'Members of the heartbeat group this member sees in each state (itself included).',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        const seen = members();
        for (const state of MEMBER_STATES) this.set({ state }, seen.filter((member) => member.state === state).length);
      },
    });
    this.events = new Counter({
      name: 'flotilla_heartbeat_events_total',
      help: 'Membership events this member raised about others: joined, suspected, refuted, failed, left, rejoined.',
      labelNames: ['event', 'member'],
      registers: [registry],
    });
  }

  /** Starts counting for a membership that has joined its group. */
  watch(membership: Membership): void {
    this.membership = membership;
    membership.on('event', (event) => this.events.inc({ event: event.event, member: event.server }));
  }
}

/** A counter whose total is kept elsewhere: set to that total (a process restart resets both). */
function mirror(counter: Counter, total: number): void {
  counter.reset();
  counter.inc(total);
}
