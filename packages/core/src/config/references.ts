import { formatSettingPath, type SettingPath } from './locations.js';
import { isWildcardAddress } from './names.js';
import type { DomainConfig } from './schema.js';

/** A problem found in a configuration that has the right shape but does not hang together. */
export interface ConfigProblem {
  path: SettingPath;
  message: string;
  /** Point at the key (a name that clashes) rather than at the value. */
  at?: 'key' | 'value';
}

function defined(names: string[]): string {
  return names.length ? `defined: ${names.join(', ')}` : 'none is defined';
}

/**
 * Cross-references (nodes, servers, clusters, targets), name clashes, listener clashes and context
 * clashes: everything the schema alone cannot see.
 */
export function checkReferences(config: DomainConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const nodes = Object.keys(config.nodes);
  const servers = Object.keys(config.servers);
  const clusters = Object.keys(config.clusters);

  const requireNode = (path: SettingPath, node: string) => {
    if (!config.nodes[node]) problems.push({ path, message: `node "${node}" is not defined (${defined(nodes)})` });
  };

  requireNode(['master', 'node'], config.master.node);
  for (const [server, settings] of Object.entries(config.servers)) {
    requireNode(['servers', server, 'node'], settings.node);
    if (server === config.master.name) {
      problems.push({
        path: ['servers', server],
        at: 'key',
        message: `server "${server}" has the MASTER's name (master.name); choose another name`,
      });
    }
  }
  if (config.backup.node !== null) requireNode(['backup', 'node'], config.backup.node);

  const clusterOf = new Map<string, string>();
  for (const [cluster, settings] of Object.entries(config.clusters)) {
    if (config.servers[cluster]) {
      problems.push({
        path: ['clusters', cluster],
        at: 'key',
        message: `cluster "${cluster}" has the name of a server; targets could not tell them apart`,
      });
    }
    settings.servers.forEach((server, index) => {
      const path = ['clusters', cluster, 'servers', index];
      if (!config.servers[server]) {
        problems.push({ path, message: `server "${server}" is not defined (${defined(servers)})` });
        return;
      }
      const owner = clusterOf.get(server);
      if (owner === cluster) problems.push({ path, message: `server "${server}" is listed twice` });
      else if (owner) {
        problems.push({ path, message: `server "${server}" is already in cluster "${owner}"; a server belongs to one cluster` });
      } else clusterOf.set(server, cluster);
    });
  }

  const targetsOf = new Map<string, string[]>(); // server -> applications that reach it
  for (const [application, settings] of Object.entries(config.applications)) {
    const seen = new Set<string>();
    settings.targets.forEach((target, index) => {
      const path = ['applications', application, 'targets', index];
      if (seen.has(target)) {
        problems.push({ path, message: `target "${target}" is listed twice` });
        return;
      }
      seen.add(target);
      const reached = config.servers[target]
        ? [target]
        : config.clusters[target]?.servers.filter((server) => config.servers[server]);
      if (!reached) {
        problems.push({
          path,
          message: `target "${target}" is neither a server nor a cluster (servers: ${servers.join(', ') || 'none'}; clusters: ${clusters.join(', ') || 'none'})`,
        });
        return;
      }
      for (const server of reached) targetsOf.set(server, [...(targetsOf.get(server) ?? []), application]);
    });
  }
  for (const [server, applications] of targetsOf) {
    const byContext = new Map<string, string>();
    for (const application of new Set(applications)) {
      const context = config.applications[application]!.context;
      const other = byContext.get(context);
      if (other) {
        problems.push({
          path: ['applications', application, 'context'],
          message: `context "${context}" is already used by application "${other}" on server "${server}"`,
        });
      } else byContext.set(context, application);
    }
  }

  problems.push(...checkListeners(config), ...checkUnicastHeartbeats(config));
  return problems;
}

/** Unicast heartbeats: two members on one address cannot share a UDP port. */
function checkUnicastHeartbeats(config: DomainConfig): ConfigProblem[] {
  if (config.heartbeat.mode !== 'unicast') return [];
  const members: Array<{ path: SettingPath; name: string; node: string; address: string; port: number }> = [
    { path: ['master'], name: config.master.name, node: config.master.node, address: config.master.address, port: config.master.heartbeatPort ?? config.heartbeat.port },
    ...Object.entries(config.servers).map(([name, s]) => ({ path: ['servers', name], name, node: s.node, address: s.address, port: s.heartbeatPort ?? config.heartbeat.port })),
  ];
  const problems: ConfigProblem[] = [];
  const seen = new Map<string, string>();
  for (const member of members) {
    const host = isWildcardAddress(member.address) ? (config.nodes[member.node]?.host ?? member.address) : member.address;
    const key = `${host}:${member.port}`;
    const other = seen.get(key);
    if (other) {
      problems.push({
        path: member.path,
        at: 'key',
        message: `unicast heartbeats of ${member.name} and ${other} would share ${key}; give one of them its own heartbeatPort`,
      });
    } else seen.set(key, member.name);
  }
  return problems;
}

interface Listener {
  path: SettingPath;
  node: string;
  address: string;
  port: number;
}

/**
 * Two listeners clash when they share a port and an address, or share a port on one node where
 * either listens on every interface. Loopback and wildcard addresses are local to their node;
 * any other address is one machine's wherever it is written.
 */
function checkListeners(config: DomainConfig): ConfigProblem[] {
  const listeners: Listener[] = [
    { path: ['master', 'port'], node: config.master.node, address: config.master.address, port: config.master.port },
  ];
  for (const [server, settings] of Object.entries(config.servers)) {
    for (const kind of ['port', 'http'] as const) {
      listeners.push({ path: ['servers', server, kind], node: settings.node, address: settings.address, port: settings[kind] });
    }
  }
  const isLocal = (address: string) => isWildcardAddress(address) || address.startsWith('127.') || address === '::1' || address === 'localhost';
  const clash = (a: Listener, b: Listener) =>
    a.port === b.port &&
    (a.node === b.node
      ? a.address === b.address || isWildcardAddress(a.address) || isWildcardAddress(b.address)
      : a.address === b.address && !isLocal(a.address));

  const problems: ConfigProblem[] = [];
  listeners.forEach((listener, index) => {
    const earlier = listeners.slice(0, index).find((other) => clash(other, listener));
    if (earlier) {
      const where = (l: Listener) => `${l.address}:${l.port} on node ${l.node}`;
      problems.push({
        path: listener.path,
        message: `${where(listener)} clashes with ${formatSettingPath(earlier.path)} (${where(earlier)}); every listener needs its own address:port`,
      });
    }
  });
  return problems;
}
