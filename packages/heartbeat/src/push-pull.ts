import { createHash } from 'node:crypto';
import { HEARTBEAT_SYNC_DIGEST_HEX, type HeartbeatGossipMessage, type HeartbeatMessage, type HeartbeatSyncMessage } from '@flotilla/core';
import type { Endpoint } from './transport.js';

/** One live server of a member's view, as push-pull compares and sends it. */
export interface ViewEntry {
  name: string;
  epoch: number;
  incarnation: number;
  /** The entry as the `alive` message that tells another member of it. */
  message(): HeartbeatGossipMessage;
}

export interface PushPullHost {
  /** The live servers this member knows, itself included (observers and departed members are not compared). */
  view(): ViewEntry[];
  /** One packet of `messages`. */
  send(to: Endpoint, messages: HeartbeatMessage[]): void;
  /** `messages` in as many packets as they take. */
  sendAll(to: Endpoint, messages: HeartbeatMessage[]): void;
}

/**
 * memberlist's push-pull, on datagrams: every pushPullIntervalMs a member sends the digest of its
 * view to one random member, which answers with its own. Where the digests differ, each side sends
 * the other its live members; they arrive as `alive` gossip, so a member not yet heard of is
 * challenged and joins, as with any gossip. Gossip reaches a few members at a time; this is what
 * still makes a join that gossip missed, or the two halves of a healed partition, converge.
 */
export class PushPull {
  constructor(private readonly host: PushPullHost) {}

  /** Starts an exchange with the member at `to`. */
  begin(to: Endpoint): void {
    this.host.send(to, [this.syncMessage(this.host.view(), false)]);
  }

  receive(message: HeartbeatSyncMessage, from: Endpoint): void {
    const view = this.host.view();
    const mine = this.syncMessage(view, true);
    if (!message.reply) this.host.send(from, [mine]);
    if (mine.digest !== message.digest) this.host.sendAll(from, view.map((entry) => entry.message()));
  }

  private syncMessage(view: ViewEntry[], reply: boolean): HeartbeatSyncMessage {
    return { type: 'sync', digest: viewDigest(view), members: view.length, reply };
  }
}

/** The digest of a view: equal views, equal digests, whatever order the members were learned in. */
export function viewDigest(view: readonly Pick<ViewEntry, 'name' | 'epoch' | 'incarnation'>[]): string {
  const lines = view.map((entry) => `${entry.name} ${entry.epoch} ${entry.incarnation}\n`).sort();
  return createHash('sha256').update(lines.join('')).digest('hex').slice(0, HEARTBEAT_SYNC_DIGEST_HEX);
}
