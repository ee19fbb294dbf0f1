import { constants } from 'node:fs';
import { copyFile, link, lstat, mkdir, mkdtemp, readdir, readlink, rm, symlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { BACKUP_ROOTS, FlotillaError, fileTimeSeconds, isTransientFile, wholeMillis } from '@flotilla/core';
import { backupMessages } from './messages.js';

/** Errors of link(2) on a filesystem or mount layout that cannot hard-link: copy instead. */
const CANNOT_LINK = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EMLINK']);

/**
 * Freezes config/ and apps/ of a domain as they are now: every file hard-linked (links and
 * directories recreated) into a new
 * directory under `snapshotsDir` (the MASTER's runtime directory, on the same filesystem). Taking
 * it reads no content, one link per file, so it fits inside the MASTER's change turn; what it holds
 * stays that state afterwards because every writer of the domain replaces a file by renaming a new
 * one over it (writeFileAtomic, the history copy) and never rewrites one in place. Paths in
 * `exclude` (domain-relative) and temporary files are left out. Returns the snapshot's directory.
 */
export async function takeSnapshot(domainDir: string, snapshotsDir: string, exclude: readonly string[]): Promise<string> {
  await mkdir(snapshotsDir, { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(join(snapshotsDir, 'gen-'));
  const excluded = new Set(exclude);
  try {
    for (const root of BACKUP_ROOTS) await freeze(domainDir, dir, root, excluded);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return dir;
}

async function freeze(domainDir: string, snapshotDir: string, relative: string, excluded: Set<string>): Promise<void> {
  const info = await lstat(join(domainDir, relative)).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined; // a domain without apps yet
    throw error;
  });
  if (!info) return;
  if (info.isDirectory()) {
    await mkdir(join(snapshotDir, relative), { mode: info.mode & 0o777 });
    for (const name of await readdir(join(domainDir, relative))) {
      const child = `${relative}/${name}`;
      if (!excluded.has(child) && !isTransientFile(name)) await freeze(domainDir, snapshotDir, child, excluded);
    }
    // Its time as it is in the domain (the backup keeps an empty directory's), once its children are in.
    await utimes(join(snapshotDir, relative), info.atime, fileTimeSeconds(wholeMillis(info.mtimeMs)));
    return;
  }
  // A link is copied as it is: whether a backup may hold it is the pack's rule, not the snapshot's.
  if (info.isSymbolicLink()) return symlink(await readlink(join(domainDir, relative)), join(snapshotDir, relative));
  if (!info.isFile()) throw new FlotillaError(backupMessages.notPlainFile(domainDir, relative));
  try {
    await link(join(domainDir, relative), join(snapshotDir, relative));
  } catch (error) {
    if (!CANNOT_LINK.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    await copyFile(join(domainDir, relative), join(snapshotDir, relative), constants.COPYFILE_FICLONE);
  }
}

/** Snapshots left by a MASTER that was killed mid-backup: only the lock holder calls this, so none is in use. */
export async function clearSnapshots(snapshotsDir: string): Promise<void> {
  await rm(snapshotsDir, { recursive: true, force: true });
}
