import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { deflateRawSync } from 'node:zlib';

/**
 * The worker's whole program: deflate each piece of a batch, synchronously, and send the results
 * back joined in one fresh buffer. It is given as source rather than as a file so that it runs the
 * same from the built package and from the sources under test.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { deflateRawSync } = require('node:zlib');
parentPort.on('message', ({ id, level, joined, lengths }) => {
  try {
    const deflated = [];
    let at = 0;
    for (const length of lengths) {
      deflated.push(deflateRawSync(new Uint8Array(joined, at, length), { level }));
      at += length;
    }
    const { buffer, lengths: deflatedLengths } = join(deflated);
    parentPort.postMessage({ id, joined: buffer, lengths: deflatedLengths }, [buffer]);
  } catch (error) {
    parentPort.postMessage({ id, error: String((error && error.message) || error) });
  }
});
${join.toString()}
`;

/**
 * Pieces copied into one new ArrayBuffer, which can be transferred rather than cloned: a small
 * Buffer is a view of Node's shared 8 KiB pool, or of zlib's 16 KiB output chunk, and sending it
 * as it is would copy the whole of that, for every file.
 */
function join(pieces: Uint8Array[]): { buffer: ArrayBuffer; lengths: number[] } {
  const lengths = pieces.map((piece) => piece.length);
  const joined = new Uint8Array(lengths.reduce((sum, length) => sum + length, 0));
  let at = 0;
  for (const piece of pieces) {
    joined.set(piece, at);
    at += piece.length;
  }
  return { buffer: joined.buffer, lengths };
}

/** The pieces of a joined buffer, as Buffers sharing it. */
function views(joined: ArrayBuffer, lengths: number[]): Buffer[] {
  let at = 0;
  return lengths.map((length) => {
    const piece = Buffer.from(joined, at, length);
    at += length;
    return piece;
  });
}

/** Batches a worker may have waiting before the caller deflates one itself. */
const QUEUED_PER_WORKER = 2;

interface Pending {
  resolve(deflated: Buffer[]): void;
  reject(error: Error): void;
}

/**
 * Deflates batches of small files on worker threads, one per core besides the main thread's. Small
 * files cannot go to libuv's thread pool one by one: each trip costs more than deflating a few KiB
 * (6 000 files of 2.5 KiB: 880 ms through the pool, 150 ms on one thread). A batch of many files
 * per message costs one trip, and the workers deflate while the main thread reads, hashes and writes.
 */
export class DeflatePool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: Error | undefined;

  constructor(
    private readonly level: number,
    readonly size = Math.max(1, availableParallelism() - 1),
  ) {}

  /**
   * The batch's buffers deflated (raw deflate, one stream each), in order. When every worker
   * already has QUEUED_PER_WORKER batches waiting, the calling thread deflates this one itself,
   * rather than wait idle for them later: it has spare time whenever the workers are the slower.
   */
  deflate(buffers: Buffer[]): Promise<Buffer[]> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.pending.size >= this.size * QUEUED_PER_WORKER) {
      // Joined as the workers' are: each result alone is a view of zlib's own 16 KiB output chunk,
      // and a batch of 256 of them held 4 MiB until written (20 000 files: 281 MB peak RSS).
      const { buffer, lengths } = join(buffers.map((piece) => deflateRawSync(piece, { level: this.level })));
      return Promise.resolve(views(buffer, lengths));
    }
    const id = this.nextId++;
    const worker = this.workerFor(id);
    const result = new Promise<Buffer[]>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    const { buffer, lengths } = join(buffers);
    worker.postMessage({ id, level: this.level, joined: buffer, lengths }, [buffer]);
    return result;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  /** Round robin: batches are alike, and started lazily, so a domain of a few files starts no thread it does not use. */
  private workerFor(id: number): Worker {
    const index = id % this.size;
    let worker = this.workers[index];
    if (!worker) {
      // No inherited execArgv: under --input-type=module the source would be taken for a module. Small
      // heap limits: the worker holds a batch at a time.
      worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 } });
      worker.on('message', (message: { id: number; joined?: ArrayBuffer; lengths?: number[]; error?: string }) => {
        const waiting = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.error !== undefined) return waiting?.reject(new Error(`deflate failed: ${message.error}`));
        waiting?.resolve(views(message.joined!, message.lengths!));
      });
      worker.on('error', (error) => this.fail(error));
      this.workers[index] = worker;
    }
    return worker;
  }

  private fail(error: Error): void {
    this.failure = new Error(`a deflate worker failed: ${error.message}`, { cause: error });
    for (const waiting of this.pending.values()) waiting.reject(this.failure);
    this.pending.clear();
  }
}
