import { stat } from 'node:fs/promises';
import { Open, type File } from 'unzipper';
import {
  BACKUP_LIMITS,
  BACKUP_MANIFEST_NAME,
  IntegrityError,
  UsageError,
  parseBackupManifest,
  type BackupFile,
  type BackupManifest,
} from '@flotilla/core';
import { checkedChunks, readLimited } from './entry-reader.js';
import { recordProblem } from './entry-rules.js';
import { unpackMessages } from './messages.js';
import type { ProgressCounts } from './terminal-progress.js';
import { declaredEntryCount } from './zip-probe.js';

/** A file of the backup, checked, with the archive record to read it from again. */
export interface VerifiedEntry extends BackupFile {
  record: File;
}

export interface VerifiedBackup {
  /** The archive's path, as given. */
  archive: string;
  manifest: BackupManifest;
  /** Every file of the manifest, in its order. */
  entries: VerifiedEntry[];
  /** Sum of the files' sizes. */
  bytes: number;
}

export interface VerifyOptions {
  onProgress?: (counts: ProgressCounts) => void;
}

/**
 * Checks a backup archive completely without writing anything: its structure, every entry's path
 * and type, the manifest, and every byte of every file against the manifest's size and SHA-256.
 * Throws an IntegrityError (exit 4) naming the archive and the first bad entry; a missing or
 * unreadable file is a UsageError (exit 2).
 */
export async function verifyBackup(archive: string, options: VerifyOptions = {}): Promise<VerifiedBackup> {
  const size = await archiveSize(archive);
  const count = await declaredEntryCount(archive, size);
  if (count > BACKUP_LIMITS.maxEntries) {
    throw new IntegrityError(unpackMessages.refused(archive, `it declares ${count} entries, more than the ${BACKUP_LIMITS.maxEntries} a backup may hold`));
  }
  let records: File[];
  try {
    records = (await Open.file(archive)).files;
  } catch (error) {
    throw new IntegrityError(unpackMessages.refused(archive, `it is not a readable zip archive (${(error as Error).message})`), { cause: error });
  }

  const byPath = new Map<string, File>();
  for (const record of records) {
    const problem = recordProblem(record);
    if (problem) throw new IntegrityError(unpackMessages.badEntry(archive, record.path, problem));
    if (byPath.has(record.path)) throw new IntegrityError(unpackMessages.badEntry(archive, record.path, 'appears twice'));
    byPath.set(record.path, record);
  }

  const manifestRecord = byPath.get(BACKUP_MANIFEST_NAME);
  if (!manifestRecord) throw new IntegrityError(unpackMessages.refused(archive, `it holds no ${BACKUP_MANIFEST_NAME}: not a Flotilla backup`));
  byPath.delete(BACKUP_MANIFEST_NAME);
  const manifest = parseBackupManifest((await readLimited(archive, manifestRecord, BACKUP_LIMITS.maxManifestBytes)).toString('utf8'), archive);

  const entries: VerifiedEntry[] = [];
  for (const file of manifest.files) {
    const record = byPath.get(file.path);
    if (!record) throw new IntegrityError(unpackMessages.badEntry(archive, file.path, 'is listed in the manifest but missing from the archive'));
    // The header's size is not trusted (checkedChunks counts the real bytes), but a disagreement
    // already proves the archive wrong, before anything is decompressed.
    if (record.uncompressedSize !== file.size) {
      throw new IntegrityError(unpackMessages.badEntry(archive, file.path, `is ${record.uncompressedSize} bytes in the zip header, but the manifest declares ${file.size}`));
    }
    byPath.delete(file.path);
    entries.push({ ...file, record });
  }
  const extra = byPath.keys().next();
  if (!extra.done) throw new IntegrityError(unpackMessages.badEntry(archive, extra.value, 'is not listed in the manifest'));

  const counts: ProgressCounts = { files: 0, totalFiles: entries.length, bytes: 0, totalBytes: entries.reduce((sum, e) => sum + e.size, 0) };
  for (const entry of entries) {
    for await (const chunk of checkedChunks(archive, entry.record, entry)) {
      counts.bytes += chunk.length;
      options.onProgress?.(counts);
    }
    counts.files++;
    options.onProgress?.(counts);
  }
  return { archive, manifest, entries, bytes: counts.totalBytes };
}

async function archiveSize(archive: string): Promise<number> {
  const info = await stat(archive).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new UsageError(unpackMessages.noArchive(archive));
    throw new UsageError(`cannot read ${archive}: ${error.message}`);
  });
  if (!info.isFile()) throw new UsageError(unpackMessages.notAFile(archive));
  return info.size;
}
