import { createSocket, type Socket } from 'node:dgram';
import type { Endpoint, PacketHandler, Transport } from './transport.js';

export interface UnicastTransportOptions {
  mode: 'unicast';
  /** Address to listen on; 0.0.0.0 listens everywhere and peers then answer the packet's source. */
  address: string;
  /** 0 picks a free port (tests); members of a domain use fixed, configured ports. */
  port: number;
  /** The other members' heartbeat endpoints, from the configuration. */
  seeds: Endpoint[];
}

/** UDP unicast, for networks without multicast (most clouds): one datagram per destination. */
export class UnicastTransport implements Transport {
  readonly seeds: readonly Endpoint[];
  local: Endpoint;
  onError?: (error: Error) => void;
  private socket?: Socket;

  constructor(private readonly options: UnicastTransportOptions) {
    this.local = { address: options.address, port: options.port };
    this.seeds = options.seeds;
  }

  async start(onPacket: PacketHandler): Promise<void> {
    const socket = createSocket({ type: 'udp4' });
    this.socket = socket;
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind({ port: this.options.port, address: this.options.address }, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      socket.close();
      this.socket = undefined;
      throw new Error(`cannot listen for heartbeats on ${this.options.address}:${this.options.port}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    this.local = { address: this.options.address, port: socket.address().port };
    socket.on('error', (error) => this.onError?.(error));
    socket.on('message', (packet, rinfo) => onPacket(packet, { address: rinfo.address, port: rinfo.port }));
  }

  send(packet: Buffer, to: Endpoint): void {
    this.socket?.send(packet, to.port, to.address, (error) => {
      if (error) this.onError?.(error);
    });
  }

  async stop(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}
