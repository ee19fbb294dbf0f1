import { createSocket, type Socket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import type { Endpoint, PacketHandler, Transport } from './transport.js';

export interface MulticastTransportOptions {
  mode: 'multicast';
  /** An IPv4 multicast group, e.g. 239.192.0.36 (administratively scoped: stays on site). */
  group: string;
  port: number;
  /**
   * The local address whose interface carries the group. Always named: left to the system,
   * multicast follows the default route, which may be the wrong network or a forbidden one.
   */
  interface: string;
  /** Hops a packet may cross; 1 keeps heartbeats on the local segment. */
  ttl?: number;
}

/**
 * UDP multicast for discovery, unicast for the rest. The group socket (any number of members may
 * share a host and the group's port) hears announcements; probes, acks and gossip go from member
 * to member through a second socket on an ephemeral port of the interface address, so a member's
 * load does not grow with the group (docs/protocol.md#heartbeats).
 */
export class MulticastTransport implements Transport {
  readonly seeds: readonly Endpoint[] = [];
  local: Endpoint;
  onError?: (error: Error) => void;
  private group?: Socket;
  private direct?: Socket;

  constructor(private readonly options: MulticastTransportOptions) {
    this.local = { address: options.interface, port: 0 };
  }

  async start(onPacket: PacketHandler): Promise<void> {
    const { group, port, interface: iface, ttl = 1 } = this.options;
    assertLocalAddress(iface, `multicast interface for ${group}:${port}`);
    const groupSocket = createSocket({ type: 'udp4', reuseAddr: true });
    const direct = createSocket({ type: 'udp4' });
    this.group = groupSocket;
    this.direct = direct;
    try {
      // Bound to the group, not to 0.0.0.0: the socket then receives this group only, not every
      // group that another process on the host joined on the same port.
      await bind(groupSocket, { port, address: group, exclusive: false });
      groupSocket.addMembership(group, iface);
      await bind(direct, { port: 0, address: iface });
      // Announcements leave from the direct socket, so their source is where this member is reached.
      direct.setMulticastInterface(iface);
      direct.setMulticastTTL(ttl);
      // Other members on this host hear us through the loopback copy.
      direct.setMulticastLoopback(true);
    } catch (error) {
      await this.stop();
      throw new Error(`cannot join heartbeat group ${group}:${port} on interface ${iface}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    this.local = { address: iface, port: direct.address().port };
    for (const socket of [groupSocket, direct]) {
      socket.on('error', (error) => this.onError?.(error));
      socket.on('message', (packet, rinfo) => onPacket(packet, { address: rinfo.address, port: rinfo.port }));
    }
  }

  send(packet: Buffer, to: Endpoint): void {
    this.direct?.send(packet, to.port, to.address, (error) => {
      if (error) this.onError?.(error);
    });
  }

  broadcast(packet: Buffer): void {
    this.send(packet, { address: this.options.group, port: this.options.port });
  }

  async stop(): Promise<void> {
    const sockets = [this.group, this.direct].filter((socket): socket is Socket => socket !== undefined);
    this.group = undefined;
    this.direct = undefined;
    await Promise.all(sockets.map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
  }
}

function bind(socket: Socket, options: { port: number; address: string; exclusive?: boolean }): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(options, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

/** Refuses an interface address this machine does not have, before the kernel gives a vaguer error. */
export function assertLocalAddress(address: string, what: string): void {
  const local = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((entry) => entry.address));
  if (!local.includes(address)) {
    throw new Error(`${what}: ${address} is not an address of this machine (it has ${local.join(', ')})`);
  }
}
