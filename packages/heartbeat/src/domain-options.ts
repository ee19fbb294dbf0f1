import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { UsageError, isWildcardAddress, type DomainConfig } from '@flotilla/core';
import type { MemberIdentity, TransportOptions } from './membership.js';
import type { Endpoint } from './transport.js';

/** What the command line (or a caller) may set instead of the configuration. */
export interface HeartbeatOverrides {
  /** This member's address: the multicast interface, or the unicast listen address. */
  address?: string;
  /** Multicast interface, when it differs from the member's address. */
  interface?: string;
  group?: string;
  /** Multicast: the group's port. Unicast: this member's own port. */
  port?: number;
  /** Unicast: the other members' endpoints, instead of the configured servers'. */
  peers?: Endpoint[];
  /**
   * Unicast: heartbeat port of each member by name, for members that share an address (several
   * servers on one host) and so cannot all use heartbeat.port.
   */
  ports?: Record<string, number>;
}

export interface DomainHeartbeatOptions {
  self: MemberIdentity;
  transport: TransportOptions;
}

/**
 * The heartbeat settings of one member of a domain (docs/contract.md#heartbeats-and-restarts), from its configuration.
 * `member` is the MASTER's or a server's name; any other name is an observer (a tool such as
 * `heartbeat watch`), which must then find a local interface of the domain by itself.
 */
export async function heartbeatOptionsFor(
  config: DomainConfig,
  member: string,
  overrides: HeartbeatOverrides = {},
): Promise<DomainHeartbeatOptions> {
  const { heartbeat } = config;
  const configured = memberAddresses(config);
  const observer = !configured.has(member);
  const ownAddress = overrides.address ?? configured.get(member) ?? (await localDomainAddress(config));
  const self: MemberIdentity = { name: member, address: ownAddress, ...(observer ? { observer: true } : {}) };

  if (heartbeat.mode === 'multicast') {
    const iface = await toIPv4(overrides.interface ?? heartbeat.interface ?? ownAddress, 'heartbeat interface');
    return {
      self: { ...self, address: iface },
      transport: { mode: 'multicast', group: overrides.group ?? heartbeat.group, port: overrides.port ?? heartbeat.port, interface: iface, ttl: heartbeat.ttl },
    };
  }
  const configuredPort = (name: string) => (name === config.master.name ? config.master.heartbeatPort : config.servers[name]?.heartbeatPort);
  const portOf = (name: string) => overrides.ports?.[name] ?? configuredPort(name) ?? heartbeat.port;
  const seeds =
    overrides.peers ??
    [...configured].filter(([name]) => name !== member).map(([name, address]) => ({ address, port: portOf(name) }));
  return {
    self,
    transport: {
      mode: 'unicast',
      address: ownAddress,
      // An observer is nobody's seed: any free port will do, members learn it from its packets.
      port: overrides.port ?? (observer ? 0 : portOf(member)),
      seeds,
    },
  };
}

/**
 * Each member's heartbeat address: its listen address, or its node's host when it listens on every
 * interface (docs/contract.md#heartbeats-and-restarts), so that it is never left to the default route.
 */
function memberAddresses(config: DomainConfig): Map<string, string> {
  const addresses = new Map<string, string>();
  const add = (name: string, address: string, node: string) =>
    addresses.set(name, isWildcardAddress(address) ? (config.nodes[node]?.host ?? address) : address);
  add(config.master.name, config.master.address, config.master.node);
  for (const [name, server] of Object.entries(config.servers)) add(name, server.address, server.node);
  return addresses;
}

/** For an observer: the first address of this machine that the domain's configuration names. */
async function localDomainAddress(config: DomainConfig): Promise<string> {
  const local = new Set(Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((e) => e.address)));
  const candidates = [config.heartbeat.interface, ...memberAddresses(config).values(), ...Object.values(config.nodes).map((n) => n.host)];
  for (const candidate of candidates) {
    if (!candidate) continue;
    const address = await toIPv4(candidate, 'domain address').catch(() => undefined);
    if (address && local.has(address)) return address;
  }
  throw new UsageError(
    `no address of domain ${config.name} is on this machine, so the heartbeat interface is unknown: name one with --interface (or set heartbeat.interface)`,
  );
}

async function toIPv4(address: string, what: string): Promise<string> {
  if (isIP(address) === 4) return address;
  if (isWildcardAddress(address)) throw new UsageError(`${what} ${address} names every interface: heartbeats need one (set heartbeat.interface)`);
  try {
    return (await lookup(address, { family: 4 })).address;
  } catch (error) {
    throw new UsageError(`${what} ${address} does not resolve to an IPv4 address: ${(error as Error).message}`, { cause: error });
  }
}
