/**
 * When a crashed application is started again, as PM2 users expect: restarts are counted, a run
 * shorter than MIN_UPTIME is "unstable", and after MAX_UNSTABLE unstable runs in a row the
 * application is FAILED (and the server STANDBY) instead of looping forever.
 */
/** A run this long proves the application starts; shorter ones count against it. */
export const MIN_UPTIME_MS = 1_000;
/** Enough to ride out a dependency that comes up a few seconds late. */
export const MAX_UNSTABLE = 5;
const BASE_DELAY_MS = 100;
/** Never wait longer than this between attempts: a fixed app comes back quickly. */
const MAX_DELAY_MS = 5_000;
/** How long a new process has to answer on its port before the attempt counts as failed. */
export const START_TIMEOUT_MS = 15_000;
/**
 * How often a starting process is probed on its port: a refused probe is one loopback connect, so
 * probing often lets a new version in as soon as it listens (at 50 ms a redeploy waited 25 ms on
 * average for nothing).
 */
export const READINESS_POLL_MS = 10;
/** How long in-flight requests may take to finish before an old version is stopped anyway. */
export const DRAIN_TIMEOUT_MS = 30_000;
/**
 * What a context without a ready instance tells clients to wait (`Retry-After`, seconds): the first
 * restarts come within a second (BASE_DELAY_MS doubling), so a client that waits this long usually
 * finds the application back, and one that retries sooner only adds load.
 */
export const RETRY_AFTER_S = 1;
/** SIGTERM first; SIGKILL after this. */
export const STOP_GRACE_MS = 5_000;

export function restartDelay(unstableRuns: number): number {
  return Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.max(0, unstableRuns - 1));
}
