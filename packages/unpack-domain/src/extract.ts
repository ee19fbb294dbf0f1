import { lstat, mkdir, open, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { domainFiles, syncDirectory, syncFilesBelow } from '@flotilla/core';
import { checkedChunks } from './entry-reader.js';
import type { ProgressCounts } from './terminal-progress.js';
import type { VerifiedBackup } from './verify.js';

export interface ExtractOptions {
  onProgress?: (counts: ProgressCounts) => void;
}

/**
 * Writes a verified backup's files under `dir` (a staging directory), each with its manifest mode,
 * all of them made durable before it returns, their directories too. Every entry is checked again as it is written, so an
 * archive changed since it was verified still cannot write anything the manifest does not say.
 * `dir` may already hold a domain (a restore with -overwrite): whatever stands at a file's path, or
 * in the way of its directories, is replaced, never written through.
 */
export async function extractBackup(backup: VerifiedBackup, dir: string, options: ExtractOptions = {}): Promise<void> {
  const files = domainFiles(dir);
  // The key's directory is private, as create-domain makes it.
  await ensureDirectory(dir, 'config/security', 0o700);
  const directories = new Set<string>([dir, files.configDir, files.securityDir]);
  const counts: ProgressCounts = { files: 0, totalFiles: backup.entries.length, bytes: 0, totalBytes: backup.bytes };

  const written: string[] = [];
  for (const entry of backup.entries) {
    const parent = dirname(entry.path);
    // Checked once per extraction: after that, only this extraction writes in it.
    if (!directories.has(join(dir, parent))) await ensureDirectory(dir, parent);
    for (let at = parent; at !== '.'; at = dirname(at)) directories.add(join(dir, at));
    const target = join(dir, entry.path);
    written.push(target);
    await rm(target, { recursive: true, force: true });
    const handle = await open(target, 'wx', entry.mode);
    try {
      for await (const chunk of checkedChunks(backup.archive, entry.record, entry)) {
        await handle.write(chunk);
        counts.bytes += chunk.length;
        options.onProgress?.(counts);
      }
      // The umask may have narrowed the mode at creation (the key must stay 0600, scripts executable).
      await handle.chmod(entry.mode);
    } finally {
      await handle.close();
    }
    counts.files++;
    options.onProgress?.(counts);
  }
  // One flush for every file written (syncfs), then the directories that hold them.
  await syncFilesBelow(dir, written);
  for (const directory of directories) await syncDirectory(directory);
}

/**
 * Makes `relative` (under `root`) a real directory, component by component: a file or link in the
 * way is removed, so no path of the backup is ever followed out of `root`. `lastMode` applies to the
 * last component when it is created.
 */
async function ensureDirectory(root: string, relative: string, lastMode?: number): Promise<void> {
  const parts = relative.split('/').filter((part) => part !== '.' && part !== '');
  let current = root;
  for (const [index, part] of parts.entries()) {
    current = join(current, part);
    const info = await lstat(current).catch(() => undefined);
    if (info?.isDirectory()) continue;
    if (info) await rm(current, { recursive: true, force: true });
    await mkdir(current, index === parts.length - 1 && lastMode !== undefined ? { mode: lastMode } : undefined);
  }
}
