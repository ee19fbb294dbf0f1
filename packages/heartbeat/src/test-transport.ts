import type { Clock } from './clock.js';
import { endpointKey, type Endpoint, type PacketHandler, type Transport } from './transport.js';

/**
 * An in-memory network on simulated time, for fast deterministic tests of anything that runs a
 * membership (the heartbeat package's own, and later the MASTER's and servers'). One `SimNetwork`
 * holds the clock and the wire; each node gets its own `clock(name)` and `transport(name)`.
 *
 * It imitates what matters to a failure detector: loss (seeded, reproducible), latency, a crashed
 * process (`crash`: silent from then on), and a stalled one (`pause`/`resume`: its timers and
 * packets wait, then run late, timers first, as Node's event loop runs them after a stall).
 */
export interface SimNetworkOptions {
  /** Seed of the pseudo-random generator for loss and for the members' own choices. */
  seed?: number;
  /** One-way delay of every packet. */
  latencyMs?: number;
  /** Probability that one delivery is lost, 0..1; may be changed at any time through `loss`. */
  loss?: number;
  /** true: multicast-like (every packet reaches every node); false: unicast to the named endpoint. */
  shared?: boolean;
}

interface Scheduled {
  at: number;
  order: number;
  node: string;
  kind: 'timer' | 'packet';
  run: () => void;
  cancelled: boolean;
}

const WALL_BASE = Date.UTC(2026, 0, 1);

export class SimNetwork {
  loss: number;
  readonly latencyMs: number;
  readonly shared: boolean;
  private time = 0;
  private order = 0;
  private queue: Scheduled[] = [];
  private readonly nodes = new Map<string, { endpoint: Endpoint; handler?: PacketHandler }>();
  private readonly paused = new Map<string, Scheduled[]>();
  private readonly crashed = new Set<string>();
  private readonly taps: Array<(packet: Buffer, from: string) => void> = [];
  private seed: number;

  constructor(options: SimNetworkOptions = {}) {
    this.seed = options.seed ?? 1;
    this.latencyMs = options.latencyMs ?? 1;
    this.loss = options.loss ?? 0;
    this.shared = options.shared ?? true;
  }

  /** mulberry32: small, fast, and the same sequence on every run. */
  readonly random = (): number => {
    this.seed = (this.seed + 0x6d2b79f5) | 0;
    let t = this.seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };

  get now(): number {
    return this.time;
  }

  clock(node: string): Clock {
    return {
      monotonic: () => this.time,
      wall: () => WALL_BASE + this.time,
      setTimeout: (fire, ms) => this.schedule(node, 'timer', Math.max(0, ms), fire),
      clearTimeout: (handle) => {
        if (handle) (handle as Scheduled).cancelled = true;
      },
    };
  }

  transport(node: string): Transport {
    const endpoint = { address: '127.0.0.1', port: 10_000 + this.nodes.size };
    this.nodes.set(node, { endpoint });
    const network = this;
    return {
      shared: this.shared,
      local: endpoint,
      get seeds() {
        return network.seedsFor(node);
      },
      async start(onPacket) {
        network.nodes.get(node)!.handler = onPacket;
      },
      send(packet, to) {
        network.send(node, packet, to);
      },
      async stop() {
        network.nodes.get(node)!.handler = undefined;
      },
    };
  }

  /** Every endpoint but `node`'s: unicast seeds for a node of this network. */
  seedsFor(node: string): Endpoint[] {
    return [...this.nodes].filter(([name]) => name !== node).map(([, n]) => n.endpoint);
  }

  /** Sees every packet sent, before loss: for replay and forgery tests. */
  tap(listener: (packet: Buffer, from: string) => void): void {
    this.taps.push(listener);
  }

  /** Delivers a raw datagram to `node`, as if from `from`, after the usual latency. */
  inject(node: string, packet: Buffer, from: Endpoint = { address: '127.0.0.9', port: 9 }): void {
    this.schedule(node, 'packet', this.latencyMs, () => this.nodes.get(node)?.handler?.(packet, from));
  }

  /** The process dies: nothing it scheduled runs, nothing reaches it, it sends nothing more. */
  crash(node: string): void {
    this.crashed.add(node);
    this.paused.delete(node);
    for (const item of this.queue) if (item.node === node) item.cancelled = true;
  }

  /** The process stops running (SIGSTOP, a long GC): its timers and packets wait for `resume`. */
  pause(node: string): void {
    if (!this.paused.has(node)) this.paused.set(node, []);
  }

  resume(node: string): void {
    const held = this.paused.get(node);
    if (!held) return;
    this.paused.delete(node);
    // Node runs every expired timer before it reads the sockets again.
    const ordered = [...held.filter((i) => i.kind === 'timer'), ...held.filter((i) => i.kind === 'packet')];
    for (const item of ordered) this.insert({ ...item, at: this.time, order: this.order++ });
  }

  /** Runs everything due in the next `ms` of simulated time. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const next = this.queue[0];
      if (!next || next.at > end) break;
      this.queue.shift();
      this.time = Math.max(this.time, next.at);
      if (next.cancelled || this.crashed.has(next.node)) continue;
      const held = this.paused.get(next.node);
      if (held) held.push(next);
      else next.run();
    }
    this.time = end;
  }

  /** Advances in small steps until `done` holds; fails after `maxMs` of simulated time. */
  runUntil(what: string, done: () => boolean, maxMs = 60_000, stepMs = 10): number {
    const start = this.time;
    while (!done()) {
      if (this.time - start > maxMs) throw new Error(`simulated ${maxMs} ms passed without ${what}`);
      this.advance(stepMs);
    }
    return this.time - start;
  }

  private send(from: string, packet: Buffer, to: Endpoint): void {
    if (this.crashed.has(from)) return;
    for (const tap of this.taps) tap(packet, from);
    const source = this.nodes.get(from)!.endpoint;
    const targets = this.shared
      ? [...this.nodes.keys()]
      : [...this.nodes].filter(([, n]) => endpointKey(n.endpoint) === endpointKey(to)).map(([name]) => name);
    for (const target of targets) {
      if (this.random() < this.loss) continue;
      this.schedule(target, 'packet', this.latencyMs, () => this.nodes.get(target)?.handler?.(packet, source));
    }
  }

  private schedule(node: string, kind: Scheduled['kind'], delay: number, run: () => void): Scheduled {
    const item: Scheduled = { at: this.time + delay, order: this.order++, node, kind, run, cancelled: false };
    if (!this.crashed.has(node)) this.insert(item);
    return item;
  }

  private insert(item: Scheduled): void {
    let low = 0;
    let high = this.queue.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const other = this.queue[mid]!;
      if (other.at < item.at || (other.at === item.at && other.order < item.order)) low = mid + 1;
      else high = mid;
    }
    this.queue.splice(low, 0, item);
  }
}
