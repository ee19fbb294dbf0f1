import { createHash, type Hash } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, copyFile, open, stat, writeFile, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { IntegrityError, PeerUnreachableError, sha256File, type FileEntry } from '@flotilla/core';

/** One file to write into the staging directory: what it must be, and where. */
export interface Placement {
  entry: FileEntry;
  target: string;
}

/** What a sync watches while files arrive. */
export interface FileHooks {
  /** Runs before each file is written (the sync's test-only fault hook). */
  before?: () => Promise<void>;
  /** Bytes received and checked so far, and each file complete (`files` 1): for a progress line. */
  progress?: (bytes: number, files: number) => void;
}

/** Files up to this size are gathered in memory and written with one call. */
const WHOLE_FILE_MAX = 1024 * 1024;
/** Larger files are written as they stream, in writes this large: a few syscalls per megabyte. */
const WRITE_CHUNK = 1024 * 1024;
/** Small files written in parallel while the stream goes on. */
const WRITES_IN_FLIGHT = 16;

/**
 * Splits `stream`, the files of `placements` one after the other (each exactly its manifest size),
 * into those files, checking each while it streams: never more bytes than declared, then its
 * SHA-256. Nothing is fsynced: the sync makes the whole generation durable at once before it
 * becomes current. `from` names the peer in errors.
 */
export async function receiveFiles(stream: Readable, placements: readonly Placement[], from: string, hooks: FileHooks): Promise<void> {
  const writes = new BoundedWrites();
  let index = 0;
  let file: IncomingFile | undefined;
  const next = async (): Promise<void> => {
    // Empty files take no bytes: they are complete as soon as they are reached.
    for (file = undefined; index < placements.length; ) {
      await hooks.before?.();
      file = new IncomingFile(placements[index++]!, from);
      if (file.remaining > 0) return;
      file.verify();
      hooks.progress?.(0, 1);
      await writes.add(file.finish());
    }
  };
  const chunks = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const nextChunk = async () => {
    try {
      return await chunks.next();
    } catch (error) {
      throw new PeerUnreachableError(`${from} stopped sending mid-transfer (${(error as Error).message})`, { cause: error });
    }
  };
  try {
    await next();
    for (let step = await nextChunk(); !step.done; step = await nextChunk()) {
      const chunk = step.value;
      for (let offset = 0; offset < chunk.length; ) {
        if (!file) throw new IntegrityError(`${from} sent more bytes than the ${placements.length} files asked for; nothing of it used`);
        const taken = Math.min(file.remaining, chunk.length - offset);
        await file.take(chunk.subarray(offset, offset + taken));
        offset += taken;
        hooks.progress?.(taken, 0);
        if (file.remaining === 0) {
          file.verify();
          hooks.progress?.(0, 1);
          await writes.add(file.finish());
          await next();
        }
      }
    }
    if (file) throw new PeerUnreachableError(`${from} stopped sending ${file.entry.path} after ${file.entry.size - file.remaining} of its ${file.entry.size} bytes`);
    await writes.drain();
  } catch (error) {
    stream.destroy();
    await file?.abandon();
    await writes.settle();
    throw error;
  }
}

/** One file being received: hashed as it comes, written whole (small) or as it streams (large). */
class IncomingFile {
  readonly entry: FileEntry;
  remaining: number;
  private readonly hash: Hash = createHash('sha256');
  private readonly target: string;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private handle?: Promise<FileHandle>;
  private writing: Promise<unknown> = Promise.resolve();

  constructor(
    placement: Placement,
    private readonly from: string,
  ) {
    this.entry = placement.entry;
    this.target = placement.target;
    this.remaining = placement.entry.size;
  }

  async take(piece: Buffer): Promise<void> {
    this.hash.update(piece);
    this.remaining -= piece.length;
    this.pending.push(piece);
    this.pendingBytes += piece.length;
    if (this.entry.size > WHOLE_FILE_MAX && this.pendingBytes >= WRITE_CHUNK) await this.flush();
  }

  /** Writes what is gathered while the next megabyte streams in: one write in flight, in order. */
  private async flush(): Promise<void> {
    const pieces = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    this.handle ??= open(this.target, 'wx', this.entry.mode);
    const handle = await this.handle;
    await this.writing;
    this.writing = writeAll(handle, pieces, this.target);
    this.writing.catch(() => {}); // awaited by the next flush or by finish; never left unhandled
  }

  /** Every byte is in: it is the manifest's content, or nothing of it is used. */
  verify(): void {
    if (this.hash.digest('hex') !== this.entry.sha256) {
      throw new IntegrityError(`${this.entry.path} from ${this.from} does not match its manifest (SHA-256); not used`);
    }
  }

  /** Writes what remains once verified (a promise, so that the next files stream meanwhile). */
  async finish(): Promise<void> {
    if (!this.handle) {
      await writeFile(this.target, this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending), { mode: this.entry.mode, flag: 'wx' });
    } else {
      await this.flush();
      const handle = await this.handle;
      await this.writing;
      await handle.close();
    }
    // The umask may have narrowed the mode at creation; the manifest's mode is what it must have.
    await chmod(this.target, this.entry.mode);
  }

  async abandon(): Promise<void> {
    const handle = await this.handle?.catch(() => undefined);
    await this.writing.catch(() => {});
    await handle?.close().catch(() => {});
  }
}

/** A short write on a regular file means the disk refused the rest (full, quota): an error, never a shorter file. */
async function writeAll(handle: FileHandle, pieces: Buffer[], target: string): Promise<void> {
  const expected = pieces.reduce((sum, piece) => sum + piece.length, 0);
  const { bytesWritten } = await handle.writev(pieces);
  if (bytesWritten !== expected) throw new Error(`could write only ${bytesWritten} of ${expected} bytes to ${target}`);
}

/** Writes that run while the stream goes on, at most WRITES_IN_FLIGHT at once; the first failure wins. */
class BoundedWrites {
  private readonly running = new Set<Promise<void>>();

  /** Starts waiting for `write`; waits only when too many are in flight. */
  async add(write: Promise<void>): Promise<void> {
    const tracked: Promise<void> = write.finally(() => this.running.delete(tracked));
    tracked.catch(() => {}); // observed by race or drain below, never left unhandled
    this.running.add(tracked);
    if (this.running.size >= WRITES_IN_FLIGHT) await Promise.race(this.running);
  }

  async drain(): Promise<void> {
    await Promise.all(this.running);
  }

  /** After a failure: lets the writes still running end, so that nothing writes behind a cleanup. */
  async settle(): Promise<void> {
    await Promise.allSettled(this.running);
  }
}

/**
 * Copies a file of this machine into place (copy_file_range where the filesystem offers it), then
 * verifies the copy itself: its size and SHA-256 are the manifest's, or it is not used.
 */
export async function copyVerified(source: string, placement: Placement, from: string): Promise<void> {
  const { entry, target } = placement;
  await copyFile(source, target, constants.COPYFILE_EXCL);
  const { size } = await stat(target);
  if (size !== entry.size || (await sha256File(target)) !== entry.sha256) {
    throw new IntegrityError(`${entry.path} from ${from} does not match its manifest (size or SHA-256); not used`);
  }
  await chmod(target, entry.mode);
}
