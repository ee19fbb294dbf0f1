import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, futimesSync, openSync, writeSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { forEachConcurrent } from './concurrency.js';
import { fileTimeSeconds } from './file-entry.js';
import { shortWriteError } from './storage-error.js';

const execFileAsync = promisify(execFile);

export interface AtomicWriteOptions {
  /** File mode of the new file (default 0o644; the domain key uses 0o600). */
  mode?: number;
}

/**
 * Replaces `path` with `data` so that a crash at any instant leaves either the old file or the new
 * one, never a truncated mix: write a temporary file beside it, fsync it, rename it over the target,
 * then fsync the directory so the rename itself survives a power loss.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const mode = options.mode ?? 0o644;
  let handle = await open(temp, 'wx', mode);
  try {
    await handle.writeFile(data);
    // The umask may have narrowed the mode at creation; the caller's mode is what they asked for.
    await handle.chmod(mode);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temp).catch(() => {});
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
  await syncDirectory(dir);
}

/**
 * Creates `path` (never replacing what is there: EEXIST) with `content` and exactly `mode`,
 * synchronously: for a small file, the trips through the thread pool cost more than the write.
 * The umask may narrow the mode at creation, so it is set again (the domain key must stay 0600,
 * scripts executable). `mtime` (milliseconds) is the time the file is given, when it must keep one.
 * Not flushed: callers make many such files durable at once.
 */
export function writeNewFileSync(path: string, content: Uint8Array, mode: number, mtime?: number): void {
  const fd = openSync(path, 'wx', mode);
  try {
    for (let written = 0; written < content.length; ) {
      const count = writeSync(fd, content, written);
      if (count === 0) throw shortWriteError(path);
      written += count;
    }
    fchmodSync(fd, mode);
    if (mtime !== undefined) futimesSync(fd, fileTimeSeconds(mtime), fileTimeSeconds(mtime));
  } finally {
    closeSync(fd);
  }
}

/** Makes renames and creations inside `dir` durable. */
export async function syncDirectory(dir: string): Promise<void> {
  await fsyncPath(dir);
}

/** fsync(2) of a file or directory by its path. */
async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Past this many paths one filesystem flush (syncfs) is cheaper than an fsync each. */
const FLUSH_FILESYSTEM_FROM = 16;

/**
 * Makes `paths` (files and directories below `dir`, all written since they were last flushed)
 * durable: a few are fsynced one by one, in parallel; past FLUSH_FILESYSTEM_FROM, `sync -f`
 * (syncfs(2)) flushes the whole filesystem in one call, where thousands of fsyncs would each wait
 * for the journal. Where `sync -f` is not available, every path is fsynced.
 */
export async function syncFilesBelow(dir: string, paths: readonly string[]): Promise<void> {
  if (paths.length >= FLUSH_FILESYSTEM_FROM) {
    try {
      await execFileAsync('sync', ['-f', dir]);
      return;
    } catch {
      // fsynced one by one below
    }
  }
  await forEachConcurrent(paths, 8, fsyncPath);
}
