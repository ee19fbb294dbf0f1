import { rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { syncDirectory } from '@flotilla/core/backup';
import { EncryptionThread, type EncryptedFile } from './encryption-thread.js';
import { tempPathFor } from './temp-files.js';

/**
 * Encrypts the verified plain archive `plain` for `recipients` (age format, streamed) into a
 * leftover-named file beside `target`, which alone is renamed over it: the target never holds a
 * partial file. The caller removes `plain`. Returns the encrypted file's size and SHA-256.
 */
export async function encryptBackup(plain: string, target: string, recipients: readonly string[]): Promise<EncryptedFile> {
  const encryption = EncryptionThread.start(recipients);
  try {
    return await sealBackup(target, (sealed) => encryption.encrypt(plain, sealed));
  } finally {
    await encryption.close();
  }
}

/**
 * Runs `encrypt`, which writes the encrypted archive into the leftover-named file it is given,
 * beside `target`; renames that file over `target` once it is complete and durable, and removes it
 * whatever else happens. The plain archive may still be in the making when `encrypt` is called:
 * run-pack encrypts it while it is being verified.
 */
export async function sealBackup(target: string, encrypt: (sealed: string) => Promise<EncryptedFile>): Promise<EncryptedFile> {
  const sealed = tempPathFor(target);
  try {
    const written = await encrypt(sealed);
    await rename(sealed, target);
    await syncDirectory(dirname(target));
    return written;
  } finally {
    await rm(sealed, { force: true });
  }
}
