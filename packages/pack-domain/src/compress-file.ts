import { createHash, hash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { constants as zlibConstants, crc32, deflateRaw, deflateRawSync } from 'node:zlib';
import { promisify } from 'node:util';
import { FlotillaError, type FileEntry } from '@flotilla/core/backup';
import type { ListedFile } from './collect.js';
import { FileChangedError, requireUnchanged } from './content-check.js';
import { METHOD_DEFLATED, METHOD_STORED, type ZipMethod, type ZipWriter } from './zip-writer.js';

/** Info-ZIP's default level: the benchmark compares against `zip -r` at this same level. */
export const DEFLATE_LEVEL = 6;
/**
 * Larger files are deflated in blocks of this size, several at once on libuv's thread pool (pigz's
 * scheme): large enough that restarting each block's Huffman tables, and the trip to the pool,
 * cost nothing measurable; small enough that one large file keeps every core busy. Files up to one
 * block are read whole and deflated in batches on a worker thread (archive-files.ts).
 */
export const BLOCK_BYTES = 1024 * 1024;
/** Deflate's window: each block is primed with the end of the one before, so the ratio is one stream's. */
const WINDOW_BYTES = 32 * 1024;
/** Blocks of one large file being deflated at once: the thread pool's four threads and one waiting. */
const BLOCKS_IN_FLIGHT = 5;
/**
 * Data deflate cannot shrink by 2% (jars, images, archives) is stored: deflating it again costs
 * the most CPU time of all for nothing. A large file is judged by its first block.
 */
const STORE_FROM_RATIO = 0.98;

const deflate = promisify(deflateRaw);

/** What the manifest says of a file once it is packed. */
export type PackedFile = FileEntry;

export interface CompressedContent {
  method: ZipMethod;
  crc32: number;
  /** What goes into the archive: deflated, or the content itself when stored. */
  data: Buffer;
}

/** A file up to one block, read and checked, waiting to be compressed. */
export interface SmallFile {
  file: ListedFile;
  content: Buffer;
  packed: PackedFile;
}

/**
 * Reads `file` (at most one block) and checks it is still what was listed, synchronously: for a
 * file this small a trip to the thread pool costs more than the read itself.
 */
export function readSmallFile(file: ListedFile): SmallFile {
  let content: Buffer;
  let fd: number;
  try {
    fd = openSync(file.absolute, 'r');
  } catch (error) {
    throw readFailure(file, error);
  }
  try {
    content = Buffer.allocUnsafe(file.size);
    for (let filled = 0; filled < file.size; ) {
      const count = readSync(fd, content, filled, file.size - filled, filled);
      if (count === 0) throw new FileChangedError(file.path, `shrank from ${file.size} bytes`);
      filled += count;
    }
    requireUnchanged(file, fstatSync(fd));
  } catch (error) {
    throw error instanceof FlotillaError ? error : readFailure(file, error);
  } finally {
    closeSync(fd);
  }
  // One-shot: a Hash object per file costs more than hashing a few KiB (2 600 files: 40 ms, 20 ms so).
  return { file, content, packed: packedFile(file, hash('sha256', content, 'hex')) };
}

/** The entry for `content` given its deflated form: stored instead when deflate does not pay. */
export function chooseMethod(content: Buffer, deflated: Buffer): CompressedContent {
  const method = content.length && worthDeflating(content, deflated) ? METHOD_DEFLATED : METHOD_STORED;
  return { method, crc32: crc32(content), data: method === METHOD_DEFLATED ? deflated : content };
}

/** Content held in memory (the manifest), deflated in one piece here, or stored. */
export function compressContent(content: Buffer): CompressedContent {
  return chooseMethod(content, deflateRawSync(content, { level: DEFLATE_LEVEL }));
}

/**
 * The buffers writeLargeFile reads blocks into, rather than fresh ones: garbage buffers would pile
 * up to V8's external-memory threshold (64 MB) before a collection frees them. Made once per pack
 * and used for each large file in turn. Before block n is read, block n - BLOCKS_IN_FLIGHT is
 * written, so only the one before it may still be in use (as the dictionary of an unfinished
 * block): BLOCKS_IN_FLIGHT + 1 buffers suffice.
 */
export type BlockRing = readonly Buffer[];

export function blockRing(): BlockRing {
  return Array.from({ length: BLOCKS_IN_FLIGHT + 1 }, () => Buffer.allocUnsafeSlow(BLOCK_BYTES));
}

/**
 * Streams a file of more than one block into `writer`, its blocks deflated in parallel and written
 * in order: memory holds BLOCKS_IN_FLIGHT blocks (in `ring`), whatever the file's size.
 */
export async function writeLargeFile(writer: ZipWriter, file: ListedFile, onBytes: (count: number) => void, ring: BlockRing): Promise<PackedFile> {
  const handle = await openListed(file);
  try {
    const hash = createHash('sha256');
    let checksum = 0;
    let position = 0;
    let blocks = 0;
    const nextBlock = async () => {
      const into = ring[blocks++ % ring.length]!;
      const block = await readExactly(handle, file, position, Math.min(BLOCK_BYTES, file.size - position), into);
      position += block.length;
      hash.update(block);
      checksum = crc32(block, checksum);
      return block;
    };

    let previous = await nextBlock();
    const first = await deflateBlock(previous, undefined, position === file.size);
    const method = worthDeflating(previous, first) ? METHOD_DEFLATED : METHOD_STORED;
    const entry = await writer.begin({ name: file.path, mode: file.mode, date: new Date(file.mtime), method, size: file.size });
    let compressedSize = 0;
    const inFlight: Promise<Buffer>[] = [Promise.resolve(method === METHOD_DEFLATED ? first : previous)];
    const writeOldest = async () => {
      const data = await inFlight.shift()!;
      await entry.write(data);
      compressedSize += data.length;
    };
    onBytes(previous.length);
    while (position < file.size) {
      const block = await nextBlock();
      inFlight.push(method === METHOD_DEFLATED ? deflateBlock(block, previous.subarray(-WINDOW_BYTES), position === file.size) : Promise.resolve(block));
      previous = block;
      if (inFlight.length >= BLOCKS_IN_FLIGHT) await writeOldest();
      onBytes(block.length);
    }
    while (inFlight.length) await writeOldest();
    // Any write since the listing, before or while it was read, shows here: the blocks may mix two versions.
    requireUnchanged(file, await handle.stat());
    await entry.end({ crc32: checksum, compressedSize });
    return packedFile(file, hash.digest('hex'));
  } finally {
    await handle.close();
  }
}

/**
 * One block of a raw deflate stream. Blocks before the last end on a byte boundary without the
 * final bit (a sync flush), so that their concatenation is one valid stream.
 */
function deflateBlock(block: Buffer, dictionary: Buffer | undefined, last: boolean): Promise<Buffer> {
  const deflated = deflate(block, {
    level: DEFLATE_LEVEL,
    ...(dictionary ? { dictionary } : {}),
    finishFlush: last ? zlibConstants.Z_FINISH : zlibConstants.Z_SYNC_FLUSH,
  });
  deflated.catch(() => {}); // awaited in turn; a failure meanwhile is not unhandled
  return deflated;
}

function worthDeflating(content: Buffer, deflated: Buffer): boolean {
  return deflated.length < content.length * STORE_FROM_RATIO;
}

function packedFile(file: ListedFile, sha256: string): PackedFile {
  return { path: file.path, size: file.size, mode: file.mode, mtime: file.mtime, sha256 };
}

async function openListed(file: ListedFile): Promise<FileHandle> {
  try {
    return await open(file.absolute, 'r');
  } catch (error) {
    throw readFailure(file, error);
  }
}

/** `length` bytes from `position`, into `into`; fewer means the file shrank since it was listed. */
async function readExactly(handle: FileHandle, file: ListedFile, position: number, length: number, into: Buffer): Promise<Buffer> {
  const buffer = into.subarray(0, length);
  let filled = 0;
  while (filled < length) {
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(buffer, filled, length - filled, position + filled));
    } catch (error) {
      throw readFailure(file, error);
    }
    if (bytesRead === 0) throw new FileChangedError(file.path, `shrank from ${file.size} bytes`);
    filled += bytesRead;
  }
  return buffer;
}

function readFailure(file: ListedFile, error: unknown): Error {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new FileChangedError(file.path, 'was removed');
  return new FlotillaError(`cannot read ${file.absolute}: ${(error as Error).message}`, undefined, { cause: error });
}
