import { open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { PeerClient } from '@flotilla/core';
import { BACKUP_DOWNLOAD_PATH, IntegrityError, sha256File, syncDirectory, type BackupResult } from '@flotilla/core/backup';
import { removeLeftovers, verifyBackup } from '@flotilla/unpack-domain/verification';
import { BACKUP_TIMEOUT_MS } from './through-master.js';
import { packMessages } from './messages.js';
import { backupResult } from './result.js';
import { tempPathFor } from './temp-files.js';

/**
 * `pack-domain -f FILE` from a machine without the domain: the MASTER packs one generation and
 * sends it (core's BACKUP_DOWNLOAD_PATH); it is written beside `target` under a leftover name
 * (unpack-domain's leftovers.ts: a killed run's file is removed by the next pack or unpack there),
 * made durable, verified whole as a restore would, and only then renamed over `target`.
 */
export async function receiveFromMaster(client: PeerClient, target: string): Promise<BackupResult> {
  await removeLeftovers(dirname(target));
  const temp = tempPathFor(target);
  let kept = false;
  try {
    // The archive holds the domain key: only its owner may read it.
    const file = await open(temp, 'wx', 0o600);
    try {
      await client.receive(BACKUP_DOWNLOAD_PATH, {}, { data: async (chunk) => void (await file.write(chunk)) }, BACKUP_TIMEOUT_MS);
      await file.sync();
    } finally {
      await file.close();
    }
    const verified = await verifyBackup(temp).catch((error: unknown) => {
      throw error instanceof IntegrityError ? new IntegrityError(packMessages.receivedBad(client.where, error.message), { cause: error }) : error;
    });
    const written = { path: target, manifest: verified.manifest, bytes: (await stat(temp)).size, sha256: await sha256File(temp) };
    await rename(temp, target);
    kept = true;
    await syncDirectory(dirname(target));
    return backupResult(written);
  } finally {
    if (!kept) await rm(temp, { force: true });
  }
}
