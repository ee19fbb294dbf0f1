import { createHash } from 'node:crypto';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { BufferPool } from './buffer-pool.js';
import { forEachConcurrent } from './concurrency.js';
import { FILE_MODE_MASK, wholeMillis, type DirEntry, type FileEntry, type LinkEntry, type TreeEntries } from './file-entry.js';

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
 * Lists the tree below `root/<dir>` for each of `dirs`, sorted by path: every regular file hashed,
 * every symbolic link with its target (never followed; whether it may be kept is the manifest's
 * rule, linkTargetProblem, judged by whoever receives it), every empty directory below the `dirs`.
 * Other special files are skipped: they are no content.
 */
export async function scanTree(root: string, dirs: readonly string[], options: ScanOptions = {}): Promise<TreeEntries> {
  const found: Array<{ path: string; size: number; mode: number; mtimeMs: number }> = [];
  const links: LinkEntry[] = [];
  const empty: DirEntry[] = [];
  /** Returns whether `relative` gave the tree anything. */
  const walk = async (relative: string, top: boolean): Promise<boolean> => {
    if (options.exclude?.(relative)) return false;
    const absolute = join(root, relative);
    const info = await lstat(absolute).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined; // removed while we looked: not part of this state
      throw error;
    });
    if (!info) return false;
    if (info.isDirectory()) {
      const names = await readdir(absolute).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      });
      if (!names) return false;
      const children = await Promise.all(names.map((name) => walk(`${relative}/${name}`, false)));
      if (children.includes(true) || top) return true;
      empty.push({ path: relative, mode: info.mode & FILE_MODE_MASK, mtime: wholeMillis(info.mtimeMs) });
    } else if (info.isFile()) {
      found.push({ path: relative, size: info.size, mode: info.mode & FILE_MODE_MASK, mtimeMs: info.mtimeMs });
    } else if (info.isSymbolicLink()) {
      links.push({ path: relative, target: await readlink(absolute) });
    } else return false;
    return true;
  };
  await Promise.all(dirs.map((dir) => walk(dir, true)));
  found.sort(byPath);
  links.sort(byPath);
  empty.sort(byPath);

  const files: FileEntry[] = new Array(found.length);
  await forEachConcurrent(found, HASH_CONCURRENCY, async (file, index) => {
    const cacheKey = `${file.path}\0${file.size}\0${file.mtimeMs}`;
    let sha256 = options.hashCache?.get(cacheKey);
    if (!sha256) {
      sha256 = await sha256File(join(root, file.path));
      options.hashCache?.set(cacheKey, sha256);
    }
    files[index] = { path: file.path, size: file.size, mode: file.mode, mtime: wholeMillis(file.mtimeMs), sha256 };
  });
  return { files, links, dirs: empty };
}

/** Sorted by path as `<` compares strings: every list of a tree is in this order. */
export function byPath(a: { path: string }, b: { path: string }): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/** One hash for a whole tree: equal digests mean equal trees (content, modes, times, links, empty directories). */
export function digestTree(tree: TreeEntries): string {
  const hash = createHash('sha256');
  for (const entry of tree.files) hash.update(`${entry.path}\0${entry.size}\0${entry.mode}\0${entry.mtime}\0${entry.sha256}\n`);
  for (const link of tree.links) hash.update(`L\0${link.path}\0${link.target}\n`);
  for (const dir of tree.dirs) hash.update(`D\0${dir.path}\0${dir.mode}\0${dir.mtime}\n`);
  return hash.digest('hex');
}
