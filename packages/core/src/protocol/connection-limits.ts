import type { Socket } from 'node:net';

/**
 * What a stranger may hold of a management port (docs/security.md): a connection counts as a
 * stranger's until it has carried one authenticated request (or one a public route accepted).
 * Every value is here with its reason, as the one place to tune them.
 */
export const CONNECTION_LIMITS = {
  /**
   * Unauthenticated connections from one address. A server or a command opens a handful at once
   * (a sync's content streams, the event stream, a report); tests and small machines run many
   * servers on one address (the scale test and bench simulate 512 there, each opening two at once
   * for a change: its manifest and its content), so this leaves room for all of them together.
   */
  maxPendingPerPeer: 1024,
  /**
   * Unauthenticated connections in all: a change sent to a domain of 512 servers (docs/contract.md#scale)
   * opens two new connections on each at the same instant; far below memory trouble.
   */
  maxPending: 2048,
  /** Every connection: a domain of 512 servers, each with an event stream and a few requests. */
  maxConnections: 8192,
  /** A TLS handshake takes milliseconds; a client that has not finished it by then is gone or hostile. */
  handshakeTimeoutMs: 5_000,
  /** Headers are a few hundred bytes, sent at once by every client of ours. */
  headersTimeoutMs: 10_000,
  /** Upper bound for receiving a whole request (not for streaming a response). */
  requestTimeoutMs: 60_000,
  /** Idle keep-alive connections are cheap to reopen; holding them long only serves strangers. */
  keepAliveTimeoutMs: 5_000,
} as const;

/** Counts the connections of each remote address that have not yet proven themselves. */
export class PeerConnections {
  private readonly pending = new Map<string, Set<string>>();
  private pendingTotal = 0;

  /** A new TCP connection: refused at once when its address, or everyone, holds too many already. */
  admit(socket: Socket): void {
    const peer = socket.remoteAddress ?? '';
    const id = `${peer}:${socket.remotePort}`;
    const ofPeer = this.pending.get(peer) ?? new Set<string>();
    if (ofPeer.size >= CONNECTION_LIMITS.maxPendingPerPeer || this.pendingTotal >= CONNECTION_LIMITS.maxPending) {
      socket.destroy();
      return;
    }
    ofPeer.add(id);
    this.pending.set(peer, ofPeer);
    this.pendingTotal++;
    socket.once('close', () => this.settle(peer, id));
  }

  /** The connection carried an authenticated request: it no longer counts against the limits. */
  authenticated(socket: Socket): void {
    this.settle(socket.remoteAddress ?? '', `${socket.remoteAddress}:${socket.remotePort}`);
  }

  private settle(peer: string, id: string): void {
    const ofPeer = this.pending.get(peer);
    if (!ofPeer?.delete(id)) return;
    this.pendingTotal--;
    if (ofPeer.size === 0) this.pending.delete(peer);
  }
}
