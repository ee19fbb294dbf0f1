/**
 * A man in the middle for tests: a TCP proxy on 127.0.0.1 in front of a real port that records
 * every byte it carries and may change what passes (a flipped byte, say).
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { onCleanup } from './index.js';

export type Direction = 'to-target' | 'to-client';

export interface ProxyOptions {
  /** Sees each chunk on its way; what it returns is sent instead. */
  alter?(direction: Direction, chunk: Buffer, offset: number): Buffer;
}

export interface TcpProxy {
  port: number;
  /** Every byte carried so far, in each direction, all connections together. */
  seen(direction: Direction): Buffer;
  connections(): number;
}

export async function tcpProxy(targetPort: number, options: ProxyOptions = {}): Promise<TcpProxy> {
  const recorded: Record<Direction, Buffer[]> = { 'to-target': [], 'to-client': [] };
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((client) => {
    connections++;
    const target = connect(targetPort, '127.0.0.1');
    for (const socket of [client, target]) {
      sockets.add(socket);
      socket.on('error', () => {
        client.destroy();
        target.destroy();
      });
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        target.destroy();
      });
    }
    const pipe = (from: Socket, to: Socket, direction: Direction) => {
      let offset = 0;
      from.on('data', (chunk: Buffer) => {
        recorded[direction].push(Buffer.from(chunk));
        const sent = options.alter ? options.alter(direction, chunk, offset) : chunk;
        offset += chunk.length;
        to.write(sent);
      });
    };
    pipe(client, target, 'to-target');
    pipe(target, client, 'to-client');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  );
  return {
    port: (server.address() as AddressInfo).port,
    seen: (direction) => Buffer.concat(recorded[direction]),
    connections: () => connections,
  };
}
