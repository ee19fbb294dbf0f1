import { lstatSync, readlinkSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Stats } from 'node:fs';
import {
  BACKUP_LIMITS,
  BACKUP_MODE_MASK,
  BACKUP_ROOTS,
  FlotillaError,
  backupPathProblem,
  eventLoopBreather,
  isTransientFile,
  linkTargetProblem,
  wholeMillis,
  type DirEntry,
  type LinkEntry,
} from '@flotilla/core/backup';
import { packMessages } from './messages.js';

/** One file a backup will hold, as it was listed: its content is read only when it is written. */
export interface ListedFile {
  /** Relative to the domain directory, `/`-separated: `config/domain.json5`, `apps/hello/index.js`. */
  path: string;
  absolute: string;
  size: number;
  /** Permission bits. */
  mode: number;
  /** Modification time in whole milliseconds, as the manifest records it. */
  mtime: number;
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

/** What a backup holds of a domain directory: its files (read when written), links and empty directories. */
export interface ListedTree {
  files: ListedFile[];
  links: LinkEntry[];
  dirs: DirEntry[];
}

/**
 * Lists what a backup holds of a domain directory: everything under config/ (the key and
 * .history included) and apps/, except temporary files and `exclude`, in path order. Symbolic
 * links are kept as links when the manifest's rule allows them (inside an application, relative),
 * never followed; other links and special files are refused.
 */
export async function collectDomainFiles(domainDir: string, options: CollectOptions = {}): Promise<ListedTree> {
  const excluded = new Set(options.exclude ?? []);
  const listed: Listing = { paths: [], links: [], dirs: [] };
  for (const root of BACKUP_ROOTS) await walk(domainDir, root, excluded, listed, true);
  const count = listed.paths.length + listed.links.length + listed.dirs.length;
  if (count + 1 > BACKUP_LIMITS.maxEntries) {
    throw new FlotillaError(packMessages.tooMany(domainDir, count, BACKUP_LIMITS.maxEntries - 1));
  }
  // Synchronous stats: cheaper than a trip to the thread pool each (see readSmallFile).
  const breathe = eventLoopBreather();
  const files: ListedFile[] = [];
  for (const path of listed.paths) {
    const absolute = join(domainDir, path);
    const info = statSync(absolute);
    files.push({ path, absolute, size: info.size, mode: info.mode & BACKUP_MODE_MASK, mtime: wholeMillis(info.mtimeMs), identity: identityOf(info) });
    await breathe();
  }
  return { files, links: listed.links, dirs: listed.dirs };
}

export function identityOf(info: Stats): FileIdentity {
  return { ino: info.ino, size: info.size, mtimeMs: info.mtimeMs };
}

interface Listing {
  paths: string[];
  links: LinkEntry[];
  dirs: DirEntry[];
}

/** Lists `relative` into `into`; returns whether it held anything (an empty directory below a root is listed as one). */
async function walk(domainDir: string, relative: string, excluded: Set<string>, into: Listing, top: boolean): Promise<boolean> {
  let children;
  try {
    children = await readdir(join(domainDir, relative), { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false; // a domain without apps yet
    throw error;
  }
  children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let held = false;
  for (const child of children) {
    const path = `${relative}/${child.name}`;
    if (excluded.has(path) || isTransientFile(child.name)) continue;
    const problem = backupPathProblem(path);
    if (problem) throw new FlotillaError(packMessages.badName(domainDir, path, problem));
    held = true;
    if (child.isDirectory()) {
      if (!(await walk(domainDir, path, excluded, into, false))) {
        const info = lstatSync(join(domainDir, path));
        into.dirs.push({ path, mode: info.mode & BACKUP_MODE_MASK, mtime: wholeMillis(info.mtimeMs) });
      }
    } else if (child.isSymbolicLink()) {
      const target = readlinkSync(join(domainDir, path));
      const linkProblem = linkTargetProblem(path, target);
      if (linkProblem) throw new FlotillaError(packMessages.link(domainDir, path, linkProblem));
      into.links.push({ path, target });
    } else if (child.isFile()) into.paths.push(path);
    else throw new FlotillaError(packMessages.special(domainDir, path));
  }
  return held || top;
}
