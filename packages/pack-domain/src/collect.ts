import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  BACKUP_LIMITS,
  BACKUP_MODE_MASK,
  BACKUP_ROOTS,
  FlotillaError,
  HASH_CONCURRENCY,
  backupPathProblem,
  forEachConcurrent,
  isTransientFile,
} from '@flotilla/core';
import type { ProgressCounts } from '@flotilla/unpack-domain';
import { packMessages } from './messages.js';

/** One file of a backup: what the manifest says of it, and how to read its content. */
export interface BackupEntry {
  /** Relative to the domain directory, `/`-separated: `config/domain.json5`, `apps/hello/index.js`. */
  path: string;
  size: number;
  /** Permission bits. */
  mode: number;
  sha256: string;
  /** A fresh stream of the content each call; it must be the content the size and hash describe. */
  read(): Readable;
}

export interface CollectOptions {
  /** Domain-relative paths (files or directories) to leave out, such as a backup directory. */
  exclude?: string[];
  onProgress?: (counts: ProgressCounts) => void;
}

/**
 * Lists and hashes the files of a domain directory that a backup holds: everything under config/
 * (the key and .history included) and apps/, except temporary files and `exclude`. The whole list,
 * hashes included, is taken before any archive is written, so that writing can detect a file that
 * changes meanwhile. Links and special files are refused, never followed.
 */
export async function collectDomainFiles(domainDir: string, options: CollectOptions = {}): Promise<BackupEntry[]> {
  const excluded = new Set(options.exclude ?? []);
  const paths: string[] = [];
  for (const root of BACKUP_ROOTS) await walk(domainDir, root, excluded, paths);
  if (paths.length + 1 > BACKUP_LIMITS.maxEntries) {
    throw new FlotillaError(packMessages.tooMany(domainDir, paths.length, BACKUP_LIMITS.maxEntries - 1));
  }

  const listed = await Promise.all(paths.map(async (path) => ({ path, info: await stat(join(domainDir, path)) })));
  const totalBytes = listed.reduce((sum, { info }) => sum + info.size, 0);
  const counts: ProgressCounts = { files: 0, totalFiles: paths.length, bytes: 0, totalBytes };
  const entries: BackupEntry[] = new Array(listed.length);
  // Many small files: reading several at once keeps the disk and the thread pool busy.
  await forEachConcurrent(listed, HASH_CONCURRENCY, async ({ path, info }, index) => {
    const absolute = join(domainDir, path);
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of createReadStream(absolute) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
      counts.bytes += chunk.length;
      options.onProgress?.(counts);
    }
    entries[index] = { path, size, mode: info.mode & BACKUP_MODE_MASK, sha256: hash.digest('hex'), read: () => createReadStream(absolute) };
    counts.files++;
    options.onProgress?.(counts);
  });
  return entries;
}

async function walk(domainDir: string, relative: string, excluded: Set<string>, into: string[]): Promise<void> {
  let children;
  try {
    children = await readdir(join(domainDir, relative), { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // a domain without apps yet
    throw error;
  }
  children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const child of children) {
    const path = `${relative}/${child.name}`;
    if (excluded.has(path) || isTransientFile(child.name)) continue;
    if (child.isDirectory()) {
      await walk(domainDir, path, excluded, into);
      continue;
    }
    if (child.isSymbolicLink()) throw new FlotillaError(packMessages.link(domainDir, path));
    if (!child.isFile()) throw new FlotillaError(packMessages.special(domainDir, path));
    const problem = backupPathProblem(path);
    if (problem) throw new FlotillaError(packMessages.badName(domainDir, path, problem));
    into.push(path);
  }
}
