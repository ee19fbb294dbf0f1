/**
 * How packets move. The membership only hands datagrams to a transport; multicast, unicast and
 * the in-memory network of the unit tests all look the same to it.
 */
export interface Endpoint {
  address: string;
  port: number;
}

export type PacketHandler = (packet: Buffer, from: Endpoint) => void;

export interface Transport {
  /** Where other members reach this one, one datagram at a time; announced in every packet. Valid once started. */
  readonly local: Endpoint;
  /** Configured peers to announce to before anything is known about them (unicast seeds). */
  readonly seeds: readonly Endpoint[];
  start(onPacket: PacketHandler): Promise<void>;
  /** To one member. Best effort, like UDP itself: a send that fails is reported to `onError`, never thrown. */
  send(packet: Buffer, to: Endpoint): void;
  /**
   * To every member at once (multicast); absent in unicast mode. The membership uses it for
   * announcements only, at a rate that does not grow with the group (docs/protocol.md#heartbeats).
   */
  broadcast?(packet: Buffer): void;
  stop(): Promise<void>;
  /** Set by the membership to count and log failed sends. */
  onError?: (error: Error) => void;
}

export function endpointKey(endpoint: Endpoint): string {
  return `${endpoint.address}:${endpoint.port}`;
}
