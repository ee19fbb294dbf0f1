export {
  Membership,
  createTransport,
  type Member,
  type MemberIdentity,
  type MembershipEvent,
  type MembershipOptions,
  type MembershipStats,
  type Logger,
  type TransportOptions,
} from './membership.js';
export { DEFAULT_TIMINGS, resolveTimings, suspicionBounds, type HeartbeatTimings } from './config.js';
export { STATUS_OF, type MemberState, type ServerStatus, type MembershipEventKind } from './state.js';
export { encodePacket, decodePacket, type DropReason, type DecodeResult } from './packet.js';
export { heartbeatOptionsFor, type HeartbeatOverrides, type DomainHeartbeatOptions } from './domain-options.js';
export type { Transport, Endpoint, PacketHandler } from './transport.js';
export { MulticastTransport, type MulticastTransportOptions } from './udp-multicast.js';
export { UnicastTransport, type UnicastTransportOptions } from './udp-unicast.js';
export { SimNetwork, type SimNetworkOptions } from './test-transport.js';
export { systemClock, type Clock } from './clock.js';
export { HeartbeatMetrics } from './metrics.js';
