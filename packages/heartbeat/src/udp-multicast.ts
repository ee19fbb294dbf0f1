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
 * UDP multicast: every packet goes to the group, whatever member it is meant for, so any number of
 * members can share one host and one port, and every member overhears every proof of life.
 */
export class MulticastTransport implements Transport {
  readonly shared = true;
  readonly seeds: readonly Endpoint[] = [];
  readonly local: Endpoint;
  onError?: (error: Error) => void;
  private socket?: Socket;

  constructor(private readonly options: MulticastTransportOptions) {
    this.local = { address: options.interface, port: options.port };
  }

  async start(onPacket: PacketHandler): Promise<void> {
    const { group, port, interface: iface, ttl = 1 } = this.options;
    assertLocalAddress(iface, `multicast interface for ${group}:${port}`);
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    this.socket = socket;
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        // Bound to the group, not to 0.0.0.0: the socket then receives this group only, not every
        // group that another process on the host joined on the same port.
        socket.bind({ port, address: group, exclusive: false }, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      socket.setMulticastInterface(iface);
      socket.setMulticastTTL(ttl);
      // Other members on this host hear us through the loopback copy.
      socket.setMulticastLoopback(true);
      socket.addMembership(group, iface);
    } catch (error) {
      socket.close();
      this.socket = undefined;
      throw new Error(`cannot join heartbeat group ${group}:${port} on interface ${iface}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    socket.on('error', (error) => this.onError?.(error));
    socket.on('message', (packet, rinfo) => onPacket(packet, { address: rinfo.address, port: rinfo.port }));
  }

  send(packet: Buffer): void {
    this.socket?.send(packet, this.options.port, this.options.group, (error) => {
      if (error) this.onError?.(error);
    });
  }

  async stop(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}

/** Refuses an interface address this machine does not have, before the kernel gives a vaguer error. */
export function assertLocalAddress(address: string, what: string): void {
  const local = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((entry) => entry.address));
  if (!local.includes(address)) {
    throw new Error(`${what}: ${address} is not an address of this machine (it has ${local.join(', ')})`);
  }
}
