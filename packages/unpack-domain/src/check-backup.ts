import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { IntegrityError, UsageError, type ProgressCounts } from '@flotilla/core';
import { decryptFile, isAgeFile } from './age-file.js';
import { leftoverName, removeLeftovers } from './leftovers.js';
import { unpackMessages } from './messages.js';
import { openBackup } from './open-backup.js';
import { verifyBackup } from './verify.js';

/** What `unpack-domain --verify` (and `master backups --verify`) say of a sound backup. */
export interface CheckedBackup {
  archive: string;
  domain: string;
  generation: number | null;
  createdAt: string;
  files: number;
  bytes: number;
  encrypted: boolean;
  sound: true;
}

export interface CheckOptions {
  /** The age identity file that decrypts an encrypted archive. */
  identity?: string;
  onProgress?: (counts: ProgressCounts) => void;
}

/**
 * The plain archive to read: `archive` itself, or, for one in the age format, its content
 * decrypted into a private temporary file in `dir` (streamed, never whole in memory), which the
 * caller removes. A wrong identity is refused before anything else is read or written.
 */
export async function decryptedArchive(archive: string, identity: string | undefined, dir: string): Promise<string> {
  if (!(await isAgeFile(archive).catch(() => false))) return archive; // a missing file is reported by openBackup
  if (identity === undefined) throw new UsageError(unpackMessages.encryptedNeedsIdentity(archive));
  await mkdir(dir, { recursive: true });
  await removeLeftovers(dir);
  const plain = join(dir, leftoverName('decrypt', basename(archive)));
  try {
    await decryptFile(archive, plain, resolve(identity));
  } catch (error) {
    await rm(plain, { force: true });
    throw error;
  }
  return plain;
}

/**
 * Every check of a restore (structure, manifest, configuration, every byte), nothing written in
 * any home: an encrypted archive is decrypted into the system's temporary directory and removed.
 * A flaw is an IntegrityError (exit 4).
 */
export async function checkBackup(archive: string, options: CheckOptions = {}): Promise<CheckedBackup> {
  const plain = await decryptedArchive(archive, options.identity, tmpdir());
  try {
    await verifyBackup(plain, { onProgress: options.onProgress });
    // Its files are sound; a configuration that would not load still makes it no backup: exit 4, as for any other flaw.
    const backup = await openBackup(plain).catch((error: unknown) => {
      throw error instanceof UsageError ? new IntegrityError(error.message, { cause: error }) : error;
    });
    return {
      archive,
      domain: backup.domain,
      generation: backup.manifest.generation,
      createdAt: backup.manifest.createdAt,
      files: backup.entries.length,
      bytes: backup.bytes,
      encrypted: plain !== archive,
      sound: true,
    };
  } finally {
    if (plain !== archive) await rm(plain, { force: true });
  }
}
