import type { DomainConfig } from '../config/schema.js';

/** `managed start --detach` syncs and starts the apps: seconds; a hung one must not hold a restart forever. */
export const SERVER_START_TIMEOUT_MS = 60_000;
/** Between two tries at a server that will not start: long enough for a port to free up. */
export const RESTART_RETRY_DELAY_MS = 1_000;

export type AttemptTaken = { allowed: true; attempt: number; of: number } | { allowed: false; reason: string };

/**
 * The restart limit of docs/configuration.md (`restart.attempts` within `restart.windowSeconds`),
 * counted per server, whoever restarts it: the MASTER, or a peer on its node while the MASTER is down.
 */
export class RestartAttempts {
  private readonly attempts = new Map<string, number[]>();

  constructor(private readonly config: () => DomainConfig) {}

  /** One more try at `server`, if the limit allows it. */
  take(server: string): AttemptTaken {
    const { attempts, windowSeconds } = this.config().restart;
    const now = Date.now();
    const recent = (this.attempts.get(server) ?? []).filter((at) => now - at < windowSeconds * 1000);
    if (recent.length >= attempts) return { allowed: false, reason: `restart limit reached: ${recent.length} attempts within ${windowSeconds} s` };
    recent.push(now);
    this.attempts.set(server, recent);
    return { allowed: true, attempt: recent.length, of: attempts };
  }

  /** Forget a server's past attempts: it came back and stayed, or was stopped on purpose. */
  reset(server: string): void {
    this.attempts.delete(server);
  }
}
