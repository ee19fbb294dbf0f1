import { open, stat } from 'node:fs/promises';
import {
  BACKUP_LIMITS,
  BACKUP_MANIFEST_NAME,
  IntegrityError,
  MAX_LINK_TARGET_BYTES,
  UsageError,
  eventLoopBreather,
  forEachConcurrent,
  parseBackupManifest,
  type BackupFile,
  type BackupManifest,
  type ProgressCounts,
} from '@flotilla/core/backup';
import { readCentralDirectory, type CentralRecord } from './central-directory.js';
import { ArchiveReader, contentChunks, type EntryContent } from './entry-reader.js';
import { recordPath, recordProblem, type RecordKind } from './entry-rules.js';
import { unpackMessages } from './messages.js';
import { locateCentralDirectory } from './zip-probe.js';

/** A file of the backup, its record checked against the manifest, with the archive record to read it from. */
export interface VerifiedEntry extends BackupFile {
  record: CentralRecord;
}

export interface VerifiedBackup {
  /** The archive's path, as given. */
  archive: string;
  manifest: BackupManifest;
  /** Every file of the manifest, in its order; its links and empty directories are in `manifest`. */
  entries: VerifiedEntry[];
  /** Sum of the files' sizes. */
  bytes: number;
}

export interface VerifyOptions {
  onProgress?: (counts: ProgressCounts) => void;
}

/** How messages name what a record or a manifest entry is. */
const KIND_WORDS: Record<RecordKind, string> = { file: 'a regular file', link: 'a symbolic link', dir: 'a directory entry' };

/**
 * Entries read at once: enough to keep the thread pool inflating and the disk busy while the
 * main thread hashes, few enough that their buffers stay small.
 */
const ENTRIES_AT_ONCE = 8;

/**
 * Checks a backup archive's structure without reading its files' content: every entry's path and
 * type, no duplicates, the manifest, and that the archive holds exactly the manifest's files with
 * its sizes. Throws an IntegrityError (exit 4) naming the archive and the first bad entry; a
 * missing or unreadable file is a UsageError (exit 2). The content is checked as it is read
 * (forEachContent): nothing reads an entry without checking it against the manifest.
 */
export async function inspectBackup(archive: string): Promise<VerifiedBackup> {
  const records = await centralRecords(archive, await archiveSize(archive));
  const byPath = new Map<string, { record: CentralRecord; kind: RecordKind }>();
  for (const record of records) {
    const judged = recordProblem(record);
    if ('problem' in judged) throw new IntegrityError(unpackMessages.badEntry(archive, record.path, judged.problem));
    const path = recordPath(record);
    if (byPath.has(path)) throw new IntegrityError(unpackMessages.badEntry(archive, record.path, 'appears twice'));
    byPath.set(path, { record, kind: judged.kind });
  }

  const manifestRecord = byPath.get(BACKUP_MANIFEST_NAME);
  if (manifestRecord?.kind !== 'file') throw new IntegrityError(unpackMessages.refused(archive, `it holds no ${BACKUP_MANIFEST_NAME}: not a Flotilla backup`));
  byPath.delete(BACKUP_MANIFEST_NAME);
  const reader = await ArchiveReader.open(archive);
  let manifest: BackupManifest;
  const entries: VerifiedEntry[] = [];
  try {
    manifest = parseBackupManifest(reader.limited(manifestRecord.record, BACKUP_LIMITS.maxManifestBytes).toString('utf8'), archive);
    /** The record of a manifest entry, which must be of `kind`. */
    const take = (path: string, kind: RecordKind): CentralRecord => {
      const found = byPath.get(path);
      if (!found) throw new IntegrityError(unpackMessages.badEntry(archive, path, 'is listed in the manifest but missing from the archive'));
      if (found.kind !== kind) throw new IntegrityError(unpackMessages.badEntry(archive, found.record.path, `is ${KIND_WORDS[found.kind]} in the archive, but the manifest lists ${KIND_WORDS[kind]}`));
      byPath.delete(path);
      return found.record;
    };
    for (const file of manifest.files) {
      const record = take(file.path, 'file');
      // The header's size is not trusted (the content is counted as it is read), but a disagreement
      // already proves the archive wrong, before anything is decompressed.
      if (record.uncompressedSize !== file.size) {
        throw new IntegrityError(unpackMessages.badEntry(archive, file.path, `is ${record.uncompressedSize} bytes in the zip header, but the manifest declares ${file.size}`));
      }
      entries.push({ ...file, record });
    }
    for (const link of manifest.links) {
      // The manifest's target is what a restore creates (its rule checked it); the archive must say the same.
      const target = reader.limited(take(link.path, 'link'), MAX_LINK_TARGET_BYTES).toString('utf8');
      if (target !== link.target) {
        throw new IntegrityError(unpackMessages.badEntry(archive, link.path, `is a symbolic link to ${JSON.stringify(target)}, but the manifest declares ${JSON.stringify(link.target)}`));
      }
    }
    for (const dir of manifest.dirs) take(dir.path, 'dir');
  } finally {
    await reader.close();
  }
  const extra = byPath.values().next();
  if (!extra.done) {
    const { record, kind } = extra.value;
    throw new IntegrityError(unpackMessages.badEntry(archive, record.path, `is ${KIND_WORDS[kind]} not listed in the manifest`));
  }
  return { archive, manifest, entries, bytes: entries.reduce((sum, entry) => sum + entry.size, 0) };
}

