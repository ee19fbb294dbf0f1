import { createHash } from 'node:crypto';
import { readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createInflateRaw, inflateRawSync } from 'node:zlib';
import { IntegrityError } from '@flotilla/core/backup';
import type { CentralRecord } from './central-directory.js';
import { METHOD_STORED } from './entry-rules.js';
import { unpackMessages } from './messages.js';

export interface ExpectedContent {
  path: string;
  size: number;
  sha256: string;
}

/** An entry's content: whole, or (past WHOLE_ENTRY_BYTES) as chunks to consume in order. */
export type EntryContent = { whole: Buffer } | { chunks: AsyncIterable<Buffer> };

/**
 * Entries up to this size are read and inflated in one piece, synchronously: for small entries a
 * round trip to the thread pool costs more than the work (6 000 entries of 2.5 KiB: 800 ms through
 * the pool, under 100 ms here). Larger ones stream, so memory stays bounded.
 */
const WHOLE_ENTRY_BYTES = 1024 * 1024;
const STREAM_CHUNK_BYTES = 256 * 1024;
const LOCAL_HEADER = 0x04034b50;
const LOCAL_HEADER_BYTES = 30;
/** Read with the header in case its extra field is this short (pack-domain writes none): one read, not two. */
const EXTRA_SLACK = 64;

/**
 * Reads entries of a zip at the positions its central directory gives, checking on the way what
 * the directory cannot be trusted to say: that the local header is there and names the same entry,
 * that the data lies inside the file, and, for every byte, the manifest's size and SHA-256. Reads
 * are positional, so many entries can be read at once.
 */
export class ArchiveReader {
  private constructor(
    readonly archive: string,
    private readonly handle: FileHandle,
    private readonly size: number,
  ) {}

  static async open(archive: string): Promise<ArchiveReader> {
    const handle = await open(archive, 'r');
    return new ArchiveReader(archive, handle, (await handle.stat()).size);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  /**
   * The entry's content, checked: more bytes than `expected.size` stop the read at once (a zip bomb
   * costs at most the declared size, whatever its headers claim), and the size and SHA-256 must
   * match at the end. Any failure is an IntegrityError naming the archive and the entry.
   */
  content(record: CentralRecord, expected: ExpectedContent): EntryContent {
    const small = record.compressedSize <= WHOLE_ENTRY_BYTES && expected.size <= WHOLE_ENTRY_BYTES;
    const { start, headed } = this.locate(record, small ? record.compressedSize : 0);
    if (!small) return { chunks: this.checkedChunks(record, expected, start) };
    const data = headed ?? this.readAt(start, record.compressedSize, record);
    const content = this.decompress(record, data, expected.size, () => this.tooLarge(record, expected));
    this.checkDigest(expected, content.length, createHash('sha256').update(content).digest('hex'));
    return { whole: content };
  }

  /** An entry with no manifest line to check it against (the manifest itself), up to `limit` bytes. */
  limited(record: CentralRecord, limit: number): Buffer {
    const tooLarge = () => this.bad(record, `is larger than the ${limit} bytes allowed`);
    // Deflate grows nothing by more than a few bytes per 16 KiB: more compressed bytes than this
    // cannot inflate to `limit` or less, and are refused before they are read into memory.
    if (record.compressedSize > limit + Math.ceil(limit / 1000) + 1024) throw tooLarge();
    const { start, headed } = this.locate(record, record.compressedSize);
    const data = headed ?? this.readAt(start, record.compressedSize, record);
    return this.decompress(record, data, limit, tooLarge);
  }

  /**
   * Where the entry's data starts, after its local header, checked; with `andData`, the data too
   * when it came with the same read.
   */
  private locate(record: CentralRecord, andData: number): { start: number; headed?: Buffer } {
    const offset = record.offsetToLocalFileHeader;
    // The name's bytes, from the string: only names that are valid UTF-8 (which encode back to their bytes) pass the entry rules.
    const name = Buffer.from(record.path, 'utf8');
    const nameBytes = name.length;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(record.compressedSize) || offset < 0 || offset >= this.size || record.compressedSize < 0) {
      throw this.bad(record, 'has an impossible offset or size in the central directory');
    }
    const header = this.readAt(offset, Math.min(LOCAL_HEADER_BYTES + nameBytes + EXTRA_SLACK + andData, this.size - offset), record, LOCAL_HEADER_BYTES + nameBytes);
    if (header.readUInt32LE(0) !== LOCAL_HEADER) throw this.bad(record, 'has no local header where the central directory says');
    const localName = header.readUInt16LE(26);
    const extra = header.readUInt16LE(28);
    if (localName !== nameBytes || !header.subarray(LOCAL_HEADER_BYTES, LOCAL_HEADER_BYTES + nameBytes).equals(name)) {
      throw this.bad(record, 'has a local header that names another entry');
    }
    const start = offset + LOCAL_HEADER_BYTES + nameBytes + extra;
    if (start + record.compressedSize > this.size) throw this.bad(record, 'runs past the end of the archive (truncated?)');
    const dataAt = start - offset;
    const headed = andData && dataAt + andData <= header.length ? header.subarray(dataAt, dataAt + andData) : undefined;
    return { start, headed };
  }

