import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { RestartAttempts, SERVER_START_TIMEOUT_MS, type DomainConfig, type Logger } from '@flotilla/core';

/** The managed binary of this install, for servers on the MASTER's own node. */
function localManagedBinary(): string {
  const packageJson = createRequire(import.meta.url).resolve('@flotilla/managed/package.json');
  return join(dirname(packageJson), 'bin', 'managed.js');
}

/** `final`: retrying cannot help (limit reached, restart off); otherwise try again later. */
export type RestartOutcome = { started: true } | { started: false; reason: string; final: boolean };

/**
 * Starts FAILED servers again on their node (docs/contract.md#heartbeats-and-restarts): a local node directly, any other
 * through its `exec` prefix (ssh or any wrapper), where `managed` must be on the PATH. At most
 * `restart.attempts` tries within `restart.windowSeconds`; then the server stays FAILED with the
 * reason.
 */
export class Restarter {
  private readonly attempts: RestartAttempts;

  constructor(
    private readonly home: string,
    private readonly config: () => DomainConfig,
    private readonly log: Logger,
  ) {
    this.attempts = new RestartAttempts(config);
  }

  /** Forget a server's past attempts: it came back and stayed, or was stopped on purpose. */
  reset(server: string): void {
    this.attempts.reset(server);
  }

  async restart(server: string): Promise<RestartOutcome> {
    const config = this.config();
    const settings = config.servers[server];
    if (!settings) return { started: false, reason: 'no longer in the configuration', final: true };
    if (!settings.autoRestart) return { started: false, reason: 'not restarted: autoRestart is false', final: true };
    if (!config.nodes[settings.node]) return { started: false, reason: `node ${settings.node} is not defined`, final: true };

    const taken = this.attempts.take(server);
    if (!taken.allowed) {
      this.log.error('MA-0052', `${server} stays FAILED: ${taken.reason}`);
      return { started: false, reason: taken.reason, final: true };
    }
    this.log.info('MA-0051', `restarting ${server} on node ${settings.node} (attempt ${taken.attempt} of ${taken.of})`);

    const outcome = await this.startOnNode(server);
    return outcome.started ? outcome : { ...outcome, reason: `restart failed: ${outcome.reason}` };
  }

  /**
   * Starts a server on its node, waiting for `managed start --detach` to say it serves (or why
   * not): what failure handling and `master start-server` both do. No limits here.
   */
  async startOnNode(server: string): Promise<RestartOutcome> {
    const config = this.config();
    const settings = config.servers[server];
    const node = settings && config.nodes[settings.node];
    if (!node) return { started: false, reason: settings ? `node ${settings.node} is not defined` : 'no longer in the configuration', final: true };
    const args = ['start', config.name, server, '--detach'];
    try {
      if (node.exec) {
        // The node's own install and home: `managed` on its PATH, its FLOTILLA_HOME or ~/.flotilla.
        const prefix = node.exec.replaceAll('{host}', node.host);
        await execa('sh', ['-c', `${prefix} managed ${args.join(' ')}`], { timeout: SERVER_START_TIMEOUT_MS, stdin: 'ignore' });
      } else {
        await execa(process.execPath, [localManagedBinary(), ...args, '--home', this.home], { timeout: SERVER_START_TIMEOUT_MS, stdin: 'ignore' });
      }
      return { started: true };
    } catch (error) {
      const detail = (error as { stderr?: string }).stderr?.trim() || (error as Error).message;
      this.log.warn('MA-0053', `starting ${server} failed: ${detail}`);
      return { started: false, reason: detail.split('\n').pop()!, final: false };
    }
  }
}
