/**
 * The failure detector's timings come from core (config/heartbeat-timings.ts), where the
 * configuration is checked with the same rules: defaults, reasons and rules live there once. What
 * is heartbeat's own is how the algorithm scales them with the size of the group.
 */
import type { HeartbeatTimings } from '@flotilla/core';

export { DEFAULT_TIMINGS, resolveTimings, type HeartbeatTimings } from '@flotilla/core';

/**
 * Lifeguard's suspicion bounds for a group of `members`: the minimum grows with log10 of the size
 * because gossip needs about that many rounds to reach everyone.
 */
export function suspicionBounds(timings: HeartbeatTimings, members: number): { minMs: number; maxMs: number } {
  const minMs = timings.suspicionMinMs * Math.max(1, Math.log10(Math.max(1, members)));
  return { minMs, maxMs: minMs * Math.max(1, timings.suspicionMaxMultiplier) };
}

/** How many times one gossip message is piggybacked before it is dropped from the queue. */
export function retransmitLimit(timings: HeartbeatTimings, members: number): number {
  return timings.retransmitMultiplier * Math.max(1, Math.ceil(Math.log10(members + 1)));
}

/**
 * How often one member multicasts its announcement in a group of `members`: the group as a whole
 * then multicasts gossipFanout of them per announceIntervalMs, whatever its size.
 */
export function groupAnnounceIntervalMs(timings: HeartbeatTimings, members: number): number {
  return timings.announceIntervalMs * Math.max(1, members / timings.gossipFanout);
}
