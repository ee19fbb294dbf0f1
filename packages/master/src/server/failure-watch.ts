import { Membership, heartbeatOptionsFor, type MembershipEvent } from '@flotilla/heartbeat';
import { RESTART_RETRY_DELAY_MS, type DomainConfig, type Logger } from '@flotilla/core';
import type { ServerRegistry } from './registry.js';
import type { Restarter } from './restarter.js';

/**
 * The MASTER as a heartbeat member: what the heartbeats say of each server goes into the status
 * table as it happens, and a server that becomes FAILED is restarted on its node (docs/contract.md#heartbeats-and-restarts)
 * until it runs again or its restart limit is reached.
 */
export class FailureWatch {
  private joined?: Membership;
  private readonly restarting = new Set<string>();
  /** Stopped by an operator through the MASTER (master stop-server): down on purpose until started. */
  private readonly stoppedOnPurpose = new Set<string>();
  private stopped = false;

  constructor(
    private readonly domain: string,
    private key: Buffer,
    private readonly config: () => DomainConfig,
    private readonly registry: ServerRegistry,
    private readonly restarter: Restarter,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const config = this.config();
    try {
      const options = await heartbeatOptionsFor(config, config.master.name);
      this.joined = await Membership.start({
        domain: this.domain,
        self: options.self,
        key: this.key,
        transport: options.transport,
        config: config.heartbeat.timings,
        logger: { warn: (message) => this.log.warn('MA-0054', message) },
      });
    } catch (error) {
      this.log.error('MA-0054', `cannot join the heartbeat group: ${(error as Error).message}; failed servers will not be detected or restarted`);
      return;
    }
    this.joined.on('event', (event) => this.onEvent(event));
  }

  /** A rotated domain key: heartbeats are signed with it from now on. */
  rekey(next: Buffer): void {
    this.key = next;
    this.joined?.rekey(next);
  }

  /** The MASTER's member of the heartbeat group, once joined (for the console and the metrics). */
  get membership(): Membership | undefined {
    return this.joined;
  }

  /** An operator stops the server: whatever the heartbeats say next, it is not restarted. */
  stopping(server: string): void {
    this.stoppedOnPurpose.add(server);
    this.restarter.reset(server);
  }

  /** An operator starts the server: failure handling looks after it again. */
  starting(server: string): void {
    this.stoppedOnPurpose.delete(server);
  }

  /** What the heartbeats say of a server now: alive or not (unknown counts as not). */
  isAlive(server: string): boolean {
    const member = this.joined?.member(server);
    return member?.state === 'ALIVE' || member?.state === 'SUSPECT';
  }

  private onEvent(event: MembershipEvent): void {
    if (!this.config().servers[event.server]) return;
    this.log.info('MA-0050', `${event.server}: ${event.event} (${event.from} → ${event.to}, incarnation ${event.incarnation})`);
    if (event.event === 'failed') {
      // It said it was stopping (its last report) and the heartbeat that said so was lost: a stop.
      if (this.registry.statusOf(event.server) === 'SHUTTING_DOWN' || this.stoppedOnPurpose.has(event.server)) {
        this.registry.setStatus(event.server, 'SHUTDOWN');
        return;
      }
      this.registry.setStatus(event.server, 'FAILED');
      void this.restart(event.server);
      return;
    }
    if (event.event === 'left') {
      this.registry.setStatus(event.server, 'SHUTDOWN');
      this.restarter.reset(event.server); // stopped on purpose: never restarted, and forgiven
      return;
    }
    // joined, rejoined, refuted: alive again. An attached server's own report says more.
    if (!this.registry.isAttached(event.server) || event.to !== 'RUNNING') this.registry.setStatus(event.server, event.to);
  }

  /** Tries until the server runs again, or the restart policy gives up (then FAILED with why). */
  private async restart(server: string): Promise<void> {
    if (this.restarting.has(server)) return;
    this.restarting.add(server);
    try {
      while (!this.stopped && !this.stoppedOnPurpose.has(server) && this.registry.statusOf(server) === 'FAILED') {
        const outcome = await this.restarter.restart(server);
        if (outcome.started) return;
        this.registry.setFailure(server, outcome.reason);
        if (outcome.final) return;
        await new Promise((resolve) => setTimeout(resolve, RESTART_RETRY_DELAY_MS));
      }
    } finally {
      this.restarting.delete(server);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.joined?.leave().catch(() => {});
  }
}
