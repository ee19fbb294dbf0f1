import { createHash } from 'node:crypto';
import { lstat, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BufferPool } from './buffer-pool.js';
import { forEachConcurrent } from './concurrency.js';
import type { FileEntry } from './file-entry.js';


/** Enough parallel reads to keep a disk busy without opening thousands of files at once. */
export const HASH_CONCURRENCY = 8;

/**
 * Files are read a megabyte at a time, into the two halves of a buffer shared by every hash in
 * flight: the next read runs while the last one is hashed. A read stream's fresh 64 KiB chunks made
 * hashing a gigabyte take twice as long (allocation, garbage collection, no overlap).
 */
const HASH_READ_BYTES = 1024 * 1024;
const hashBuffers = new BufferPool(HASH_CONCURRENCY, 2 * HASH_READ_BYTES);

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  const handle = await open(path, 'r');
  const buffer = await hashBuffers.take();
  const halves = [buffer.subarray(0, HASH_READ_BYTES), buffer.subarray(HASH_READ_BYTES)];
  // Reads go on from the file position, in order: each starts before the previous one is hashed.
  const readInto = (half: number) => handle.read(halves[half]!, 0, HASH_READ_BYTES, null);
  let reading = readInto(0);
  try {
    for (let turn = 1; ; turn++) {
      const { bytesRead, buffer: filled } = await reading;
      if (bytesRead === 0) break;
      reading = readInto(turn % 2);
      hash.update(filled.subarray(0, bytesRead));
    }
  } finally {
    await reading.catch(() => {});
    hashBuffers.give(buffer);
    await handle.close();
  }
  return hash.digest('hex');
}

export interface ScanOptions {
  /** Relative paths to leave out, files or whole directories. */
  exclude?: (relativePath: string) => boolean;
  /** Hashes already known for unchanged files, keyed by path, size and mtime: saves re-reading. */
  hashCache?: Map<string, string>;
}

/**
 * Lists and hashes every regular file below `root/<dir>` for each of `dirs`, sorted by path. Links
 * and other special files are skipped: a domain is plain files.
 */
export async function scanTree(root: string, dirs: readonly string[], options: ScanOptions = {}): Promise<FileEntry[]> {
  const found: Array<{ path: string; size: number; mode: number; mtimeMs: number }> = [];
  const walk = async (relative: string): Promise<void> => {
    if (options.exclude?.(relative)) return;
    const absolute = join(root, relative);
    const info = await lstat(absolute).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined; // removed while we looked: not part of this state
      throw error;
    });
    if (!info) return;
    if (info.isDirectory()) {
      for (const name of (await readdir(absolute)).sort()) await walk(`${relative}/${name}`);
    } else if (info.isFile()) {
      found.push({ path: relative, size: info.size, mode: info.mode & 0o777, mtimeMs: info.mtimeMs });
    }
  };
  for (const dir of dirs) await walk(dir);
  found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

  const entries: FileEntry[] = new Array(found.length);
  await forEachConcurrent(found, HASH_CONCURRENCY, async (file, index) => {
    const cacheKey = `${file.path}\0${file.size}\0${file.mtimeMs}`;
    let sha256 = options.hashCache?.get(cacheKey);
    if (!sha256) {
      sha256 = await sha256File(join(root, file.path));
      options.hashCache?.set(cacheKey, sha256);
    }
    entries[index] = { path: file.path, size: file.size, mode: file.mode, sha256 };
  });
  return entries;
}

/** One hash for a whole list of files: equal digests mean equal trees. */
export function digestEntries(entries: readonly FileEntry[]): string {
  const hash = createHash('sha256');
  for (const entry of entries) hash.update(`${entry.path}\0${entry.size}\0${entry.mode}\0${entry.sha256}\n`);
  return hash.digest('hex');
}
