/**
 * Every timing of the failure detector, with the reason for its value. All of them can be
 * overridden (`Membership.start({ config })`); the defaults aim at the targets of SPEC section 11:
 * a killed server is FAILED in well under a second (median under 0.75 s, p99 under 1.5 s), and no
 * server is wrongly declared FAILED under 20% packet loss or 400 ms event-loop stalls.
 *
 * The budget from the moment a dead member first misses a ping: it is suspected at the end of that
 * probe period (probeIntervalMs), then FAILED when its suspicion times out (suspicionMinMs once the
 * other members have confirmed). 200 + 300 = 500 ms, plus the wait for someone to probe it (on
 * average a fraction of a period, since every member probes one member per period). A member that
 * merely stalls for 400 ms is suspected at most 200 ms into its stall and refutes as soon as it runs
 * again, about 200 ms later: inside the 300 ms that its accusers wait. And an accuser that was
 * itself slow reads its socket before any verdict, so a refutation already received always counts.
 */
export interface HeartbeatTimings {
  /**
   * 200 ms: one probe period. Each member pings one other member per period, so detection
   * latency scales with it; at 5 small packets a second per member the load is negligible even for
   * a few dozen servers on a LAN.
   */
  probeIntervalMs: number;
  /**
   * 100 ms: how long a direct ping may take before indirect probes are sent. A LAN round trip is
   * well under 1 ms; the rest absorbs scheduling delays on a loaded host. Half the period leaves the
   * other half for the indirect round trip.
   */
  probeTimeoutMs: number;
  /**
   * 3 helpers (SWIM's k): the chance that a live member is unreachable through the direct path and
   * all three indirect paths at 20% independent loss is about 7%, and that is only a suspicion, which
   * the member then refutes.
   */
  indirectChecks: number;
  /**
   * 300 ms: the shortest a suspicion lasts (reached once enough members confirm it), for a domain
   * of up to 10 members; it grows with log10(members) above that, because gossip takes longer to
   * reach everyone. With the 200 ms period before it, a member is FAILED no sooner than 500 ms
   * after its first missed ping: a 400 ms stall ends, and its refutation arrives, well before.
   */
  suspicionMinMs: number;
  /**
   * 6: a suspicion nobody confirms lasts 6 × the minimum (1.8 s), Lifeguard's default. One
   * member's lost packets should not turn into an accusation before the suspect can answer.
   */
  suspicionMaxMultiplier: number;
  /**
   * 3: independent confirmations that shrink a suspicion to its minimum (fewer when the group is
   * small: at most members − 2). Lifeguard's value: beyond three, more confirmations add little.
   */
  suspicionConfirmations: number;
  /**
   * 8: highest local-health score (Lifeguard awareness). A member that misses its own deadlines
   * stretches its probe timeouts and period up to (1 + 8)× instead of accusing healthy peers.
   */
  awarenessMax: number;
  /**
   * 4: a gossip message is piggybacked 4 × ceil(log10(members + 1)) times, so it reaches every
   * member with high probability even at 20% loss (memberlist's RetransmitMult).
   */
  retransmitMultiplier: number;
  /**
   * 1000 ms: how often a member announces itself to the whole group. Only discovery depends on it
   * (new members, healed partitions); failure detection does not.
   */
  announceIntervalMs: number;
  /**
   * 50 ms: a timer this late means this process was not running (GC pause, CPU starvation,
   * SIGSTOP). A busy host delays timers by a few ms; 50 ms is far beyond that yet well under a probe.
   */
  stallThresholdMs: number;
  /**
   * 400 ms: after a stall, this member accuses no one for this long: packets that arrived while it
   * was stalled are still being read, and the silence it saw was its own.
   */
  stallQuietMs: number;
  /**
   * 3 copies of the leave announcement, 50 ms apart: at 20% loss each member misses all three with
   * probability 0.8%, and the others relay it anyway.
   */
  leaveRepeats: number;
  leaveSpacingMs: number;
  /**
   * 60 s: an observer (`heartbeat watch`) that left or failed is forgotten after this long. Every
   * watch run is a new observer; servers are never forgotten.
   */
  observerReapMs: number;
  /**
   * 3 direct pings, probeTimeoutMs apart, challenge a run of a member that has not yet proven to
   * this member that it is live (liveness-challenge.ts). At 20% loss one round trip fails 36% of
   * the time, all three 4.7%, and the member's next packet starts a new challenge; a run that never
   * answers (a replay of a dead member's packets) costs one small ping per probeTimeoutMs.
   */
  challengeAttempts: number;
}

export const DEFAULT_TIMINGS: Readonly<HeartbeatTimings> = Object.freeze({
  probeIntervalMs: 200,
  probeTimeoutMs: 100,
  indirectChecks: 3,
  suspicionMinMs: 300,
  suspicionMaxMultiplier: 6,
  suspicionConfirmations: 3,
  awarenessMax: 8,
  retransmitMultiplier: 4,
  announceIntervalMs: 1000,
  stallThresholdMs: 50,
  stallQuietMs: 400,
  leaveRepeats: 3,
  leaveSpacingMs: 50,
  observerReapMs: 60_000,
  challengeAttempts: 3,
});

/** Defaults with the overrides applied; refuses values that would break the protocol. */
export function resolveTimings(overrides: Partial<HeartbeatTimings> = {}): HeartbeatTimings {
  const timings = { ...DEFAULT_TIMINGS, ...overrides };
  for (const [key, value] of Object.entries(timings)) {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`heartbeat timing ${key} must be a number ≥ 0, got ${String(value)}`);
    }
  }
  if (timings.probeTimeoutMs >= timings.probeIntervalMs) {
    throw new RangeError(
      `heartbeat probeTimeoutMs (${timings.probeTimeoutMs}) must be below probeIntervalMs (${timings.probeIntervalMs}): the indirect probes need the rest of the period`,
    );
  }
  if (timings.probeIntervalMs <= 0) throw new RangeError('heartbeat probeIntervalMs must be above 0');
  return timings;
}

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
