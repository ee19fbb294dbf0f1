import { createHash } from 'node:crypto';
import { link, mkdir, symlink, utimes, chmod } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileTimeSeconds, forEachConcurrent } from '@flotilla/core';
import type { VerifiedGeneration } from './cache-store.js';
import { METADATA_CONCURRENCY, makeDirs } from './make-dirs.js';

/** What of a verified generation belongs to application `name`, paths relative to the application. */
function partOf(generation: VerifiedGeneration, name: string) {
  const prefix = `apps/${name}/`;
  const inside = <T extends { path: string }>(list: readonly T[]) => list.filter((entry) => entry.path.startsWith(prefix)).map((entry) => ({ ...entry, relative: entry.path.slice(prefix.length) }));
  return { files: inside(generation.files), links: inside(generation.links), dirs: inside(generation.dirs) };
}

/** A short hash of everything application `name` is in `generation`: equal versions run the same tree. */
export function applicationVersion(generation: VerifiedGeneration, name: string): string {
  const hash = createHash('sha256');
  const part = partOf(generation, name);
  for (const file of part.files) hash.update(`${file.relative}\0${file.sha256}\0${file.mode}\0${file.mtime}\n`);
  for (const entry of part.links) hash.update(`L\0${entry.relative}\0${entry.target}\n`);
  for (const dir of part.dirs) hash.update(`D\0${dir.relative}\0${dir.mode}\n`);
  return hash.digest('hex').slice(0, 16);
}

/**
 * Recreates application `name` of a verified generation under `dir`: files as hard links to the
 * cache (no data copied), its symbolic links as they are in the manifest, its empty directories.
 */
export async function copyApplication(generation: VerifiedGeneration, name: string, dir: string): Promise<void> {
  const part = partOf(generation, name);
  await mkdir(dirname(dir), { recursive: true });
  await makeDirs([dir, ...[...part.files, ...part.links].map((entry) => dirname(join(dir, entry.relative))), ...part.dirs.map((entry) => join(dir, entry.relative))], new Set([dirname(dir)]));
  await forEachConcurrent(part.files, METADATA_CONCURRENCY, (file) => link(join(generation.root, file.path), join(dir, file.relative)));
  await forEachConcurrent(part.links, METADATA_CONCURRENCY, (entry) => symlink(entry.target, join(dir, entry.relative)));
  await forEachConcurrent(part.dirs, METADATA_CONCURRENCY, async (entry) => {
    // Made with the others above; its mode may forbid entries, so it gets it last.
    const target = join(dir, entry.relative);
    await chmod(target, entry.mode);
    await utimes(target, fileTimeSeconds(entry.mtime), fileTimeSeconds(entry.mtime));
  });
}
