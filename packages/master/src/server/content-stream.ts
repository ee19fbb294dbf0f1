import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { BufferPool, ContentRequestSchema, UsageError, eventLoopBreather, forEachConcurrent, parseMessage } from '@flotilla/core';

/** A file to send: where it is and how many bytes its manifest promises. */
export interface ContentFile {
  path: string;
  size: number;
}

/** An answer is sent in blocks this large: a few socket writes per megabyte, small files packed together. */
const BLOCK_BYTES = 1024 * 1024;
/**
 * Blocks per answer, reused: one filling while the others are sent. A transfer allocates nothing per
 * megabyte (fresh buffers cost page faults and garbage collection), and an answer holds at most
 * this many blocks however many servers sync at once.
 */
const BLOCKS_PER_ANSWER = 3;
/** Parts of large files in one block read at once, so that their opens and reads overlap. */
const READS_IN_FLIGHT = 16;
/**
 * Whole files up to this size are read synchronously: microseconds each from the page cache, where
 * the scan that hashed them left them; one disk read otherwise.
 */
const READ_AT_ONCE_MAX = 64 * 1024;

/**
 * The files a `POST /v2/content` body asks for, each checked against the current generation
 * (`lookup`); anything else is refused before a byte is sent, naming what was wrong.
 */
export function requestedContent(body: Buffer, lookup: (sha256: string) => ContentFile | undefined, generation: number): ContentFile[] {
  const { hashes } = parseMessage(ContentRequestSchema, body, 'a content request');
  return hashes.map((hash) => {
    const file = lookup(hash);
    if (!file) throw new UsageError(`no content with hash ${hash} in generation ${generation}`);
    return file;
  });
}

/** Streams `files` one after the other, each exactly its manifest size, as the answer. */
export function sendContent(response: ServerResponse, files: readonly ContentFile[]): void {
  const total = files.reduce((sum, file) => sum + file.size, 0);
  response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
  // A file that changed under us ends the answer short: the server sees it and retries the sync.
  sendBlocks(response, files, total).then(
    () => response.end(),
    () => response.destroy(),
  );
}

/** Where a block's bytes come from: `length` bytes of `file` at `offset`, placed at `at`. */
interface Segment {
  file: ContentFile;
  offset: number;
  length: number;
  at: number;
}

/** The answer cut into blocks of BLOCK_BYTES (the last one shorter): which bytes of which files fill each. */
function* blocksOf(files: readonly ContentFile[]): Generator<{ segments: Segment[]; length: number }> {
  let segments: Segment[] = [];
  let used = 0;
  for (const file of files) {
    for (let offset = 0; offset < file.size; ) {
      const length = Math.min(file.size - offset, BLOCK_BYTES - used);
      segments.push({ file, offset, length, at: used });
      offset += length;
      used += length;
      if (used === BLOCK_BYTES) {
        yield { segments, length: used };
        segments = [];
        used = 0;
      }
    }
  }
  if (used > 0) yield { segments, length: used };
}

async function sendBlocks(response: ServerResponse, files: readonly ContentFile[], total: number): Promise<void> {
  // No larger than the answer: 512 servers fetching a changed 3 KB configuration would otherwise
  // cost 512 MiB of fresh blocks and the collections after them.
  const blocks = new BufferPool(BLOCKS_PER_ANSWER, Math.min(BLOCK_BYTES, total));
  const breathe = eventLoopBreather();
  // A server that hangs up leaves its blocks in a destroyed socket: nothing more is read for it.
  const gone = new Promise<undefined>((resolve) => response.once('close', () => resolve(undefined)));
  for (const { segments, length } of blocksOf(files)) {
    const block = response.destroyed ? undefined : await Promise.race([blocks.take(), gone]);
    if (!block) return;
    const [small, large] = partition(segments, (segment) => segment.length === segment.file.size && segment.length <= READ_AT_ONCE_MAX);
    for (const segment of small) {
      readWholeFile(segment, block);
      await breathe();
    }
    await forEachConcurrent(large, READS_IN_FLIGHT, (segment) => readSegment(segment, block));
    if (response.destroyed) return;
    response.write(block.subarray(0, length), () => blocks.give(block));
  }
}

function partition<T>(items: readonly T[], test: (item: T) => boolean): [T[], T[]] {
  const yes: T[] = [];
  const no: T[] = [];
  for (const item of items) (test(item) ? yes : no).push(item);
  return [yes, no];
}

/**
 * A small file, read on the spot: three calls on the thread pool cost it more CPU than the read
 * itself (10 000 files: 0.8 s of the MASTER's CPU). The answer lets the event loop breathe between
 * files, so heartbeats and other servers' requests still get in every 10 ms.
 */
function readWholeFile({ file, length, at }: Segment, block: Buffer): void {
  const fd = openSync(file.path, 'r');
  try {
    const bytesRead = readSync(fd, block, at, length, 0);
    if (bytesRead !== length) throw new Error(`${file.path} is no longer the ${file.size} bytes of its manifest`);
  } finally {
    closeSync(fd);
  }
}

/** Reads a segment exactly: a file shorter than its manifest says is an error, never sent. */
async function readSegment({ file, offset, length, at }: Segment, block: Buffer): Promise<void> {
  const handle = await open(file.path, 'r');
  try {
    for (let done = 0; done < length; ) {
      const { bytesRead } = await handle.read(block, at + done, length - done, offset + done);
      if (bytesRead === 0) throw new Error(`${file.path} is shorter than the ${file.size} bytes of its manifest`);
      done += bytesRead;
    }
  } finally {
    await handle.close();
  }
}
