import type { Clock } from './clock.js';
import { endpointKey, type Endpoint, type PacketHandler, type Transport } from './transport.js';

/**
 * An in-memory network on simulated time, for fast deterministic tests of anything that runs a
 * membership (the heartbeat package's own, and later the MASTER's and servers'). One `SimNetwork`
 * holds the clock and the wire; each node gets its own `clock(name)` and `transport(name)`.
 *
 * It imitates what matters to a failure detector: loss (seeded, reproducible), latency, a crashed
 * process (`crash`: silent from then on), a stalled one (`pause`/`resume`: its timers and packets
 * wait, then run late, timers first, as Node's event loop runs them after a stall), and a network
 * split in two (`partition`/`heal`). The members run their real code, signing and checking every
 * packet; only the wire is simulated. Events wait in a binary heap, so a group of 512 members runs
 * a simulated minute in seconds.
 */
export interface SimNetworkOptions {
  /** Seed of the pseudo-random generator for loss and for the members' own choices. */
  seed?: number;
  /** One-way delay of every packet. */
  latencyMs?: number;
  /** Probability that one delivery is lost, 0..1; may be changed at any time through `loss`. */
  loss?: number;
  /** true: multicast mode (the transports have a group that reaches every node); false: unicast only. */
  shared?: boolean;
}

interface Scheduled {
  at: number;
  order: number;
  node: Node;
  kind: 'timer' | 'packet';
  run: () => void;
  cancelled: boolean;
}

interface Node {
  name: string;
  endpoint: Endpoint;
  handler?: PacketHandler;
  crashed: boolean;
  /** While paused: what came due, in order. */
  held?: Scheduled[];
  /** Which side of a partition the node is on; nodes on different sides do not hear each other. */
  side: number;
}

const WALL_BASE = Date.UTC(2026, 0, 1);

export class SimNetwork {
  loss: number;
  readonly latencyMs: number;
  readonly shared: boolean;
  private time = 0;
  private order = 0;
  private readonly heap = new EventHeap();
  private readonly nodes = new Map<string, Node>();
  private readonly byEndpoint = new Map<string, Node>();
  private readonly endpoints: Endpoint[] = [];
  private readonly taps: Array<(packet: Buffer, from: string, to: string) => void> = [];
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
    const owner = this.node(node);
    return {
      monotonic: () => this.time,
      wall: () => WALL_BASE + this.time,
      setTimeout: (fire, ms) => this.schedule(owner, 'timer', Math.max(0, ms), fire),
      clearTimeout: (handle) => {
        if (handle) (handle as Scheduled).cancelled = true;
      },
    };
  }

  transport(node: string): Transport {
    const owner = this.node(node);
    const network = this;
    const transport: Transport = {
      local: owner.endpoint,
      get seeds() {
        return network.seedsFor(node);
      },
      async start(onPacket) {
        owner.handler = onPacket;
      },
      send(packet, to) {
        network.send(owner, packet, network.byEndpoint.get(endpointKey(to)));
      },
      async stop() {
        owner.handler = undefined;
      },
    };
    if (this.shared) transport.broadcast = (packet) => this.send(owner, packet, 'all');
    return transport;
  }

  /** In unicast mode every other node's endpoint (the configured servers); none in multicast mode. */
  seedsFor(node: string): Endpoint[] {
    if (this.shared) return [];
    const own = this.nodes.get(node)?.endpoint;
    return this.endpoints.filter((endpoint) => endpoint !== own);
  }

  /**
   * Sees every packet sent, before loss: for replay and forgery tests. `to` is the node it was sent
   * to, 'all' for the group, or '' for an endpoint no node has.
   */
  tap(listener: (packet: Buffer, from: string, to: string) => void): void {
    this.taps.push(listener);
  }

  /** Delivers a raw datagram to `node`, as if from `from`, after the usual latency. */
  inject(node: string, packet: Buffer, from: Endpoint = { address: '127.0.0.9', port: 9 }): void {
    const target = this.node(node);
    this.schedule(target, 'packet', this.latencyMs, () => target.handler?.(packet, from));
  }

  /** The process dies: nothing it scheduled runs, nothing reaches it, it sends nothing more. */
  crash(node: string): void {
    const target = this.node(node);
    target.crashed = true;
    target.held = undefined;
  }

  /** The process stops running (SIGSTOP, a long GC): its timers and packets wait for `resume`. */
  pause(node: string): void {
    const target = this.node(node);
    target.held ??= [];
  }

  resume(node: string): void {
    const target = this.node(node);
    const held = target.held;
    if (!held) return;
    target.held = undefined;
    // Node runs every expired timer before it reads the sockets again.
    const ordered = [...held.filter((i) => i.kind === 'timer'), ...held.filter((i) => i.kind === 'packet')];
    for (const item of ordered) this.heap.push({ ...item, at: this.time, order: this.order++ });
  }

  /** Splits the network: `side` on one side, every other node on the other; packets in flight across are lost. */
  partition(side: readonly string[]): void {
    for (const node of this.nodes.values()) node.side = 0;
    for (const name of side) this.node(name).side = 1;
  }

  heal(): void {
    for (const node of this.nodes.values()) node.side = 0;
  }

  /** Runs everything due in the next `ms` of simulated time. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const next = this.heap.peek();
      if (!next || next.at > end) break;
      this.heap.pop();
      if (next.at > this.time) this.time = next.at;
      if (next.cancelled || next.node.crashed) continue;
      if (next.node.held) next.node.held.push(next);
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

  private node(name: string): Node {
    let node = this.nodes.get(name);
    if (!node) {
      node = { name, endpoint: { address: '127.0.0.1', port: 10_000 + this.nodes.size }, crashed: false, side: 0 };
      this.nodes.set(name, node);
      this.byEndpoint.set(endpointKey(node.endpoint), node);
      this.endpoints.push(node.endpoint);
    }
    return node;
  }

  private send(from: Node, packet: Buffer, to: Node | 'all' | undefined): void {
    if (from.crashed) return;
    for (const tap of this.taps) tap(packet, from.name, to === 'all' ? 'all' : (to?.name ?? ''));
    if (to === 'all') {
      for (const target of this.nodes.values()) if (target !== from) this.deliver(from, packet, target);
    } else if (to) {
      this.deliver(from, packet, to);
    }
  }

  private deliver(from: Node, packet: Buffer, to: Node): void {
    if (to.crashed || this.random() < this.loss) return;
    const source = from.endpoint;
    this.schedule(to, 'packet', this.latencyMs, () => {
      if (to.side === from.side) to.handler?.(packet, source);
    });
  }

  private schedule(node: Node, kind: Scheduled['kind'], delay: number, run: () => void): Scheduled {
    const item: Scheduled = { at: this.time + delay, order: this.order++, node, kind, run, cancelled: false };
    if (!node.crashed) this.heap.push(item);
    return item;
  }
}

/** A binary min-heap of events by (time, order of scheduling). */
class EventHeap {
  private readonly items: Scheduled[] = [];

  peek(): Scheduled | undefined {
    return this.items[0];
  }

  push(item: Scheduled): void {
    const items = this.items;
    let i = items.push(item) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(item, items[parent]!)) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = item;
  }

  pop(): Scheduled | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (!items.length || !last) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && before(items[right]!, items[left]!) ? right : left;
      if (!before(items[child]!, last)) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = last;
    return top;
  }
}

function before(a: Scheduled, b: Scheduled): boolean {
  return a.at < b.at || (a.at === b.at && a.order < b.order);
}
