import type { HeartbeatGossipMessage, HeartbeatSender } from '@flotilla/core';
import type { Claim, MemberRecord } from './state.js';
import type { Endpoint } from './transport.js';

/**
 * The pure conversions between what travels (gossip messages, a packet's sender) and what the
 * state machine takes (claims, state.ts). No state, no I/O.
 */

/** A gossip message as a claim about `message.server`; `provenLive` says whether its run answered our challenge. */
export function claimOfMessage(message: HeartbeatGossipMessage, provenLive: boolean): Claim {
  switch (message.type) {
    case 'alive':
      return {
        kind: 'alive',
        epoch: message.epoch,
        incarnation: message.incarnation,
        address: message.address,
        port: message.port,
        observer: message.observer ?? false,
        meta: message.meta ?? {},
        provenLive,
      };
    case 'suspect':
    case 'dead':
      return { kind: message.type, epoch: message.epoch, incarnation: message.incarnation, from: message.from };
    case 'leave':
      return { kind: 'leave', epoch: message.epoch, incarnation: message.incarnation };
  }
}

/** Every packet believed from a member is a proof of life of its sender, reached at `endpoint`. */
export function claimOfSender(sender: HeartbeatSender, endpoint: Endpoint): Claim {
  return {
    kind: 'alive',
    epoch: sender.epoch,
    incarnation: sender.incarnation,
    address: endpoint.address,
    port: endpoint.port,
    observer: sender.observer ?? false,
    meta: sender.meta ?? {},
    provenLive: true,
  };
}

/** A claim about `server` as the gossip message that spreads it. */
export function toGossip(server: string, claim: Claim): HeartbeatGossipMessage {
  switch (claim.kind) {
    case 'alive': {
      const { address, port, observer, meta, epoch, incarnation } = claim;
      return aliveMessage({ name: server, epoch, incarnation, address, port, observer, meta });
    }
    case 'suspect':
    case 'dead':
      return { type: claim.kind, server, epoch: claim.epoch, incarnation: claim.incarnation, from: claim.from };
    case 'leave':
      return { type: 'leave', server, epoch: claim.epoch, incarnation: claim.incarnation };
  }
}

/** What a member's record (or our own) says as an `alive` message: push-pull's state, announcements. */
export function aliveMessage(record: Pick<MemberRecord, 'name' | 'epoch' | 'incarnation' | 'address' | 'port' | 'observer' | 'meta'>): HeartbeatGossipMessage {
  const { name, epoch, incarnation, address, port, observer, meta } = record;
  return { type: 'alive', server: name, epoch, incarnation, address, port, ...(observer ? { observer } : {}), ...(Object.keys(meta).length ? { meta } : {}) };
}

export function endpointOf(record: Pick<MemberRecord, 'address' | 'port'>): Endpoint {
  return { address: record.address, port: record.port };
}
