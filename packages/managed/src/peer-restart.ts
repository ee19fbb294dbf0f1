import { execa } from 'execa';
import { MAX_REPORTED_PEER_RESTARTS, RESTART_RETRY_DELAY_MS, RestartAttempts, SERVER_START_TIMEOUT_MS, type DomainConfig, type Logger, type PeerRestart } from '@flotilla/core';
import type { Membership, MembershipEvent } from '@flotilla/heartbeat';

export interface PeerRestartDeps {
  domain: string;
  self: string;
  home: string;
  config: () => DomainConfig;
  membership: Membership;
  /** True while this server is attached to its MASTER: then the MASTER restarts, not we. */
  masterReachable: () => boolean;
  log: Logger;
}

/**
 * Restarts a FAILED server of this node while the MASTER is down or unreachable (docs/operations.md,
 * "Restarts while the MASTER is down"). Of the live servers on the node, the first by name takes the
 * restart, so one tries, not all; were two to try anyway, the server's lock lets only one run. The
 * limits are the MASTER's own (`restart.attempts` within `restart.windowSeconds`).
 */
export class PeerRestarter {
  private readonly attempts: RestartAttempts;
  private readonly restarting = new Set<string>();
  /** What was done while the MASTER was away, until a report has told it (docs/operations.md). */
  private untold: PeerRestart[] = [];
  private stopped = false;

  constructor(private readonly deps: PeerRestartDeps) {
    this.attempts = new RestartAttempts(deps.config);
    deps.membership.on('event', (event) => this.onEvent(event));
  }

  stop(): void {
    this.stopped = true;
  }

  /** The restarts the MASTER has not heard of, oldest first, for the next report. */
  toTell(): PeerRestart[] {
    return [...this.untold];
  }

  /** A report carrying `told` reached the MASTER. */
  told(told: PeerRestart[]): void {
    this.untold = this.untold.filter((restart) => !told.includes(restart));
  }

  private remember(server: string, outcome: PeerRestart['outcome'], detail: string): void {
    this.untold = [...this.untold, { server, at: new Date().toISOString(), outcome, detail: detail.slice(0, 1024) }].slice(-MAX_REPORTED_PEER_RESTARTS);
  }

  private onEvent(event: MembershipEvent): void {
    if (event.event === 'left') this.attempts.reset(event.server);
    if (event.event !== 'failed' || !this.isMine(event.server)) return;
    void this.restart(event.server);
  }

  /** A server of our node, restartable, and we are the live server of the node that takes it. */
  private isMine(server: string): boolean {
    const config = this.deps.config();
    const settings = config.servers[server];
    const node = config.servers[this.deps.self]?.node;
    if (!settings || !settings.autoRestart || settings.node !== node || server === this.deps.self) return false;
    const live = Object.entries(config.servers)
      .filter(([name, peer]) => peer.node === node && (name === this.deps.self || this.isAlive(name)))
      .map(([name]) => name)
      .sort();
    return live[0] === this.deps.self;
  }

  private isAlive(server: string): boolean {
    const state = this.deps.membership.member(server)?.state;
    return state === 'ALIVE' || state === 'SUSPECT';
  }

  private async restart(server: string): Promise<void> {
    if (this.restarting.has(server)) return;
    this.restarting.add(server);
    try {
      while (!this.stopped && !this.deps.masterReachable() && !this.isAlive(server)) {
        const taken = this.attempts.take(server);
        if (!taken.allowed) {
          this.deps.log.error('MS-0091', `${server} stays FAILED: ${taken.reason} (the MASTER is unreachable; restarted by ${this.deps.self})`);
          this.remember(server, 'gave-up', taken.reason);
          return;
        }
        this.deps.log.info('MS-0090', `the MASTER is unreachable: restarting ${server} on this node (attempt ${taken.attempt} of ${taken.of})`);
        try {
          await execa(process.execPath, [...process.execArgv, process.argv[1]!, 'start', this.deps.domain, server, '--detach', '--home', this.deps.home], {
            timeout: SERVER_START_TIMEOUT_MS,
            stdin: 'ignore',
            env: { ...process.env, FLOTILLA_DETACHED: undefined },
          });
          this.deps.log.info('MS-0090', `restarted ${server} while the MASTER is unreachable`);
          this.remember(server, 'restarted', `attempt ${taken.attempt} of ${taken.of}`);
          return;
        } catch (error) {
          const detail = (error as { stderr?: string }).stderr?.trim() || (error as Error).message;
          this.deps.log.warn('MS-0091', `restarting ${server} failed: ${detail.split('\n').pop()}`);
          this.remember(server, 'failed', `attempt ${taken.attempt} of ${taken.of}: ${detail.split('\n').pop()}`);
        }
        await new Promise((resolve) => setTimeout(resolve, RESTART_RETRY_DELAY_MS));
      }
    } finally {
      this.restarting.delete(server);
    }
  }
}
