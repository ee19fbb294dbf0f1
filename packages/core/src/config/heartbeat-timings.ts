import { z } from 'zod';

/**
 * Every timing of the failure detector, with the reason for its value, and the rules they obey:
 * the one place for both. The configuration checks `heartbeat.timings` with them when domain.json5
 * is loaded, and the heartbeat layer takes its timings from `resolveTimings`, which applies the
 * same rules, so a configuration that loads can never leave a process without failure detection.
 *
 * The defaults aim at the targets of docs/contract.md#measured: a killed server is FAILED in well under a
 * second (median under 0.75 s, p99 under 1.5 s), and no server is wrongly declared FAILED under
 * 20% packet loss or 400 ms event-loop stalls. The budget from the kill: the wait until some member
 * probes it (every member probes one member per period, so about a period on average, 130 ms
 * median at 8 members and more, with a tail of a few periods), then that probe's two rounds
 * (2 × probeTimeoutMs = 100 ms) to the suspicion, then the suspicion (suspicionMinMs, 420 ms, once
 * the other members have confirmed it): simulated, a median of about 0.65 s. Probes go to one
 * member, so loss alone can fail a probe (about 7% of them at 20% loss) just as a stall begins: a
 * member that stalls for 400 ms may be suspected at its very start, and refutes as soon as it runs
 * again, inside the 420 ms that its accusers wait. And an accuser that was itself slow reads its
 * socket before any verdict, so a refutation already received always counts.
 */
export const DEFAULT_TIMINGS = Object.freeze({
  /**
   * 200 ms: one probe period. Each member pings one other member per period, so detection
   * latency scales with it; at 5 small packets a second per member the load is negligible even for
   * a few dozen servers on a LAN.
   */
  probeIntervalMs: 200,
  /**
   * 50 ms: how long a direct ping may take before indirect probes are sent, and then how long the
   * indirect round may take: a probe ends 2 × this after its ping, and a member that did not answer
   * is suspected then. A LAN round trip is well under 1 ms; 50 ms is the stall threshold, so a host
   * too slow to answer in time is one whose timers run late, which the scheduler and awareness
   * handle. Every millisecond here is a millisecond of detection time (it was 100 ms, a probe
   * lasting the whole 200 ms period: medians of 0.75-0.9 s); a suspicion that a slow answer raises
   * is refuted, it takes suspicionMinMs of silence to be FAILED.
   */
  probeTimeoutMs: 50,
  /**
   * 3 helpers (SWIM's k): the chance that a live member is unreachable through the direct path and
   * all three indirect paths at 20% independent loss is about 7%, and that is only a suspicion, which
   * the member then refutes.
   */
  indirectChecks: 3,
  /**
   * 420 ms: the shortest a suspicion lasts (reached once enough members confirm it), whatever the
   * size of the domain: the suspect hears the accusation and answers its accusers directly, not
   * through gossip (packages/heartbeat/src/config.ts suspicionBounds). Longer than a 400 ms stall:
   * a probe that loss failed just as the stall began leaves the member that long to run again and
   * refute (a few ms); with the 100 ms probe before it, a dead member is FAILED about 520 ms after
   * its first missed ping.
   */
  suspicionMinMs: 420,
  /**
   * 6: a suspicion nobody confirms lasts 6 × the minimum (2.5 s), Lifeguard's default. One
   * member's lost packets should not turn into an accusation before the suspect can answer.
   */
  suspicionMaxMultiplier: 6,
  /**
   * 3: independent confirmations that shrink a suspicion to its minimum (fewer when the group is
   * small: at most members − 2). Lifeguard's value: beyond three, more confirmations add little.
   */
  suspicionConfirmations: 3,
  /**
   * 8: highest local-health score (Lifeguard awareness). A member that misses its own deadlines
   * stretches its probe timeouts and period up to (1 + 8)× instead of accusing healthy peers.
   */
  awarenessMax: 8,
  /**
   * 4: a gossip message is piggybacked 4 × ceil(log10(members + 1)) times, so it reaches every
   * member with high probability even at 20% loss (memberlist's RetransmitMult).
   */
  retransmitMultiplier: 4,
  /**
   * 1000 ms: how often a member announces itself to gossipFanout random members (unicast) and,
   * in multicast mode, to the group: there every (members / gossipFanout) × this, so the group as a
   * whole multicasts gossipFanout announcements a second however large it grows. Only discovery
   * depends on it (new members, healed partitions); failure detection does not.
   */
  announceIntervalMs: 1000,
  /**
   * 3 members (memberlist's GossipNodes): news and announcements go to this many random members at
   * a time, never to all of them, so a member's packets do not grow with the group; at 3 an epidemic
   * still reaches all of 512 members in about log3(512) ≈ 6 rounds, and each message rides on
   * probes too.
   */
  gossipFanout: 3,
  /**
   * 10 s: how often a member compares its whole view with one random member (memberlist's
   * push-pull). A digest goes each way; the members themselves follow only when the views differ,
   * so it costs two small packets in 10 s when all agree. It is what makes a join or a healed
   * partition converge when gossip missed it: within about this long.
   */
  pushPullIntervalMs: 10_000,
  /**
   * 50 ms: a timer this late means this process was not running (GC pause, CPU starvation,
   * SIGSTOP). A busy host delays timers by a few ms; 50 ms is far beyond that yet well under a probe.
   */
  stallThresholdMs: 50,
  /**
   * 400 ms: after a stall, this member accuses no one for this long: packets that arrived while it
   * was stalled are still being read, and the silence it saw was its own.
   */
  stallQuietMs: 400,
  /**
   * 3 copies of the leave announcement, 50 ms apart: at 20% loss each member misses all three with
   * probability 0.8%, and the others relay it anyway.
   */
  leaveRepeats: 3,
  leaveSpacingMs: 50,
  /**
   * 60 s: an observer (`heartbeat watch`) that left or failed is forgotten after this long. Every
   * watch run is a new observer; servers are never forgotten.
   */
  observerReapMs: 60_000,
  /**
   * 3 direct pings, probeTimeoutMs apart, challenge a run of a member that has not yet proven to
   * this member that it is live (heartbeat's liveness-challenge.ts). At 20% loss one round trip
   * fails 36% of the time, all three 4.7%, and the member's next packet starts a new challenge; a
   * run that never answers (a replay of a dead member's packets) costs one small ping per
   * probeTimeoutMs.
   */
  challengeAttempts: 3,
  /**
   * 5 s: after a key rotation, a member takes the new key at once but signs with it only this much
   * later. The MASTER hands the key to its running servers in parallel, each delivery given this
   * long (its rotateKey, master-server.ts), so by then every server that got it has it; a
   * member signing with it sooner would have its packets dropped by those still waiting for theirs,
   * and be suspected by them (seen on a busy machine with three servers, and at 512 the deliveries
   * spread over seconds).
   */
  rekeySwitchMs: 5_000,
  /**
   * 30 s: after a member's switch to the new key, packets signed with the previous key are still
   * taken for this long: the members switch within rekeySwitchMs of each other plus a few round
   * trips, not at one instant. Long enough for a rotation across 512 servers, short enough that the
   * old key soon opens nothing.
   */
  rekeyGraceMs: 30_000,
});

