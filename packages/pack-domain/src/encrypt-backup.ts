import { rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { sha256File, syncDirectory } from '@flotilla/core';
import { encryptFile } from '@flotilla/unpack-domain';
import { tempPathFor } from './temp-files.js';

/**
 * Encrypts the verified plain archive `plain` for `recipients` (age format, streamed) into a
 * leftover-named file beside `target`, which alone is renamed over it: the target never holds a
 * partial file. The caller removes `plain`. Returns the encrypted file's size and SHA-256.
 */
export async function encryptBackup(plain: string, target: string, recipients: readonly string[]): Promise<{ bytes: number; sha256: string }> {
  const encrypted = tempPathFor(target);
  try {
    await encryptFile(plain, encrypted, recipients);
    const bytes = (await stat(encrypted)).size;
    const sha256 = await sha256File(encrypted);
    await rename(encrypted, target);
    await syncDirectory(dirname(target));
    return { bytes, sha256 };
  } finally {
    await rm(encrypted, { force: true });
  }
}