  private readAt(position: number, length: number, record: CentralRecord, atLeast = length): Buffer {
    const buffer = Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
      const bytesRead = readSync(this.handle.fd, buffer, filled, length - filled, position + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    if (filled < atLeast) throw this.bad(record, 'runs past the end of the archive (truncated?)');
    return buffer.subarray(0, filled);
  }

  /** Stored data as it is; deflated data inflated, never past `limit` bytes. */
  private decompress(record: CentralRecord, data: Buffer, limit: number, tooLarge: () => IntegrityError): Buffer {
    if (record.compressionMethod === METHOD_STORED) {
      if (data.length > limit) throw tooLarge();
      return data;
    }
    try {
      // zlib refuses a limit of 0; an empty entry that inflates to a byte is still caught by its size.
      // The output buffer is sized to the limit (one byte more, so that zlib need not take a second
      // to find the end), not zlib's default 16 KiB: 20 000 small entries made 300 MB of garbage
      // buffers so, and a pack's peak memory was in reading its archive back. Under 4 KiB it comes
      // from Node's shared pool. zlib's minimum is 64 bytes.
      return inflateRawSync(data, { maxOutputLength: Math.max(limit, 1), chunkSize: Math.max(64, Math.min(limit, WHOLE_ENTRY_BYTES) + 1) });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge();
      throw this.bad(record, `cannot be read: ${(error as Error).message}`, error);
    }
  }

  private tooLarge(record: CentralRecord, expected: ExpectedContent): IntegrityError {
    return this.bad(record, `decompresses to more than the ${expected.size} bytes the manifest declares`);
  }

  /**
   * A large entry's bytes, checked as they come. The compressed data is read into one buffer, used
   * again for every piece: fresh buffers would pile up unreachable, to V8's external-memory threshold
   * (64 MB), before a collection frees them. Inflated output is bounded by the stream's backpressure.
   * Each chunk is valid until the consumer asks for the next one.
   */
  private async *checkedChunks(record: CentralRecord, expected: ExpectedContent, start: number): AsyncGenerator<Buffer> {
    const hash = createHash('sha256');
    let size = 0;
    const input = Buffer.allocUnsafeSlow(STREAM_CHUNK_BYTES);
    const end = start + record.compressedSize;
    const pieces = async function* (this: ArchiveReader) {
      for (let position = start; position < end; ) {
        const { bytesRead } = await this.handle.read(input, 0, Math.min(input.length, end - position), position);
        if (bytesRead === 0) throw this.bad(record, 'runs past the end of the archive (truncated?)');
        position += bytesRead;
        yield input.subarray(0, bytesRead);
      }
    }.call(this);
    const chunks = record.compressionMethod === METHOD_STORED ? pieces : inflated(pieces);
    try {
      for await (const chunk of chunks) {
        size += chunk.length;
        if (size > expected.size) throw this.tooLarge(record, expected);
        hash.update(chunk);
        yield chunk;
      }
    } catch (error) {
      if (error instanceof IntegrityError) throw error;
      throw this.bad(record, `cannot be read: ${(error as Error).message}`, error);
    }
    this.checkDigest(expected, size, hash.digest('hex'));
  }

  private checkDigest(expected: ExpectedContent, size: number, sha256: string): void {
    if (size !== expected.size) {
      throw new IntegrityError(unpackMessages.badEntry(this.archive, expected.path, `holds ${size} bytes, but the manifest declares ${expected.size}`));
    }
    if (sha256 !== expected.sha256) {
      throw new IntegrityError(unpackMessages.badEntry(this.archive, expected.path, `has SHA-256 ${sha256}, but the manifest declares ${expected.sha256}`));
    }
  }

  private bad(record: CentralRecord, problem: string, cause?: unknown): IntegrityError {
    return new IntegrityError(unpackMessages.badEntry(this.archive, record.path, problem), cause === undefined ? undefined : { cause });
  }
}

/** Every byte of an entry's content, whole or streamed, in order. */
export async function* contentChunks(content: EntryContent): AsyncIterable<Buffer> {
  if ('whole' in content) yield content.whole;
  else yield* content.chunks;
}

/**
 * Raw deflate data, inflated. Each piece is written only once the one before is consumed, so the
 * caller may reuse the piece's buffer; output waits for the consumer, so memory stays bounded
 * whatever the compression ratio.
 */
async function* inflated(pieces: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  const inflater = createInflateRaw({ chunkSize: STREAM_CHUNK_BYTES });
  const feeding = (async () => {
    try {
      for await (const piece of pieces) {
        await new Promise<void>((resolve, reject) => inflater.write(piece, (error) => (error ? reject(error) : resolve())));
      }
      inflater.end();
    } catch (error) {
      inflater.destroy(error as Error);
    }
  })();
  try {
    yield* inflater as AsyncIterable<Buffer>;
  } finally {
    // An early stop: the feeder's next write fails on the destroyed stream, and it ends.
    inflater.destroy();
    await feeding;
  }
}