/** The failure detector's timings; DEFAULT_TIMINGS gives the reason for each default. */
export type HeartbeatTimings = { -readonly [Timing in keyof typeof DEFAULT_TIMINGS]: number };
export type HeartbeatTiming = keyof HeartbeatTimings;

/** Timings that count something (helpers, confirmations, steps, copies): a fraction of one means nothing. */
const COUNTS: ReadonlySet<HeartbeatTiming> = new Set(['indirectChecks', 'gossipFanout', 'suspicionConfirmations', 'awarenessMax', 'retransmitMultiplier', 'leaveRepeats', 'challengeAttempts']);

function timingValue(timing: HeartbeatTiming): z.ZodNumber {
  const positive = z.number().positive({ error: 'must be a positive number' });
  return COUNTS.has(timing) ? positive.int({ error: 'must be a whole number, 1 or more' }) : positive;
}

/** One timing must stay below another, whatever either is set to. */
interface OrderRule {
  lower: HeartbeatTiming;
  higher: HeartbeatTiming;
  why: string;
}

/** The rules between timings. */
const ORDER_RULES: readonly OrderRule[] = [
  { lower: 'probeTimeoutMs', higher: 'probeIntervalMs', why: 'the indirect probes need the rest of the probe period' },
  { lower: 'rekeySwitchMs', higher: 'rekeyGraceMs', why: 'members switch up to rekeySwitchMs apart, and each must still take the key the others sign with' },
];

export interface TimingProblem {
  /** The timing reported: one that is set, so that the error points at a line of the file. */
  timing: HeartbeatTiming;
  message: string;
}

/**
 * The rules between timings, on the timings that are set over the defaults (the schema runs this
 * only once each timing has passed its own check). A broken rule is reported at the timing that is set, the first of the rule's when
 * both are, and names the other's value and whether it is the default.
 */
export function timingRuleProblems(overrides: Partial<HeartbeatTimings>): TimingProblem[] {
  const value = (timing: HeartbeatTiming) => overrides[timing] ?? DEFAULT_TIMINGS[timing];
  const shown = (timing: HeartbeatTiming, why: string) => `${timing} (${value(timing)}${overrides[timing] === undefined ? ', its default' : ''}; ${why})`;
  const problems: TimingProblem[] = [];
  for (const rule of ORDER_RULES) {
    if (value(rule.lower) < value(rule.higher)) continue;
    problems.push(
      overrides[rule.lower] !== undefined
        ? { timing: rule.lower, message: `must be below ${shown(rule.higher, rule.why)}` }
        : { timing: rule.higher, message: `must be above ${shown(rule.lower, rule.why)}` },
    );
  }
  return problems;
}

/** `heartbeat.timings` in domain.json5: only what is set overrides the defaults. */
export const HeartbeatTimingsSchema = z
  .strictObject(
    Object.fromEntries(Object.keys(DEFAULT_TIMINGS).map((timing) => [timing, timingValue(timing as HeartbeatTiming).optional()])) as {
      [Timing in HeartbeatTiming]: z.ZodOptional<z.ZodNumber>;
    },
  )
  .superRefine((overrides, context) => {
    for (const problem of timingRuleProblems(overrides)) {
      context.addIssue({ code: 'custom', path: [problem.timing], message: problem.message, input: overrides[problem.timing] });
    }
  });

/**
 * The defaults with `overrides` applied, checked as domain.json5's `heartbeat.timings` is: for
 * timings that come from elsewhere (tests, tools). Throws a RangeError naming every problem.
 */
export function resolveTimings(overrides: Partial<HeartbeatTimings> = {}): HeartbeatTimings {
  const checked = HeartbeatTimingsSchema.safeParse(overrides);
  if (!checked.success) {
    const problems = checked.error.issues.map((issue) => {
      const timing = String(issue.path[0] ?? '');
      const got = timing in overrides ? `, got ${String(overrides[timing as HeartbeatTiming])}` : '';
      return `${timing ? `${timing} ` : ''}${issue.message}${got}`;
    });
    throw new RangeError(`heartbeat timings: ${problems.join('; ')}`);
  }
  const set = Object.entries(checked.data).filter(([, value]) => value !== undefined);
  return { ...DEFAULT_TIMINGS, ...Object.fromEntries(set) };
}
