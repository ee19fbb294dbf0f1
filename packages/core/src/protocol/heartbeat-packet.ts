/**
 * The heartbeat packet (docs/contract.md#heartbeats-and-restarts), version 1: the wire contract between every member of a
 * domain's heartbeat group, whichever release it runs. The codec lives in @flotilla/heartbeat; the
 * types live here so that any package can read or build packets without depending on it.
 *
 * Layout of one UDP datagram:
 *
 *   "FLHB"          4 bytes  magic: tells a heartbeat from stray traffic on the port
 *   version         1 byte   HEARTBEAT_PACKET_VERSION
 *   domain length   1 byte
 *   domain          UTF-8    in clear, so a foreign domain's packet is told apart from a forged one
 *   body            UTF-8    JSON of HeartbeatPacketBody
 *   HMAC-SHA256    32 bytes  over every byte before it, keyed with the domain key
 *
 * A change that an older member cannot read takes a new version number; a receiver drops (and
 * counts) any version it does not know.
 */

export const HEARTBEAT_PACKET_VERSION = 1;
export const HEARTBEAT_PACKET_MAGIC = 'FLHB';
/**
 * Under the 1500-byte Ethernet MTU minus IP/UDP headers and a margin for tunnels: a heartbeat is
 * never fragmented, so one lost fragment never loses a whole packet.
 */
export const HEARTBEAT_PACKET_MAX_BYTES = 1400;
export const HEARTBEAT_MAC_BYTES = 32;

/** Small facts a member publishes about itself (role, pid, node); a few hundred bytes at most. */
export type HeartbeatMeta = Record<string, string | number | boolean>;

/** Who sent the packet: every packet is also a proof of life of its sender at this incarnation. */
export interface HeartbeatSender {
  name: string;
  /**
   * When this process started (ms since 1970). A restarted member is a new epoch: its incarnation
   * and sequence start again, and (epoch, sequence) is what replay protection remembers.
   */
  epoch: number;
  /** Grows when the member refutes a suspicion about itself; ordering is (epoch, incarnation). */
  incarnation: number;
  /** Grows with every packet the sender sends in this epoch. */
  seq: number;
  /** Where the sender receives heartbeats (unicast mode sends there). */
  address: string;
  port: number;
  /** An observer (`heartbeat watch`) takes part in the protocol but is not a server of the domain. */
  observer?: boolean;
  meta?: HeartbeatMeta;
}

/** Probe traffic: `id` correlates a ping with its ack within one sender. */
export type HeartbeatProbeMessage =
  | { type: 'ping'; id: number; target: string }
  /** `target` is the member that sent the ping being answered. */
  | { type: 'ack'; id: number; target: string }
  /** Asks `helper` to ping `target` on the sender's behalf (SWIM indirect probe). */
  | { type: 'ping-req'; id: number; helper: string; target: string }
  /** The helper reached `target`: answers the ping-req `id` of `requester`. */
  | { type: 'indirect-ack'; id: number; requester: string; target: string }
  /** The helper did not reach `target` in time (Lifeguard): tells the requester its own link works. */
  | { type: 'nack'; id: number; requester: string; target: string };

/** Membership gossip, piggybacked on any packet. */
export type HeartbeatGossipMessage =
  | {
      type: 'alive';
      server: string;
      epoch: number;
      incarnation: number;
      address: string;
      port: number;
      observer?: boolean;
      meta?: HeartbeatMeta;
    }
  | { type: 'suspect'; server: string; epoch: number; incarnation: number; from: string }
  | { type: 'dead'; server: string; epoch: number; incarnation: number; from: string }
  /** Graceful stop: the member goes to SHUTDOWN at once, never through FAILED. */
  | { type: 'leave'; server: string; epoch: number; incarnation: number };

/**
 * Push-pull (memberlist's full-state exchange), with one random member every pushPullIntervalMs:
 * `digest` sums up the sender's view (HEARTBEAT_SYNC_DIGEST_HEX hex digits of a SHA-256 over the
 * name, epoch and incarnation of every live server it knows, itself included, sorted by name), so two
 * members that agree exchange one small packet each way. When the digests differ, the side that
 * sees it sends its live members as `alive` messages (as many packets as they take) after its
 * reply. Added within version 1: a member of an earlier release skips the unknown type, as it
 * skips any, and simply takes no part in push-pull.
 */
export interface HeartbeatSyncMessage {
  type: 'sync';
  digest: string;
  /** How many live servers the digest covers. */
  members: number;
  /** false: the first message of an exchange, to be answered; true: the answer. */
  reply: boolean;
}

export const HEARTBEAT_SYNC_DIGEST_HEX = 16;

export type HeartbeatMessage = HeartbeatProbeMessage | HeartbeatGossipMessage | HeartbeatSyncMessage;

/** The authenticated JSON body. */
export interface HeartbeatPacketBody {
  sender: HeartbeatSender;
  messages: HeartbeatMessage[];
}

export interface HeartbeatPacket extends HeartbeatPacketBody {
  version: typeof HEARTBEAT_PACKET_VERSION;
  domain: string;
}
