import type { HeartbeatGossipMessage } from '@flotilla/core';

interface Queued {
  message: HeartbeatGossipMessage;
  transmits: number;
  limit: number;
}

/**
 * Gossip waiting to be piggybacked (memberlist's TransmitLimitedQueue). Each message rides on a
 * limited number of outgoing packets (retransmitLimit: a multiple of log(members)), least-sent
 * first, so fresh news goes out before old news; a newer message about a member replaces the older
 * one, which is then not worth sending.
 *
 * Messages wait in buckets by how often they were sent, so the next packet's candidates cost as
 * many steps as fit in a packet, not a sort of the whole queue: after 512 members start together
 * the queue holds 512 messages, and a packet is sent 10 times a second.
 */
export class GossipQueue {
  private readonly queued = new Map<string, Queued>();
  /** Servers by transmit count: buckets[t] holds the messages sent t times, oldest first. */
  private readonly buckets: Set<string>[] = [];

  enqueue(message: HeartbeatGossipMessage, limit: number): void {
    this.remove(message.server);
    this.queued.set(message.server, { message, transmits: 0, limit });
    this.bucket(0).add(message.server);
  }

  /** Up to `max` messages in the order they should be tried for the next packet. */
  candidates(max: number): HeartbeatGossipMessage[] {
    const list: HeartbeatGossipMessage[] = [];
    for (const bucket of this.buckets) {
      if (!bucket) continue;
      for (const server of bucket) {
        if (list.length >= max) return list;
        list.push(this.queued.get(server)!.message);
      }
    }
    return list;
  }

  /** Records that these messages went out in one packet. */
  sent(messages: HeartbeatGossipMessage[]): void {
    for (const message of messages) {
      const queued = this.queued.get(message.server);
      if (!queued || queued.message !== message) continue;
      this.buckets[queued.transmits]!.delete(message.server);
      if (++queued.transmits >= queued.limit) this.queued.delete(message.server);
      else this.bucket(queued.transmits).add(message.server);
    }
  }

  get size(): number {
    return this.queued.size;
  }

  private remove(server: string): void {
    const queued = this.queued.get(server);
    if (!queued) return;
    this.buckets[queued.transmits]!.delete(server);
    this.queued.delete(server);
  }

  private bucket(transmits: number): Set<string> {
    return (this.buckets[transmits] ??= new Set());
  }
}
