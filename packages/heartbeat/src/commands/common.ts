import { hostname } from 'node:os';
import {
  ExitCode,
  UsageError,
  assertName,
  commandContext,
  openDomain,
  parsePortOption,
  readDomainKey,
  type Argv,
  type CommandContext,
  type GlobalOptions,
} from '@flotilla/core';
import { heartbeatOptionsFor, type DomainHeartbeatOptions } from '../domain-options.js';
import { Membership, type Logger, type MembershipEvent } from '../membership.js';
import type { Endpoint } from '../transport.js';

/** Options of every command that joins a domain's heartbeat group. */
export interface MemberCliOptions extends GlobalOptions {
  domain: string;
  as?: string;
  address?: string;
  interface?: string;
  group?: string;
  port?: string;
  peer: string[];
}

export function memberCliOptions<T>(cli: Argv<T>): Argv<T> {
  return cli
    .positional('domain', { type: 'string', demandOption: true, describe: 'Domain whose heartbeat group to join' })
    .option('address', { type: 'string', requiresArg: true, describe: 'This member\'s heartbeat address (default: from the configuration)' })
    .option('interface', { type: 'string', requiresArg: true, describe: 'Multicast interface address (default: heartbeat.interface, else the member\'s address)' })
    .option('group', { type: 'string', requiresArg: true, describe: 'Multicast group (default: heartbeat.group)' })
    .option('port', { type: 'string', requiresArg: true, describe: 'Multicast: the group\'s port; unicast: this member\'s port (default: heartbeat.port)' })
    .option('peer', {
      type: 'string',
      array: true,
      default: [],
      requiresArg: true,
      describe: 'Unicast: a member\'s ADDRESS:PORT (repeatable), instead of the configured servers',
    }) as unknown as Argv<T>;
}

export interface StartedMember {
  context: CommandContext;
  membership: Membership;
  settings: DomainHeartbeatOptions;
  /** The configured servers and MASTER, by name. */
  configured: string[];
  /** How the member is connected, for the operator. */
  describe: string;
}

/** Loads the domain and its key and joins its heartbeat group as `name`. */
export async function startMember(options: MemberCliOptions, name: string, role: string): Promise<StartedMember> {
  const context = commandContext(options);
  assertName('member', name);
  const { layout, config } = await openDomain(context.home, options.domain);
  const key = await readDomainKey(layout.keyFile);
  const settings = await heartbeatOptionsFor(config, name, {
    ...(options.address !== undefined && { address: options.address }),
    ...(options.interface !== undefined && { interface: options.interface }),
    ...(options.group !== undefined && { group: options.group }),
    ...(options.port !== undefined && { port: parsePortOption('--port', options.port) }),
    ...(options.peer.length && { peers: options.peer.map(parsePeer) }),
  });
  const membership = await Membership.start({
    domain: config.name,
    self: { ...settings.self, meta: { role, pid: process.pid } },
    key,
    transport: settings.transport,
    config: config.heartbeat.timings,
    logger: cliLogger(),
  });
  const t = settings.transport;
  const describe =
    t.mode === 'multicast'
      ? `multicast ${t.group}:${t.port} on interface ${t.interface}`
      : `unicast on ${t.address}:${membership.member(name)!.port} with ${t.seeds.length} peer(s)`;
  return { context, membership, settings, configured: [config.master.name, ...Object.keys(config.servers)], describe };
}

function parsePeer(spec: string): Endpoint {
  const match = /^(.+):(\d+)$/.exec(spec);
  if (!match) throw new UsageError(`--peer ${spec}: expected ADDRESS:PORT, for example 10.0.0.12:3030`);
  return { address: match[1]!, port: parsePortOption(`--peer ${spec}:`, match[2]!) };
}

/** A unique name for a tool that joins as an observer. */
export function observerName(tool: string): string {
  const host = hostname().replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 40);
  return `${tool}.${host}.${process.pid}`;
}

function cliLogger(): Logger {
  const debug = Boolean(process.env.FLOTILLA_DEBUG);
  return {
    warn: (message) => process.stderr.write(`${message}\n`),
    info: (message) => process.stderr.write(`${message}\n`),
    ...(debug && { debug: (message: string) => process.stderr.write(`${message}\n`) }),
  };
}

/** The JSON line of docs/contract.md#heartbeats-and-restarts, or the same facts for a person. */
export function formatEvent(event: MembershipEvent, json: boolean): string {
  if (json) {
    const { time, domain, server, event: kind, from, to, incarnation } = event;
    return JSON.stringify({ time, domain, server, event: kind, from, to, incarnation });
  }
  return `${event.time}  ${event.server}  ${event.event}  ${event.from} -> ${event.to}  (incarnation ${event.incarnation})`;
}

/** The packet counters, for the operator: drops by reason tell a wrong key from a wrong group. */
export function describeStats(membership: Membership): string {
  const stats = membership.stats();
  const dropped = Object.entries(stats.dropped).filter(([, count]) => count > 0);
  return `${membership.name}: sent ${stats.packetsSent} packets, received ${stats.packetsReceived}; dropped ${
    dropped.length ? dropped.map(([reason, count]) => `${count} ${reason}`).join(', ') : 'none'
  }`;
}

/**
 * Runs until SIGTERM (exit 0) or SIGINT (exit 130), then leaves the group gracefully so the others
 * record a stop, not a failure, and reports the packet counters on stderr. A second signal exits
 * at once. SIGUSR2 reports the counters and carries on.
 */
export function runUntilSignal(membership: Membership): Promise<void> {
  // The default SIGINT handler exits at once; this command first says goodbye to the group.
  process.removeAllListeners('SIGINT');
  return new Promise(() => {
    let ending = false;
    const end = (code: number) => {
      if (ending) process.exit(code);
      ending = true;
      const exit = () => {
        process.stderr.write(`${describeStats(membership)}\n`);
        process.exit(code);
      };
      membership.leave().then(exit, exit);
    };
    // The counters on demand, without stopping: what a member costs in a running group.
    process.on('SIGUSR2', () => process.stderr.write(`${describeStats(membership)}\n`));
    process.on('SIGTERM', () => end(ExitCode.ok));
    process.on('SIGINT', () => end(ExitCode.interrupted));
  });
}
