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
      deflated.push(deflateRawSync(new Uint8Array(joined, at, length), { level, chunkSize: outputChunkFor(length) }));
      at += length;
    }
    const { buffer, lengths: deflatedLengths } = join(deflated);
    parentPort.postMessage({ id, joined: buffer, lengths: deflatedLengths }, [buffer]);
  } catch (error) {
    parentPort.postMessage({ id, error: String((error && error.message) || error) });
  }
});
${join.toString()}
${outputChunkFor.toString()}
`;

/**
 * The output buffer deflating `length` bytes takes: room for the result in one piece, rather than
 * zlib's default 16 KiB, which a file of a few KiB mostly left unused and which, per file, made
 * hundreds of MB of garbage buffers on a 20 000-file domain; under 4 KiB it comes from Node's
 * shared pool instead of a buffer of its own. Data that grows (stored blocks add 5 bytes per
 * 16 KiB) takes a second buffer, as before. zlib's minimum is 64 bytes.
 */
function outputChunkFor(length: number): number {
  return Math.max(64, length + (length >> 10) + 16);
}

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

/** Batches sent to a worker and not yet back: the one it deflates and the next, so that it never waits for a message. */
const QUEUED_PER_WORKER = 2;

interface Job {
  buffers: Buffer[];
  resolve(deflated: Buffer[]): void;
  reject(error: Error): void;
}

/**
 * Deflates batches of small files on worker threads, one per core besides the main thread's. Small
 * files cannot go to libuv's thread pool one by one: each trip costs more than deflating a few KiB
 * (6 000 files of 2.5 KiB: 880 ms through the pool, 150 ms on one thread). A batch of many files
 * per message costs one trip, and the workers deflate while the main thread reads, hashes and writes.
 * Batches wait here until a worker has room; a caller about to wait for one deflates the oldest
 * waiting batch itself instead (help), so that no thread is ever idle while a batch waits.
 */
export class DeflatePool {
  private readonly workers: Worker[] = [];
  /** Per worker, the batches sent and not yet back. */
  private readonly sent: Map<number, Job>[] = [];
  private readonly waiting: Job[] = [];
  private nextId = 0;
  private failure: Error | undefined;

  constructor(
    private readonly level: number,
    readonly size = Math.max(1, availableParallelism() - 1),
  ) {}

  /** The batch's buffers deflated (raw deflate, one stream each), in order: by a worker, or by the caller's help. */
  deflate(buffers: Buffer[]): Promise<Buffer[]> {
    if (this.failure) return Promise.reject(this.failure);
    const result = new Promise<Buffer[]>((resolve, reject) => this.waiting.push({ buffers, resolve, reject }));
    this.send();
    return result;
  }

  /**
   * Deflates the oldest batch no worker has taken yet, on the calling thread; false when there is
   * none. Called by whoever would otherwise wait for a batch.
   */
  help(): boolean {
    const job = this.waiting.shift();
    if (!job) return false;
    try {
      // Joined as the workers' are: each result alone is a view of zlib's own 16 KiB output chunk,
      // and a batch of 256 of them held 4 MiB until written (20 000 files: 281 MB peak RSS).
      const { buffer, lengths } = join(job.buffers.map((piece) => deflateRawSync(piece, { level: this.level, chunkSize: outputChunkFor(piece.length) })));
      job.resolve(views(buffer, lengths));
    } catch (error) {
      job.reject(error as Error);
    }
    return true;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  /** Hands waiting batches to the workers that have room; started lazily, so a domain of a few files starts no thread it does not use. */
  private send(): void {
    for (let index = 0; index < this.size && this.waiting.length; index++) {
      const sent = this.sent[index] ?? this.start(index);
      while (sent.size < QUEUED_PER_WORKER && this.waiting.length) {
        const job = this.waiting.shift()!;
        const id = this.nextId++;
        sent.set(id, job);
        const { buffer, lengths } = join(job.buffers);
        this.workers[index]!.postMessage({ id, level: this.level, joined: buffer, lengths }, [buffer]);
      }
    }
  }

  private start(index: number): Map<number, Job> {
    // No inherited execArgv: under --input-type=module the source would be taken for a module. Small
    // heap limits: the worker holds a batch at a time.
    const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 } });
    const sent = new Map<number, Job>();
    worker.on('message', (message: { id: number; joined?: ArrayBuffer; lengths?: number[]; error?: string }) => {
      const job = sent.get(message.id);
      sent.delete(message.id);
      if (message.error !== undefined) job?.reject(new Error(`deflate failed: ${message.error}`));
      else job?.resolve(views(message.joined!, message.lengths!));
      this.send();
    });
    worker.on('error', (error) => this.fail(error));
    this.workers[index] = worker;
    this.sent[index] = sent;
    return sent;
  }

  private fail(error: Error): void {
    this.failure = new Error(`a deflate worker failed: ${error.message}`, { cause: error });
    for (const job of [...this.waiting, ...this.sent.flatMap((sent) => [...sent.values()])]) job.reject(this.failure);
    this.waiting.length = 0;
    for (const sent of this.sent) sent.clear();
  }
}