/**
 * Reads every file of an inspected backup, checked against the manifest (size and SHA-256, never
 * more bytes than declared), several at once, and hands each to `work`. `work` must consume a
 * streamed content entirely: the check completes at its end.
 */
export async function forEachContent(
  backup: VerifiedBackup,
  work: (entry: VerifiedEntry, content: EntryContent, counted: (bytes: number) => void) => Promise<void>,
  options: VerifyOptions = {},
): Promise<void> {
  const counts: ProgressCounts = { files: 0, totalFiles: backup.entries.length, bytes: 0, totalBytes: backup.bytes };
  const counted = (bytes: number) => {
    counts.bytes += bytes;
    options.onProgress?.(counts);
  };
  const reader = await ArchiveReader.open(backup.archive);
  // Small entries are read synchronously: a MASTER verifying its boot backup must still answer.
  const breathe = eventLoopBreather();
  try {
    await forEachConcurrent(backup.entries, ENTRIES_AT_ONCE, async (entry) => {
      await work(entry, reader.content(entry.record, entry), counted);
      await breathe();
      counts.files++;
      options.onProgress?.(counts);
    });
  } finally {
    await reader.close();
  }
}

/**
 * Checks a backup archive completely without writing anything: inspectBackup, then every byte of
 * every file against the manifest's size and SHA-256.
 */
export async function verifyBackup(archive: string, options: VerifyOptions = {}): Promise<VerifiedBackup> {
  const backup = await inspectBackup(archive);
  await forEachContent(
    backup,
    async (_entry, content, counted) => {
      for await (const chunk of contentChunks(content)) counted(chunk.length);
    },
    options,
  );
  return backup;
}

/** The archive's central directory records, refused (IntegrityError) when it declares too many or cannot be read. */
async function centralRecords(archive: string, size: number): Promise<CentralRecord[]> {
  const handle = await open(archive, 'r');
  try {
    const location = await locateCentralDirectory(handle, archive, size);
    if (location.entries > BACKUP_LIMITS.maxEntries) {
      throw new IntegrityError(unpackMessages.refused(archive, `it declares ${location.entries} entries, more than the ${BACKUP_LIMITS.maxEntries} a backup may hold`));
    }
    try {
      return await readCentralDirectory(handle, location);
    } catch (error) {
      throw new IntegrityError(unpackMessages.unreadableZip(archive, (error as Error).message), { cause: error });
    }
  } finally {
    await handle.close();
  }
}

async function archiveSize(archive: string): Promise<number> {
  const info = await stat(archive).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new UsageError(unpackMessages.noArchive(archive));
    throw new UsageError(`cannot read ${archive}: ${error.message}`);
  });
  if (!info.isFile()) throw new UsageError(unpackMessages.notAFile(archive));
  return info.size;
}
