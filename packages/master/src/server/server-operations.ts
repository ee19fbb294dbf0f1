import {
  API_PREFIX,
  UsageError,
  type DomainConfig,
  type Logger,
  type PeerClient,
  type ServerOperationAnswer,
  type ServerOperationRequest,
  type ServerOperationResult,
  SERVER_OPERATION_WAIT_MS,
} from '@flotilla/core';
import type { FailureWatch } from './failure-watch.js';
import type { ServerRegistry } from './registry.js';
import type { Restarter } from './restarter.js';

/** How often a wait looks at what the servers reported; they report every change at once. */
const POLL_MS = 100;

export interface ServerOperationsDeps {
  config: () => DomainConfig;
  registry: ServerRegistry;
  restarter: Restarter;
  failures: FailureWatch;
  clientFor: (server: string) => PeerClient;
  log: Logger;
}

/**
 * Starting, stopping and restarting servers through the MASTER (docs/operations.md, "Servers
 * through the MASTER"): `master start-server` and its kin, and the web console's buttons, call
 * `run`. A server is started on its node as failure handling starts it; one stopped here is never
 * restarted by failure handling until it is started again.
 */
export class ServerOperations {
  constructor(private readonly deps: ServerOperationsDeps) {}

  async run(request: ServerOperationRequest): Promise<ServerOperationAnswer> {
    const servers = this.resolve(request.targets);
    const operation = request.operation;
    let results: ServerOperationResult[];
    if (request.rolling) {
      results = [];
      for (const server of servers) {
        const failedBefore = results.find((result) => !result.ok);
        results.push(
          failedBefore
            ? { server, ok: false, status: this.deps.registry.statusOf(server), error: `not ${operation}ed: ${failedBefore.server} did not come back` }
            : await this.one(operation, server),
        );
      }
    } else {
      results = await Promise.all(servers.map((server) => this.one(operation, server)));
    }
    return { operation, results };
  }

  /** Servers and clusters by name, in the order given, each server once; an unknown name refuses all. */
  private resolve(targets: string[]): string[] {
    const config = this.deps.config();
    const servers = new Set<string>();
    for (const target of targets) {
      if (config.servers[target]) servers.add(target);
      else if (config.clusters[target]) for (const server of config.clusters[target].servers) servers.add(server);
      else {
        throw new UsageError(
          `no server or cluster named ${target} in domain ${config.name} (servers: ${Object.keys(config.servers).join(', ') || 'none'}; clusters: ${Object.keys(config.clusters).join(', ') || 'none'})`,
        );
      }
    }
    return [...servers];
  }

  private async one(operation: ServerOperationRequest['operation'], server: string): Promise<ServerOperationResult> {
    try {
      if (operation !== 'start') await this.stop(server);
      if (operation !== 'stop') await this.start(server);
      return { server, ok: true, status: this.deps.registry.statusOf(server) };
    } catch (error) {
      const message = (error as Error).message;
      this.deps.log.warn('MA-0055', `${operation} of ${server} failed: ${message}`);
      return { server, ok: false, status: this.deps.registry.statusOf(server), error: message };
    }
  }

  private serving(server: string): boolean {
    const { registry } = this.deps;
    return registry.statusOf(server) === 'RUNNING' && registry.isAttached(server) && registry.appsOf(server).every((app) => app.status === 'RUNNING');
  }

  private down(server: string): boolean {
    return this.deps.registry.statusOf(server) === 'SHUTDOWN' && !this.deps.failures.isAlive(server);
  }

  private async start(server: string): Promise<void> {
    this.deps.failures.starting(server);
    if (this.serving(server)) return;
    const node = this.deps.config().servers[server]!.node;
    this.deps.log.info('MA-0055', `starting ${server} on node ${node} at an operator's request`);
    const outcome = await this.deps.restarter.startOnNode(server);
    // Another start may have won the server's lock (failure handling): then it serves all the same.
    if (!outcome.started && !this.serving(server)) throw new Error(`start on node ${node} failed: ${outcome.reason}`);
    await this.waitUntil(server, () => this.serving(server), 'RUNNING with its applications answering');
  }

  private async stop(server: string): Promise<void> {
    this.deps.failures.stopping(server);
    if (this.down(server)) return;
    this.deps.log.info('MA-0055', `stopping ${server} at an operator's request`);
    const client = this.deps.clientFor(server);
    try {
      await client.request('POST', `${API_PREFIX}/stop`);
    } catch (error) {
      // A server that is already gone is stopped; one that is up and refused to stop is not.
      if (this.deps.failures.isAlive(server)) throw new Error(`it did not take the stop request at ${client.where}: ${(error as Error).message}`);
    } finally {
      client.close();
    }
    await this.waitUntil(server, () => this.down(server) || this.deps.registry.statusOf(server) === 'FAILED', 'SHUTDOWN');
    // It died rather than stopped: for the operator it is stopped all the same, and stays so.
    if (this.deps.registry.statusOf(server) === 'FAILED') this.deps.registry.setStatus(server, 'SHUTDOWN');
  }

  private async waitUntil(server: string, done: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + SERVER_OPERATION_WAIT_MS;
    while (!done()) {
      if (Date.now() > deadline) {
        throw new Error(`not ${what} after ${SERVER_OPERATION_WAIT_MS / 1000} s (now ${this.deps.registry.statusOf(server)}); see its log on node ${this.deps.config().servers[server]?.node}`);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
}
