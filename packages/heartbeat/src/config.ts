/**
 * The failure detector's timings come from core (config/heartbeat-timings.ts), where the
 * configuration is checked with the same rules: defaults, reasons and rules live there once. What
 * is heartbeat's own is how the algorithm scales them with the size of the group.
 */
import type { HeartbeatTimings } from '@flotilla/core';

export { DEFAULT_TIMINGS, resolveTimings, type HeartbeatTimings } from '@flotilla/core';

/**
 * Lifeguard's suspicion bounds. Unlike memberlist's, they do not grow with log10 of the group:
 * there the suspect and every member holding the suspicion must hear the refutation through gossip,
 * which takes more rounds in a larger group; here the accuser tells the suspect at once, the
 * suspect answers every accuser directly, and every member that learns of a suspicion probes the
 * suspect itself (each probe's answer carries the refutation). None of these take longer in a
 * group of 512 than of 8, so neither does failure detection (docs/contract.md#scale).
 */
export function suspicionBounds(timings: HeartbeatTimings): { minMs: number; maxMs: number } {
  const minMs = timings.suspicionMinMs;
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
