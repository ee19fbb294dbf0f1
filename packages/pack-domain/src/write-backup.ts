import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { ZipArchive, type EntryData } from 'archiver';
import {
  BACKUP_FORMAT_VERSION,
  BACKUP_LIMITS,
  BACKUP_MANIFEST_NAME,
  FlotillaError,
  IntegrityError,
  parseBackupManifest,
  syncDirectory,
  type BackupManifest,
} from '@flotilla/core';
import { verifyBackup, type ProgressCounts } from '@flotilla/unpack-domain';
import type { BackupEntry } from './collect.js';
import { checkedContent } from './content-check.js';
import { packMessages } from './messages.js';
import { removeStaleTemps, tempPathFor } from './temp-files.js';

export interface BackupMeta {
  domain: string;
  /** The MASTER's generation the entries are (generationOf); null when that is not known. */
  generation: number | null;
  createdAt?: Date;
  /** What wrote the backup: `pack-domain 0.1.0`, or the MASTER for boot backups. */
  tool: { name: string; version: string };
}

export interface WriteOptions {
  onProgress?: (counts: ProgressCounts) => void;
}

export interface WrittenBackup {
  path: string;
  manifest: BackupManifest;
  /** Size of the archive. */
  bytes: number;
  /** SHA-256 of the archive. */
  sha256: string;
}

/**
 * The archive holds the domain key, so only its owner may read it, wherever it is copied to.
 */
const ARCHIVE_MODE = 0o600;

/** Test-only: a pause before each file, so that a test can kill a pack midway at will. */
const testPauseMs = Number(process.env.FLOTILLA_TEST_PACK_PAUSE_MS) || 0;

/**
 * Writes a backup archive of `entries` to `target`: the manifest first (it is built from the
 * entries' listed sizes and hashes, before any content is read), then each file, checked against
 * its listing as it streams (a FileChangedError if it differs). The archive is written to a
 * temporary file beside the target, fsynced, read back completely with the restore's own checks,
 * and only then renamed over the target: the target path never holds a partial or unverified
 * archive, whatever happens midway. Temporary files of killed writers are removed first.
 */
export async function writeBackup(entries: BackupEntry[], meta: BackupMeta, target: string, options: WriteOptions = {}): Promise<WrittenBackup> {
  const createdAt = meta.createdAt ?? new Date();
  const manifest: BackupManifest = {
    formatVersion: BACKUP_FORMAT_VERSION,
    domain: meta.domain,
    generation: meta.generation,
    createdAt: createdAt.toISOString(),
    tool: meta.tool,
    files: [...entries].sort((a, b) => (a.path < b.path ? -1 : 1)).map(({ path, size, mode, sha256 }) => ({ path, size, mode, sha256 })),
  };
  const manifestText = `${JSON.stringify(manifest, null, 1)}\n`;
  if (Buffer.byteLength(manifestText) > BACKUP_LIMITS.maxManifestBytes) {
    throw new FlotillaError(packMessages.manifestTooBig(Buffer.byteLength(manifestText), BACKUP_LIMITS.maxManifestBytes));
  }
  // What the restore will accept, checked before a byte is written.
  parseBackupManifest(manifestText, target);

  await removeStaleTemps(target);
  const temp = tempPathFor(target);
  let kept = false;
  try {
    const { bytes, sha256 } = await writeArchive(temp, manifestText, entries, createdAt, options);
    const verified = await verifyBackup(temp).catch((error: unknown) => {
      throw error instanceof IntegrityError ? new IntegrityError(packMessages.selfCheckFailed(error.message), { cause: error }) : error;
    });
    if (!isDeepStrictEqual(verified.manifest, manifest)) {
      throw new IntegrityError(packMessages.selfCheckFailed(`its ${BACKUP_MANIFEST_NAME} differs from the one written`));
    }
    await rename(temp, target);
    kept = true;
    await syncDirectory(dirname(target));
    return { path: target, manifest, bytes, sha256 };
  } finally {
    if (!kept) await rm(temp, { force: true });
  }
}

async function writeArchive(
  temp: string,
  manifestText: string,
  entries: BackupEntry[],
  date: Date,
  options: WriteOptions,
): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const measure = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  const archive = new ZipArchive({ zlib: { level: 6 } });
  const written = pipeline(archive, measure, createWriteStream(temp, { flags: 'wx', mode: ARCHIVE_MODE }));
  try {
    await append(archive, Buffer.from(manifestText), { name: BACKUP_MANIFEST_NAME, mode: 0o644, date });
    const counts: ProgressCounts = { files: 0, totalFiles: entries.length, bytes: 0, totalBytes: entries.reduce((sum, e) => sum + e.size, 0) };
    for (const entry of entries) {
      if (testPauseMs) await sleep(testPauseMs);
      const content = checkedContent(entry, (count) => {
        counts.bytes += count;
        options.onProgress?.(counts);
      });
      await append(archive, content, { name: entry.path, mode: entry.mode, date });
      counts.files++;
      options.onProgress?.(counts);
    }
    await archive.finalize();
    await written;
  } catch (error) {
    archive.destroy();
    await written.catch(() => {});
    throw error;
  }
  // fsync through a fresh descriptor: it flushes the file's data whichever descriptor wrote it.
  const handle = await open(temp, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** Appends one entry and waits until the archive has consumed it, or either side fails. */
function append(archive: ZipArchive, source: Buffer | Readable, data: EntryData): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      archive.off('entry', onEntry);
      archive.off('error', onError);
      archive.off('warning', onError);
      if (!Buffer.isBuffer(source)) source.off('error', onError);
    };
    const onEntry = (entry: EntryData) => {
      if (entry.name !== data.name) return;
      cleanup();
      resolve();
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    archive.on('entry', onEntry);
    archive.on('error', onError);
    archive.on('warning', onError);
    if (!Buffer.isBuffer(source)) source.on('error', onError);
    archive.append(source, data);
  });
}
