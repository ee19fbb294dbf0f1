import { statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Stats } from 'node:fs';
import { BACKUP_LIMITS, BACKUP_MODE_MASK, BACKUP_ROOTS, FlotillaError, backupPathProblem, eventLoopBreather, isTransientFile } from '@flotilla/core';
import { packMessages } from './messages.js';

/** One file a backup will hold, as it was listed: its content is read only when it is written. */
export interface ListedFile {
  /** Relative to the domain directory, `/`-separated: `config/domain.json5`, `apps/hello/index.js`. */
  path: string;
  absolute: string;
  size: number;
  /** Permission bits. */
  mode: number;
  /** What any write to the file changes: compared again after it is read (see requireUnchanged). */
  identity: FileIdentity;
}

/**
 * What any write, truncation or replacement of a file changes. Not ctime: linking or unlinking
 * another name of the same file changes it too, and the MASTER's snapshots are hard links to files
 * it replaces by rename while the snapshot is packed.
 */
export interface FileIdentity {
  ino: number;
  size: number;
  mtimeMs: number;
}

export interface CollectOptions {
  /** Domain-relative paths (files or directories) to leave out, such as a backup directory. */
  exclude?: string[];
}

/**
 * Lists the files of a domain directory that a backup holds: everything under config/ (the key
 * and .history included) and apps/, except temporary files and `exclude`, in path order. Links and
 * special files are refused, never followed.
 */
export async function collectDomainFiles(domainDir: string, options: CollectOptions = {}): Promise<ListedFile[]> {
  const excluded = new Set(options.exclude ?? []);
  const paths: string[] = [];
  for (const root of BACKUP_ROOTS) await walk(domainDir, root, excluded, paths);
  if (paths.length + 1 > BACKUP_LIMITS.maxEntries) {
    throw new FlotillaError(packMessages.tooMany(domainDir, paths.length, BACKUP_LIMITS.maxEntries - 1));
  }
  // Synchronous stats: cheaper than a trip to the thread pool each (see readSmallFile).
  const breathe = eventLoopBreather();
  const files: ListedFile[] = [];
  for (const path of paths) {
    const absolute = join(domainDir, path);
    const info = statSync(absolute);
    files.push({ path, absolute, size: info.size, mode: info.mode & BACKUP_MODE_MASK, identity: identityOf(info) });
    await breathe();
  }
  return files;
}

export function identityOf(info: Stats): FileIdentity {
  return { ino: info.ino, size: info.size, mtimeMs: info.mtimeMs };
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
