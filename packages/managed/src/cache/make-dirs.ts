import { mkdir } from 'node:fs/promises';
import { dirname, sep } from 'node:path';
import { forEachConcurrent } from '@flotilla/core';

/** Directories, links and other metadata calls made at once: each is quick, a trip through the thread pool. */
export const METADATA_CONCURRENCY = 16;

/**
 * Creates the directories of `wanted` not in `dirs` yet, with their missing parents, one mkdir
 * each, parents first (a depth at a time, in parallel within it); adds them to `dirs` and, when
 * given, to `created`. `dirs` must hold a directory that exists above each of them. Recursive
 * mkdirs side by side each tried the parents they shared again: an npm tree's 327 directories took
 * 1 610 calls, 1 283 of them failing, each a trip through the thread pool.
 */
export async function makeDirs(wanted: readonly string[], dirs: Set<string>, created?: string[]): Promise<void> {
  const byDepth = new Map<number, string[]>();
  for (const dir of wanted) {
    for (let parent = dir; !dirs.has(parent); parent = dirname(parent)) {
      dirs.add(parent);
      created?.push(parent);
      const depth = parent.split(sep).length;
      const level = byDepth.get(depth);
      if (level) level.push(parent);
      else byDepth.set(depth, [parent]);
    }
  }
  for (const depth of [...byDepth.keys()].sort((a, b) => a - b)) {
    await forEachConcurrent(byDepth.get(depth)!, METADATA_CONCURRENCY, (dir) => mkdir(dir));
  }
}
