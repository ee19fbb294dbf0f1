import { open } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MAX_CONTENT_HASHES, UsageError, type ContentRequest } from '@flotilla/core';

/** A file to send: where it is and how many bytes its manifest promises. */
export interface ContentFile {
  path: string;
  size: number;
}

/** Large reads keep a transfer to a few syscalls per megabyte. */
const READ_CHUNK = 1024 * 1024;
/**
 * Small files read ahead while earlier ones are sent, so that their opens and reads overlap; bounded
 * in bytes too, as many servers may sync at once.
 */
const READ_AHEAD_FILES = 16;
const READ_AHEAD_BYTES = 1024 * 1024;

/**
 * The files a `POST /v1/content` body asks for, each checked against the current generation
 * (`lookup`); anything else is refused before a byte is sent, naming what was wrong.
 */
export function requestedContent(body: Buffer, lookup: (sha256: string) => ContentFile | undefined, generation: number): ContentFile[] {
  let hashes: unknown;
  try {
    hashes = (JSON.parse(body.toString('utf8')) as ContentRequest).hashes;
  } catch {
    hashes = undefined;
  }
  if (!Array.isArray(hashes) || hashes.length === 0) throw new UsageError('a content request is { "hashes": [SHA-256, ...] } with at least one hash');
  if (hashes.length > MAX_CONTENT_HASHES) throw new UsageError(`a content request asks for at most ${MAX_CONTENT_HASHES} files, not ${hashes.length}`);
  return hashes.map((hash) => {
    const file = typeof hash === 'string' && /^[0-9a-f]{64}$/.test(hash) ? lookup(hash) : undefined;
    if (!file) throw new UsageError(`no content with hash ${String(hash).slice(0, 80)} in generation ${generation}`);
    return file;
  });
}

/** Streams `files` one after the other, each exactly its manifest size, as the answer. */
export function sendContent(response: ServerResponse, files: readonly ContentFile[]): void {
  const total = files.reduce((sum, file) => sum + file.size, 0);
  response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
  // A file that changed under us ends the answer short: the server sees it and retries the sync.
  // Bytes, not objects: what waits in the stream stays about one read, whatever the files' sizes.
  pipeline(Readable.from(concatenated(files), { objectMode: false, highWaterMark: READ_CHUNK }), response).catch(() => response.destroy());
}

async function* concatenated(files: readonly ContentFile[]): AsyncGenerator<Buffer> {
  const early = new Map<number, Promise<Buffer>>();
  let earlyBytes = 0;
  let next = 0; // the next file to consider reading early
  for (let i = 0; i < files.length; i++) {
    for (next = Math.max(next, i); next < Math.min(files.length, i + READ_AHEAD_FILES) && earlyBytes < READ_AHEAD_BYTES; next++) {
      const file = files[next]!;
      if (file.size > READ_CHUNK) break; // a large file streams in its turn; reading resumes after it
      const read = readExactly(file);
      read.catch(() => {}); // awaited in its turn; a stream that stops early must not leave it unhandled
      early.set(next, read);
      earlyBytes += file.size;
    }
    const read = early.get(i);
    if (read) {
      early.delete(i);
      earlyBytes -= files[i]!.size;
      yield await read;
    } else {
      yield* inChunks(files[i]!);
    }
  }
}

/** A small file, whole: a file that is no longer its manifest size is an error, never sent. */
async function readExactly(file: ContentFile): Promise<Buffer> {
  const handle = await open(file.path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(file.size);
    const { bytesRead } = await handle.read(buffer, 0, file.size, 0);
    if (bytesRead !== file.size) throw new Error(`${file.path} is no longer the ${file.size} bytes of its manifest`);
    return buffer;
  } finally {
    await handle.close();
  }
}

async function* inChunks(file: ContentFile): AsyncGenerator<Buffer> {
  const handle = await open(file.path, 'r');
  try {
    for (let offset = 0; offset < file.size; ) {
      const length = Math.min(READ_CHUNK, file.size - offset);
      const { bytesRead, buffer } = await handle.read(Buffer.allocUnsafe(length), 0, length, offset);
      if (bytesRead === 0) throw new Error(`${file.path} is shorter than the ${file.size} bytes of its manifest`);
      offset += bytesRead;
      yield bytesRead === length ? buffer : buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}
