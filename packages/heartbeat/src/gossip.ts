import type { HeartbeatGossipMessage } from '@flotilla/core';

interface Queued {
  message: HeartbeatGossipMessage;
  transmits: number;
  limit: number;
}

/**
 * Gossip waiting to be piggybacked (memberlist's TransmitLimitedQueue). Each message rides on a
 * limited number of outgoing packets, least-sent first, so fresh news goes out before old news; a
 * newer message about a member replaces the older one, which is then not worth sending.
 */
export class GossipQueue {
  private readonly queued = new Map<string, Queued>();

  enqueue(message: HeartbeatGossipMessage, limit: number): void {
    this.queued.set(message.server, { message, transmits: 0, limit });
  }

  /** Messages in the order they should be tried for the next packet. */
  candidates(): HeartbeatGossipMessage[] {
    return [...this.queued.values()].sort((a, b) => a.transmits - b.transmits).map((q) => q.message);
  }

  /** Records that these messages went out in one packet. */
  sent(messages: HeartbeatGossipMessage[]): void {
    for (const message of messages) {
      const queued = this.queued.get(message.server);
      if (!queued || queued.message !== message) continue;
      if (++queued.transmits >= queued.limit) this.queued.delete(message.server);
    }
  }

  get size(): number {
    return this.queued.size;
  }
}
