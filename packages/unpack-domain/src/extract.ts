import { rmSync } from 'node:fs';
import { chmod, lstat, mkdir, open, rm, symlink, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { domainFiles, fileTimeSeconds, syncDirectory, syncFilesBelow, writeNewFileSync, type ProgressCounts } from '@flotilla/core';
import { forEachContent, type VerifiedBackup } from './verify.js';

/** Test-only: a pause after each file is written, so that a test can kill a restore midway at will. */
const testPauseMs = Number(process.env.FLOTILLA_TEST_UNPACK_PAUSE_MS) || 0;

export interface ExtractOptions {
  onProgress?: (counts: ProgressCounts) => void;
}

/**
 * Writes an inspected backup's files under `dir` (a staging directory), each with its manifest
 * mode and time, then its links and empty directories, all of them made durable before it returns, their directories too. Every entry is checked
 * against the manifest as it is written: on an IntegrityError the caller removes `dir`, which is
 * why the restore writes there and never in place. `dir` may already hold a domain (a restore with
 * -overwrite): whatever stands at a file's path, or in the way of its directories, is replaced,
 * never written through.
 */
export async function extractBackup(backup: VerifiedBackup, dir: string, options: ExtractOptions = {}): Promise<void> {
  const files = domainFiles(dir);
  // The key's directory is private, as create-domain makes it.
  await ensureDirectory(dir, 'config/security', 0o700);
  const directories = new Map<string, Promise<void>>([
    [dir, Promise.resolve()],
    [files.configDir, Promise.resolve()],
    [files.securityDir, Promise.resolve()],
  ]);
  // Checked once per extraction, by the first entry that needs it: after that only this extraction writes there.
  const directoryFor = (parent: string): Promise<void> => {
    const absolute = join(dir, parent);
    let made = directories.get(absolute);
    if (!made) {
      made = directoryFor(dirname(parent)).then(() => ensureComponent(absolute));
      directories.set(absolute, made);
    }
    return made;
  };

  const written: string[] = [];
  await forEachContent(
    backup,
    async (entry, content, counted) => {
      await directoryFor(dirname(entry.path));
      const target = join(dir, entry.path);
      if ('whole' in content) {
        writeWholeFile(target, content.whole, entry.mode, entry.mtime);
        counted(content.whole.length);
      } else await writeStreamedFile(target, content.chunks, entry, counted);
      written.push(target);
      if (testPauseMs) await sleep(testPauseMs);
    },
    options,
  );
  // Links as the manifest gives them (its rule checked each target), then empty directories.
  for (const link of backup.manifest.links) {
    await directoryFor(dirname(link.path));
    const target = join(dir, link.path);
    await rm(target, { recursive: true, force: true });
    await symlink(link.target, target);
  }
  for (const empty of backup.manifest.dirs) {
    await directoryFor(dirname(empty.path));
    const target = join(dir, empty.path);
    await ensureComponent(target, empty.mode);
    await chmod(target, empty.mode);
    await utimes(target, fileTimeSeconds(empty.mtime), fileTimeSeconds(empty.mtime));
    directories.set(target, Promise.resolve());
  }
  // One flush for every file written (syncfs), then the directories that hold them.
  await syncFilesBelow(dir, written);
  for (const directory of directories.keys()) await syncDirectory(directory);
}

/**
 * Creates `target` with `content`, synchronously (see WHOLE_ENTRY_BYTES): a file or directory
 * already there (an -overwrite's hard link) is removed first, never written through.
 */
function writeWholeFile(target: string, content: Buffer, mode: number, mtime: number): void {
  try {
    writeNewFileSync(target, content, mode, mtime);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    rmSync(target, { recursive: true, force: true });
    writeNewFileSync(target, content, mode, mtime);
  }
}

async function writeStreamedFile(target: string, chunks: AsyncIterable<Buffer>, entry: { mode: number; mtime: number }, counted: (bytes: number) => void): Promise<void> {
  await rm(target, { recursive: true, force: true });
  const handle = await open(target, 'wx', entry.mode);
  try {
    for await (const chunk of chunks) {
      for (let written = 0; written < chunk.length; ) written += (await handle.write(chunk, written)).bytesWritten;
      counted(chunk.length);
    }
    await handle.chmod(entry.mode);
    await handle.utimes(fileTimeSeconds(entry.mtime), fileTimeSeconds(entry.mtime));
  } finally {
    await handle.close();
  }
}

/**
 * Makes `relative` (under `root`) a real directory, component by component: a file or link in the
 * way is removed, so no path of the backup is ever followed out of `root`. `lastMode` applies to the
 * last component when it is created.
 */
async function ensureDirectory(root: string, relative: string, lastMode?: number): Promise<void> {
  const parts = relative.split('/');
  let current = root;
  for (const [index, part] of parts.entries()) {
    current = join(current, part);
    await ensureComponent(current, index === parts.length - 1 ? lastMode : undefined);
  }
}

/** `path` as a real directory, its parent being one already. */
async function ensureComponent(path: string, mode?: number): Promise<void> {
  const info = await lstat(path).catch(() => undefined);
  if (info?.isDirectory()) return;
  if (info) await rm(path, { recursive: true, force: true });
  await mkdir(path, mode === undefined ? undefined : { mode });
}
