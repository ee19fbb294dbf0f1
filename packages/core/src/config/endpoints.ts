import type { MasterAddress } from '../protocol/sync.js';
import { isWildcardAddress } from './names.js';
import type { DomainConfig } from './schema.js';

/**
 * Where to connect to a listener: its own address, or, for one that listens on every interface,
 * its node's host address.
 */
function reachable(config: DomainConfig, node: string, address: string): string {
  return isWildcardAddress(address) ? (config.nodes[node]?.host ?? '127.0.0.1') : address;
}

export function masterEndpoint(config: DomainConfig): MasterAddress {
  return { address: reachable(config, config.master.node, config.master.address), port: config.master.port };
}

export function serverEndpoint(config: DomainConfig, server: string): MasterAddress | undefined {
  const settings = config.servers[server];
  return settings && { address: reachable(config, settings.node, settings.address), port: settings.port };
}

/** The cluster a server belongs to, if any (a server is in at most one). */
export function clusterOf(config: DomainConfig, server: string): string | undefined {
  return Object.entries(config.clusters).find(([, cluster]) => cluster.servers.includes(server))?.[0];
}

/** The applications a server runs: those that target it directly or through its cluster. */
export function applicationsOf(config: DomainConfig, server: string): string[] {
  const cluster = clusterOf(config, server);
  return Object.entries(config.applications)
    .filter(([, app]) => app.targets.includes(server) || (cluster !== undefined && app.targets.includes(cluster)))
    .map(([name]) => name);
}
